"""Hardening: production settings, CSP, login rate limiting, inert hostile text, safe inputs."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.urls import reverse

from claims import services
from claims.forms import LabelForm
from claims.importing import ArticleRecord, ImportFileError, parse_bytes
from claims.models import Annotation, Article, Source, VerificationStatus
from tests.conftest import make_user

ROOT = Path(__file__).resolve().parent.parent
PAYLOADS = (
    "<script>alert('xss')</script>",
    '<img src=x onerror="alert(1)">',
    '"><svg onload=alert(1)>',
)
HOSTILE = " ".join(PAYLOADS)


def run_manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    # Not the test run's own switches (the browser tests set DJANGO_ALLOW_ASYNC_UNSAFE).
    ours = {"SECRET_KEY", "DEBUG", "DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    clean = {k: v for k, v in os.environ.items() if k not in ours}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "project.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


PRODUCTION = {"SECRET_KEY": "k" * 64 + "-production-secret", "ALLOWED_HOSTS": "claims.example.org"}


def test_check_deploy_is_clean_with_production_settings():
    result = run_manage(PRODUCTION, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_the_development_secret_key():
    from project.settings import DEV_SECRET_KEY

    result = run_manage({**PRODUCTION, "SECRET_KEY": DEV_SECRET_KEY}, "check")
    assert result.returncode != 0
    assert "development key" in result.stderr


# --- headers -------------------------------------------------------------------------------


@pytest.fixture
def editor_client(client, editor):
    client.force_login(editor)
    return client


def test_pages_carry_a_strict_content_security_policy(editor_client, demo_article):
    response = editor_client.get(reverse("claims:review_queue"))
    policy = response.headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["script-src"] == "'self'"
    assert "unsafe-eval" not in policy
    assert "frame-ancestors 'none'" in policy
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_no_template_carries_an_inline_script_or_handler():
    offenders = []
    for path in (ROOT / "templates").rglob("*.html"):
        text = path.read_text()
        for needle in ("<script>", " onclick=", " onload=", " onerror=", "hx-on", "javascript:"):
            if needle in text:
                offenders.append(f"{path.relative_to(ROOT)}: {needle}")
    assert offenders == []


def test_htmx_is_configured_without_eval(editor_client, demo_article):
    html = editor_client.get(reverse("claims:review_queue")).content.decode()
    assert '"allowEval": false' in html


# --- login rate limiting -------------------------------------------------------------------


@override_settings(AXES_ENABLED=True, AXES_FAILURE_LIMIT=3)
def test_repeated_failed_logins_lock_the_account_out(client, annotator):
    url = reverse("login")
    for _ in range(3):
        client.post(url, {"username": annotator.username, "password": "wrong"})
    response = client.post(url, {"username": annotator.username, "password": "ann-pw"})
    assert response.status_code == 429
    assert "Too many failed logins" in response.content.decode()
    assert not response.wsgi_request.user.is_authenticated


def test_passwords_are_validated(db):
    from django.contrib.auth.password_validation import validate_password

    with pytest.raises(ValidationError):
        validate_password("password")
    with pytest.raises(ValidationError):
        validate_password("12345678")


def test_sessions_expire(settings):
    assert settings.SESSION_COOKIE_AGE <= 24 * 60 * 60
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE


# --- hostile text renders inert everywhere -------------------------------------------------


@pytest.fixture
def hostile_world(db):
    with override_settings(DEBUG=True):  # load_demo runs only in development
        call_command("load_demo", verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
    body = f"Officials said {HOSTILE} at dawn. The ministry said it was {HOSTILE}."
    article, _ = services.article_upsert(
        record=ArticleRecord(body=body, title=f"Title {HOSTILE}", outlet=f"Outlet {HOSTILE}")
    )
    annotators = list(User.objects.filter(username__in=["annotator1", "annotator2"]))
    services.assignments_create(articles=[article], annotators=annotators, overlap=2)
    source = services.source_upsert(
        name=f"Source {PAYLOADS[2]}", kind="unknown", description=f"About {HOSTILE}"
    )
    status = VerificationStatus.objects.get(code="unverified")
    for annotator in annotators:
        for sentence in article.sentences.annotatable():
            services.annotation_save(
                sentence=sentence,
                annotator=annotator,
                label={
                    "is_claim": True,
                    "source_id": source.pk,
                    "status_id": status.pk,
                    "note": f"Note {HOSTILE}",
                },
                expected_version=0,
            )
    return article


def assert_inert(html: str, where: str) -> None:
    for payload in PAYLOADS:
        assert payload not in html, f"{where} renders {payload!r} as markup"
    assert "<script>alert" not in html, where


def pages_for(article, sentence) -> dict[str, list[str]]:
    return {
        "annotator1": [
            reverse("claims:home"),
            reverse("claims:article_detail", args=[article.pk]),
            reverse("claims:annotate", args=[article.pk]),
            f"{reverse('claims:annotate', args=[article.pk])}?s={sentence.pk}",
            f"{reverse('claims:source_search')}?source=Source",
        ],
        "editor": [
            reverse("claims:home") + "?q=Title",
            reverse("claims:review_queue") + "?state=all",
            reverse("claims:review_detail", args=[sentence.pk]),
            reverse("claims:quality"),
            reverse("claims:assign"),
            reverse("claims:export"),
        ],
        "admin": [
            reverse("admin:claims_article_changelist"),
            reverse("admin:claims_article_change", args=[article.pk]),
            reverse("admin:claims_source_changelist"),
            reverse("admin:claims_annotation_changelist"),
            reverse("admin:claims_annotationevent_changelist"),
        ],
    }


def test_hostile_text_renders_inert_on_every_page(client, hostile_world):
    sentence = hostile_world.sentences.annotatable().first()
    for username, urls in pages_for(hostile_world, sentence).items():
        client.force_login(User.objects.get(username=username))
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, url
            assert_inert(response.content.decode(), f"{url} as {username}")


def test_hostile_text_renders_inert_in_htmx_partials(client, hostile_world):
    sentence = hostile_world.sentences.annotatable().first()
    client.force_login(User.objects.get(username="annotator1"))
    htmx = {"HX-Request": "true"}
    urls = [
        reverse("claims:sentence_edit", args=[hostile_world.pk, sentence.pk]),
        f"{reverse('claims:source_search')}?source=Source",
    ]
    for url in urls:
        assert_inert(client.get(url, headers=htmx).content.decode(), url)
    client.force_login(User.objects.get(username="editor"))
    url = reverse("claims:review_queue") + "?state=all"
    assert_inert(client.get(url, headers=htmx).content.decode(), url)


def test_another_annotators_note_never_reaches_the_page(client, hostile_world):
    Annotation.objects.filter(annotator__username="annotator2").update(note="SECRET-NOTE-OF-2")
    client.force_login(User.objects.get(username="annotator1"))
    html = client.get(reverse("claims:annotate", args=[hostile_world.pk])).content.decode()
    assert "SECRET-NOTE-OF-2" not in html


# --- inputs --------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["javascript:alert(1)", "data:text/html,<script>x</script>"])
def test_url_fields_reject_script_schemes(db, url):
    form = LabelForm(
        {"is_claim": "no", "version": "0", "evidence_url": url}, user=User(username="x")
    )
    assert not form.is_valid()
    assert "evidence_url" in form.errors
    with pytest.raises(ImportFileError, match="url"):
        parse_bytes(
            "a.jsonl", ".jsonl", f'{{"body": "B.", "url": "{url}"}}'.encode(), max_bytes=10_000
        )
    article = Article(title="t", body="b", url=url, checksum="0" * 64)
    with pytest.raises(ValidationError):
        article.full_clean()


def test_review_queue_ignores_orm_lookups_in_the_query_string(editor_client, demo_article):
    response = editor_client.get(
        reverse("claims:review_queue"), {"annotator__password__startswith": "pbkdf2"}
    )
    assert response.status_code == 200


def test_export_refuses_orm_lookups_in_the_query_string(client, db):
    researcher = User.objects.create_user("res", password="res-pw")
    researcher.groups.add(Group.objects.get(name="researcher"))
    client.force_login(researcher)
    response = client.get(reverse("claims:export"), {"annotator__password__startswith": "x"})
    assert response.status_code == 400


@override_settings(CLAIMDESK_MAX_IMPORT_BYTES=100)
def test_admin_uploads_have_a_size_limit(client, admin_user):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(admin_user)
    upload = SimpleUploadedFile("big.csv", b"body\n" + b"x" * 500, content_type="text/csv")
    response = client.post(
        reverse("admin:claims_source_import"), {"import_file": upload, "format": "0"}
    )
    assert "the limit is 100 bytes" in response.content.decode()
    assert Source.objects.count() == 0


# --- pseudonyms never come from the public development key ---------------------------------


@pytest.fixture
def development_key_only(db, settings):
    """What `manage.py export_dataset` without SECRET_KEY runs with (manage.py turns DEBUG on)."""
    from project.settings import DEV_SECRET_KEY

    settings.DEBUG = True
    settings.SECRET_KEY = DEV_SECRET_KEY
    settings.CLAIMDESK_PSEUDONYM_KEY = ""


def test_export_command_refuses_pseudonyms_from_the_development_key(
    development_key_only, tmp_path
):
    from tests.factories_export import build_dataset

    build_dataset()
    output = tmp_path / "labels.csv"
    with pytest.raises(CommandError, match="CLAIMDESK_PSEUDONYM_KEY"):
        call_command(
            "export_dataset", "--level", "annotations", "--output", str(output), verbosity=0
        )
    assert not output.exists()


def test_export_download_refuses_pseudonyms_from_the_development_key(development_key_only, client):
    client.force_login(make_user("res", "researcher"))
    response = client.get(reverse("claims:export_download"), {"level": "annotations"})
    assert response.status_code == 503
    assert "CLAIMDESK_PSEUDONYM_KEY" in response.content.decode()


def test_a_pseudonym_key_of_its_own_makes_exports_work_in_development(
    development_key_only, settings, tmp_path
):
    from tests.factories_export import build_dataset

    build_dataset()
    settings.CLAIMDESK_PSEUDONYM_KEY = "a-secret-pseudonym-key-of-this-installation-0123456789"
    output = tmp_path / "labels.csv"
    call_command("export_dataset", "--level", "annotations", "--output", str(output), verbosity=0)
    assert ",a-" in output.read_text()


@pytest.mark.parametrize("key", ["newsroom", "ab" * 40])  # short; long but 2 characters
def test_a_weak_pseudonym_key_is_refused(development_key_only, settings, tmp_path, key):
    from tests.factories_export import build_dataset

    build_dataset()
    settings.CLAIMDESK_PSEUDONYM_KEY = key
    output = tmp_path / "labels.csv"
    with pytest.raises(CommandError, match="pseudonym key is weak"):
        call_command(
            "export_dataset", "--level", "annotations", "--output", str(output), verbosity=0
        )
    assert not output.exists()


# --- nothing a logged-in user sees is cached -----------------------------------------------


def assert_no_store(response, where: str) -> None:
    cache_control = response.headers.get("Cache-Control", "")
    assert "no-store" in cache_control, f"{where}: Cache-Control {cache_control!r}"
    assert "private" in cache_control, where


def test_pages_partials_and_downloads_for_users_are_never_stored(client, hostile_world):
    sentence = hostile_world.sentences.annotatable().first()
    client.force_login(User.objects.get(username="annotator1"))
    annotate = reverse("claims:annotate", args=[hostile_world.pk])
    assert_no_store(client.get(annotate), annotate)
    edit = reverse("claims:sentence_edit", args=[hostile_world.pk, sentence.pk])
    assert_no_store(client.get(edit, headers={"HX-Request": "true"}), edit)
    client.force_login(User.objects.get(username="researcher"))
    for fmt in ("csv", "zip"):
        download = client.get(
            reverse("claims:export_download"), {"level": "annotations", "format": fmt}
        )
        assert download.status_code == 200
        assert_no_store(download, f"export {fmt}")
    client.force_login(User.objects.get(username="admin"))
    changelist = reverse("admin:claims_annotation_changelist")
    assert_no_store(client.get(changelist), changelist)


# --- request body limit --------------------------------------------------------------------


@override_settings(CLAIMDESK_MAX_REQUEST_BYTES=1024 * 1024)
def test_an_oversized_anonymous_post_is_refused_before_it_is_read(client, db):
    body = b"username=a&password=" + b"x" * (1024 * 1024)
    response = client.post(
        reverse("login"), body, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 413
    assert "too large" in response.content.decode()


@override_settings(CLAIMDESK_MAX_REQUEST_BYTES=1024 * 1024)
def test_a_claimed_huge_length_is_refused_without_reading_the_body(client, db):
    response = client.post(
        reverse("login"),
        b"x",
        content_type="multipart/form-data; boundary=b",
        CONTENT_LENGTH=str(300 * 1024 * 1024),
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 413
    assert 'role="alert" data-error-message' in response.content.decode()


@override_settings(CLAIMDESK_MAX_REQUEST_BYTES=1024, CLAIMDESK_MAX_IMPORT_BYTES=100_000)
def test_the_import_steps_take_the_import_limit(client, admin_user):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(admin_user)
    body = "name,kind\n" + "".join(f"Source {i},unknown\n" for i in range(2000))
    assert 1024 < len(body) < 100_000
    upload = SimpleUploadedFile("sources.csv", body.encode(), content_type="text/csv")
    response = client.post(
        reverse("admin:claims_source_import"), {"import_file": upload, "format": "0"}
    )
    assert response.status_code == 200
    too_big = SimpleUploadedFile("sources.csv", b"x" * 200_000, content_type="text/csv")
    response = client.post(
        reverse("admin:claims_source_import"), {"import_file": too_big, "format": "0"}
    )
    assert response.status_code == 413


# --- health endpoint -----------------------------------------------------------------------


def test_health_answers_ok_without_session_or_writes(client, db):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok"
    assert "Set-Cookie" not in response.headers and not response.cookies
    assert [q["sql"].strip().upper() for q in queries.captured_queries] == ["SELECT 1"]


@override_settings(SECURE_SSL_REDIRECT=True)
def test_health_is_exempt_from_the_https_redirect(client, db):
    assert client.get(reverse("login")).status_code == 301
    assert client.get("/healthz").status_code == 200


def test_health_answers_503_when_the_database_does_not():
    code = (
        "from django.test import Client; r = Client().get('/healthz'); "
        "print(r.status_code, r.content.decode())"
    )
    env = {
        **{k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DATABASE_URL"}},
        "DJANGO_SETTINGS_MODULE": "project.settings",
        "DEBUG": "1",
        "ALLOWED_HOSTS": "testserver",
        "DATABASE_URL": "postgres://nobody@127.0.0.1:9/nothing",  # nothing listens on port 9
    }
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.strip() == "503 database unavailable", result.stderr[-2000:]


# --- login throttling behind the TLS proxy -------------------------------------------------

ATTACKER, VICTIM = "203.0.113.7", "198.51.100.9"


def login_via_proxy(client, address: str, username: str, password: str, spoofed: str = ""):
    # nginx appends the address it saw to whatever X-Forwarded-For the client sent.
    forwarded = f"{spoofed}, {address}" if spoofed else address
    return client.post(
        reverse("login"),
        {"username": username, "password": password},
        headers={"X-Forwarded-For": forwarded},
        REMOTE_ADDR="10.0.0.2",  # the proxy
    )


BEHIND_PROXY = {
    "AXES_ENABLED": True,
    "AXES_FAILURE_LIMIT": 3,
    "CLAIMDESK_IP_FAILURE_LIMIT": 6,
    "CLAIMDESK_TRUSTED_PROXY_COUNT": 1,
}


@override_settings(**BEHIND_PROXY)
def test_behind_the_proxy_nobody_can_lock_out_someone_else(client, admin_user):
    admin_user.set_password("admin-pw")
    admin_user.save()
    for _ in range(5):
        login_via_proxy(client, ATTACKER, admin_user.username, "guess")
    assert login_via_proxy(client, ATTACKER, admin_user.username, "admin-pw").status_code == 429
    # A spoofed X-Forwarded-For entry does not make the attacker someone else.
    response = login_via_proxy(client, ATTACKER, admin_user.username, "admin-pw", VICTIM)
    assert response.status_code == 429

    response = login_via_proxy(client, VICTIM, admin_user.username, "admin-pw")
    assert response.status_code == 302
    assert response.wsgi_request.user == admin_user


@override_settings(**BEHIND_PROXY)
def test_password_spraying_from_one_address_is_throttled(client, db):
    users = [make_user(f"user{i}", "annotator") for i in range(8)]
    # The sprayer owns an account; logging into it must not clear the address's count.
    sprayer = make_user("sprayer", "annotator")
    for number, user in enumerate(users[:6], start=1):
        response = login_via_proxy(client, ATTACKER, user.username, "Summer2024!")
        # axes answers the failure that reaches the limit with the lockout page already.
        assert response.status_code == (429 if number == 6 else 200)
        login_via_proxy(client, ATTACKER, sprayer.username, "sprayer-pw")
        client.logout()
    # Six usernames, one failure each: the address is now refused for every username.
    assert login_via_proxy(client, ATTACKER, users[7].username, "user7-pw").status_code == 429
    # Everyone else is not.
    assert login_via_proxy(client, VICTIM, users[7].username, "user7-pw").status_code == 302


@override_settings(**BEHIND_PROXY)
def test_change_password_counts_wrong_old_passwords(client, annotator):
    client.force_login(annotator)
    url = reverse("password_change")
    headers = {"X-Forwarded-For": ATTACKER}
    new = {"new_password1": "a-new-long-pass-77", "new_password2": "a-new-long-pass-77"}
    for _ in range(3):
        response = client.post(url, {"old_password": "wrong", **new}, headers=headers)
        assert response.status_code in (200, 429)
    response = client.post(url, {"old_password": "ann-pw", **new}, headers=headers)
    assert response.status_code == 429
    annotator.refresh_from_db()
    assert annotator.check_password("ann-pw")


@override_settings(**{**BEHIND_PROXY, "AXES_FAILURE_LIMIT": 5})
def test_change_password_still_works_with_the_right_old_password(client, annotator):
    client.force_login(annotator)
    url = reverse("password_change")
    client.post(url, {"old_password": "wrong", "new_password1": "x", "new_password2": "x"})
    new = {"new_password1": "a-new-long-pass-77", "new_password2": "a-new-long-pass-77"}
    response = client.post(url, {"old_password": "ann-pw", **new})
    assert response.status_code == 302
    annotator.refresh_from_db()
    assert annotator.check_password("a-new-long-pass-77")


@pytest.mark.parametrize(
    ("count", "forwarded", "expected"),
    [
        (0, "203.0.113.7", "10.0.0.2"),  # no proxy: the header is the client's own words
        (1, "203.0.113.7", "203.0.113.7"),
        (1, "198.51.100.9, 203.0.113.7", "203.0.113.7"),
        (2, "198.51.100.9, 203.0.113.7, 10.0.0.3", "203.0.113.7"),
        (1, "", "10.0.0.2"),  # reached without the proxy
        (1, "not-an-address", "10.0.0.2"),
        (1, "203.0.113.7:51234", "203.0.113.7"),  # a port is dropped, not the proxy taken
        (1, "[2001:db8::1]:443", "2001:db8::"),
        (1, "2001:db8::1:2:3:4", "2001:db8::"),  # IPv6 counts per /64: one host rotates in it
    ],
)
def test_client_ip_takes_the_trusted_proxys_entry(rf, settings, count, forwarded, expected):
    from claims.throttling import client_ip

    settings.CLAIMDESK_TRUSTED_PROXY_COUNT = count
    request = rf.get("/", headers={"X-Forwarded-For": forwarded}, REMOTE_ADDR="10.0.0.2")
    assert client_ip(request) == expected


def test_forwarded_for_counts_only_from_the_trusted_proxies(rf, settings):
    from claims.throttling import client_ip

    settings.CLAIMDESK_TRUSTED_PROXY_COUNT = 1
    settings.CLAIMDESK_TRUSTED_PROXIES = ["10.0.0.0/24"]
    header = {"X-Forwarded-For": "203.0.113.7"}
    assert client_ip(rf.get("/", headers=header, REMOTE_ADDR="10.0.0.2")) == "203.0.113.7"
    # straight to the app server: the client's own header is not believed
    assert client_ip(rf.get("/", headers=header, REMOTE_ADDR="198.51.100.4")) == "198.51.100.4"
