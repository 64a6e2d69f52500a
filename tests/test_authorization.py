"""Every URL, requested as every role, answers as the table below says.

The URLs come from the URL configuration itself: a new URL without an entry here fails
`test_every_url_has_an_expectation`, so no view can be forgotten.
"""

import pytest
from django.contrib.auth.models import Group, User
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.test import override_settings
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse
from rest_framework.test import APIClient

from claims import tokens
from claims.models import Article, Job, Source

ROLES = ("anonymous", "annotator", "outsider", "editor", "researcher", "admin")
# annotator: assigned to the demo article; outsider: an annotator without that assignment.
USERS = {
    "annotator": "annotator1",
    "outsider": "outsider",
    "editor": "editor",
    "researcher": "researcher",
    "admin": "admin",
}


def row(*statuses: int) -> dict[str, int]:
    return dict(zip(ROLES, statuses, strict=True))


ALL_405 = row(405, 405, 405, 405, 405, 405)
EDITORS = row(302, 403, 403, 200, 403, 200)

API_ALL = row(200, 200, 200, 200, 200, 200)
API_READ = row(401, 200, 200, 200, 200, 200)
API_NONE = row(401, 405, 405, 405, 405, 405)
API_EDITORS_WRITE = row(401, 403, 403, 400, 403, 400)
API_DATASETS = row(401, 403, 403, 200, 200, 200)
# The REST API: 401 without credentials (a session here, a token in test_api_with_tokens).
API_EXPECTED = {
    "api:article-list": (API_READ, API_EDITORS_WRITE),
    "api:article-detail": (row(401, 200, 404, 200, 200, 200), row(401, 403, 403, 405, 403, 405)),
    "api:source-list": (API_READ, API_EDITORS_WRITE),
    "api:source-detail": (API_READ, row(401, 403, 403, 405, 403, 405)),
    "api:status-list": (API_READ, API_NONE),
    "api:assignment-list": (API_READ, API_EDITORS_WRITE),
    "api:annotation-list": (API_READ, API_NONE),
    "api:gold-label-list": (API_DATASETS, row(401, 403, 403, 405, 405, 405)),
    "api:export-list": (API_DATASETS, row(401, 403, 403, 400, 400, 400)),
    "api:export-detail": (row(401, 403, 403, 200, 404, 200), row(401, 403, 403, 405, 405, 405)),
    "api:export-download": (
        row(401, 403, 403, 200, 404, 200),
        row(401, 403, 403, 405, 405, 405),
    ),
    "api:job-list": (API_READ, API_NONE),
    "api:job-detail": (row(401, 404, 404, 200, 404, 200), API_NONE),
    "api:job-download": (row(401, 404, 404, 200, 404, 200), API_NONE),
    "api:schema": (API_ALL, ALL_405),
    "api:docs": (API_ALL, ALL_405),
}

# name: (GET expectations, POST-with-empty-data expectations)
EXPECTED = {
    "login": (row(200, 200, 200, 200, 200, 200), row(200, 200, 200, 200, 200, 200)),
    "logout": (ALL_405, row(302, 302, 302, 302, 302, 302)),
    "password_change": (row(302, 200, 200, 200, 200, 200), row(302, 200, 200, 200, 200, 200)),
    "password_change_done": (row(302, 200, 200, 200, 200, 200), row(302, 405, 405, 405, 405, 405)),
    "claims:home": (row(302, 200, 200, 200, 200, 200), ALL_405),
    "claims:article_detail": (row(302, 200, 404, 200, 200, 200), ALL_405),
    "claims:annotate": (row(302, 200, 404, 404, 404, 404), ALL_405),
    "claims:undo": (ALL_405, row(302, 302, 404, 404, 404, 404)),
    "claims:sentence_edit": (row(302, 302, 404, 404, 404, 404), ALL_405),
    "claims:sentence_save": (ALL_405, row(302, 422, 404, 404, 404, 404)),
    "claims:source_propose": (ALL_405, row(302, 302, 404, 404, 404, 404)),
    "claims:source_search": (row(302, 200, 200, 200, 200, 200), ALL_405),
    "claims:assign": (EDITORS, EDITORS),
    # The world's source is active and not merged: approving it changes nothing, undoing its
    # merge finds none; an empty edit or merge form is refused.
    "claims:source_list": (EDITORS, ALL_405),
    "claims:source_detail": (EDITORS, row(302, 403, 403, 422, 403, 422)),
    "claims:source_approve": (ALL_405, row(302, 403, 403, 302, 403, 302)),
    "claims:source_merge": (EDITORS, row(302, 403, 403, 422, 403, 422)),
    "claims:source_unmerge": (ALL_405, row(302, 403, 403, 404, 403, 404)),
    "claims:import_articles": (EDITORS, row(302, 403, 403, 422, 403, 422)),
    "claims:review_queue": (EDITORS, ALL_405),
    "claims:review_bulk_accept": (EDITORS, row(302, 403, 403, 302, 403, 302)),
    "claims:review_detail": (EDITORS, ALL_405),
    "claims:review_accept": (ALL_405, row(302, 403, 403, 404, 403, 404)),
    "claims:review_correct": (ALL_405, row(302, 403, 403, 422, 403, 422)),
    "claims:review_send_back": (ALL_405, row(302, 403, 403, 422, 403, 422)),
    "claims:quality": (EDITORS, ALL_405),
    "claims:export": (row(302, 403, 403, 200, 200, 200), ALL_405),
    "claims:export_download": (row(302, 403, 403, 200, 200, 200), ALL_405),
    "claims:export_job": (ALL_405, row(302, 403, 403, 302, 302, 302)),
    "healthz": (row(200, 200, 200, 200, 200, 200), ALL_405),
    # The job in `world` is the researcher's: only they and admins see it.
    "claims:job_list": (row(302, 200, 200, 200, 200, 200), ALL_405),
    "claims:job_detail": (row(302, 404, 404, 404, 200, 200), ALL_405),
    "claims:job_retry": (ALL_405, row(302, 404, 404, 404, 302, 302)),
    "claims:job_download": (row(302, 404, 404, 404, 410, 410), ALL_405),  # a job without a file
    "claims:suggestions_refresh_start": (ALL_405, row(302, 403, 403, 302, 403, 302)),
    # The user's own API tokens (the world's token is the editor's).
    "claims:token_list": (row(302, 200, 200, 200, 200, 200), ALL_405),
    "claims:token_create": (ALL_405, row(302, 422, 422, 422, 422, 422)),
    "claims:token_revoke": (ALL_405, row(302, 302, 302, 302, 302, 302)),
    **API_EXPECTED,
}
# The admin is for staff only: everyone else is sent to its login page.
ADMIN_NON_STAFF = 302


def url_names(patterns=None, namespace=None):
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(pattern, URLResolver):
            yield from url_names(pattern.url_patterns, pattern.namespace or namespace)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield f"{namespace}:{pattern.name}" if namespace else pattern.name


def all_url_names() -> list[str]:
    return sorted(set(url_names()))


def test_every_url_has_an_expectation():
    missing = [n for n in all_url_names() if not n.startswith("admin:") and n not in EXPECTED]
    assert missing == [], f"add these URLs to EXPECTED in {__name__}: {missing}"
    stale = [n for n in EXPECTED if n not in all_url_names()]
    assert stale == [], f"these URLs no longer exist: {stale}"


@pytest.fixture
def world(db):
    with override_settings(DEBUG=True):  # load_demo runs only in development
        call_command("load_demo", verbosity=0, stdout=open("/dev/null", "w"))  # noqa: SIM115
    outsider = User.objects.create_user("outsider", password="outsider-pw")
    outsider.groups.add(Group.objects.get(name="annotator"))
    article = Article.objects.order_by("pk").first()  # the English demo article
    sentence = article.sentences.annotatable().first()
    # The pages' job URLs ask for the researcher's finished export whose file has expired.
    job = Job.objects.create(
        kind=Job.Kind.EXPORT,
        started_by=User.objects.get(username="researcher"),
        state=Job.State.SUCCEEDED,
    )
    # The API's job URLs ask for the editor's finished export, with its file.
    editor = User.objects.get(username="editor")
    export = Job.objects.create(kind="export", started_by=editor, state="succeeded")
    export.file.save("export.csv", ContentFile(b"sentence_id\n"))
    token, _ = tokens.token_create(user=editor, name="editor's script")
    return {
        "article_id": article.pk,
        "sentence_id": sentence.pk,
        "job_id": job.pk,
        "export_id": export.pk,
        "token_id": token.pk,
        "source_id": Source.objects.order_by("pk").first().pk,
    }


# The id each API detail URL takes (its "pk").
API_PK = {
    "article": "article_id",
    "source": "source_id",
    "export": "export_id",
    "job": "export_id",
}


def url_for(name: str, world: dict) -> str:
    resource = name.removeprefix("api:").rsplit("-", 1)[0]
    for candidate in (
        {},
        {"article_id": world["article_id"]},
        {"article_id": world["article_id"], "sentence_id": world["sentence_id"]},
        {"sentence_id": world["sentence_id"]},
        {"job_id": world["job_id"]},
        {"token_id": world["token_id"]},
        {"source_id": world["source_id"]},
        {"pk": world[API_PK[resource]]} if resource in API_PK else {},
    ):
        try:
            return reverse(name, kwargs=candidate or None)
        except NoReverseMatch:  # the URL takes other arguments
            continue
    raise AssertionError(f"cannot build a URL for {name}")


def client_for(client, role: str):
    if role != "anonymous":
        client.force_login(User.objects.get(username=USERS[role]))
    return client


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_url_answers_each_role_as_expected(client, world, name, role):
    url = url_for(name, world)
    get_expected, post_expected = EXPECTED[name]
    client = client_for(client, role)

    got = client.get(url).status_code
    posted = client.post(url).status_code

    assert (got, posted) == (get_expected[role], post_expected[role]), f"{name} as {role}"


def api_client_for(role: str) -> APIClient:
    """A client sending a new API token of the role's user (none when anonymous)."""
    client = APIClient()
    if role != "anonymous":
        _, key = tokens.token_create(user=User.objects.get(username=USERS[role]), name="matrix")
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def writes_expected(posted: dict[str, int]) -> dict[str, int]:
    """PUT, PATCH, DELETE: refused as POST is (401, 403), else no such method (405)."""
    return {role: status if status in (401, 403) else 405 for role, status in posted.items()}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", sorted(API_EXPECTED))
def test_api_with_tokens_answers_each_role_and_method(world, name, role):
    cache.clear()  # the rate limits
    url = url_for(name, world)
    get_expected, post_expected = API_EXPECTED[name]
    client = api_client_for(role)
    expected = {
        "get": get_expected[role],
        "post": post_expected[role],
        **dict.fromkeys(("put", "patch", "delete"), writes_expected(post_expected)[role]),
    }

    got = {
        method: getattr(client, method)(url, {}, format="json").status_code for method in expected
    }

    assert got == expected, f"{name} as {role}"


ADMIN_URLS = [
    "admin:index",
    "admin:claims_article_changelist",
    "admin:claims_article_add",
    "admin:claims_article_import",
    "admin:claims_article_export",
    "admin:claims_source_changelist",
    "admin:claims_source_import",
    "admin:claims_verificationstatus_changelist",
    "admin:claims_annotation_changelist",
    "admin:claims_annotation_export",
    "admin:claims_goldlabel_changelist",
    "admin:claims_annotationevent_changelist",
    "admin:auth_user_changelist",
]


@pytest.mark.parametrize("role", [r for r in ROLES if r != "admin"])
@pytest.mark.parametrize("name", ADMIN_URLS)
def test_admin_is_for_staff_only(client, world, name, role):
    response = client_for(client, role).get(reverse(name))
    assert response.status_code == ADMIN_NON_STAFF
    assert response.url.startswith(reverse("admin:login"))


@pytest.mark.parametrize("name", ADMIN_URLS)
def test_admin_pages_open_for_admins(client, world, name):
    # The article import leads to the import page (a job), which opens for admins too.
    response = client_for(client, "admin").get(reverse(name), follow=True)
    assert response.status_code == 200


def test_every_admin_url_is_staff_only(client, world):
    """Beyond the list above: no admin URL answers 200 to a non-staff user."""
    client = client_for(client, "editor")
    for name in all_url_names():
        if not name.startswith("admin:") or name in {"admin:login", "admin:logout"}:
            continue
        try:
            url = reverse(name)
        except NoReverseMatch:  # needs an object id: covered by the model admins
            continue
        assert client.get(url).status_code in (302, 404), name
