"""The import page (/import/): who may use it, what it refuses, the job it starts, and the
per-file summary on the job's page with its link to the assign page."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from claims.models import Article, Job
from tests.conftest import make_user
from tests.factories import csv_text

pytestmark = pytest.mark.django_db

URL = reverse("claims:import_articles")
BODY = "Officials said the bridge reopened on Monday. Traffic resumed later."


@pytest.fixture(autouse=True)
def _job_files(settings, tmp_path):
    """Job ids start again in every test: each test's job files in a folder of its own."""
    settings.STORAGES = {
        **settings.STORAGES,
        "jobs": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "jobs")},
        },
    }


@pytest.fixture
def editor_client(client, editor):
    client.force_login(editor)
    return client


def upload(name: str, data: bytes | str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data.encode() if isinstance(data, str) else data)


@pytest.mark.parametrize(("role", "status"), [("editor", 200), ("admin", 200)])
def test_editors_and_admins_get_the_form(client, role, status):
    client.force_login(make_user("someone", role))

    response = client.get(URL)

    assert response.status_code == status
    html = response.content.decode()
    assert 'enctype="multipart/form-data"' in html and 'name="files" multiple' in html
    assert f'href="{URL}"' in html  # the nav link


@pytest.mark.parametrize("role", ["annotator", "researcher"])
def test_annotators_and_researchers_are_refused(client, role):
    client.force_login(make_user("someone", role))

    assert client.get(URL).status_code == 403
    assert client.post(URL, {"text": BODY}).status_code == 403
    assert Job.objects.count() == 0
    assert f'href="{URL}"' not in client.get(reverse("claims:home")).content.decode()


def test_anonymous_is_sent_to_log_in(client):
    assert client.get(URL).status_code == 302


def test_no_input_is_an_error(editor_client):
    response = editor_client.post(URL, {"text": "  \n", "outlet": "AP"})

    assert response.status_code == 422
    assert "Choose one or more files, or paste an article" in response.content.decode()
    assert Job.objects.count() == 0


def test_a_file_over_the_limit_is_refused(editor_client, settings):
    settings.CLAIMDESK_MAX_IMPORT_BYTES = 100

    response = editor_client.post(URL, {"files": [upload("big.txt", "x" * 101)]})

    assert response.status_code == 422
    assert "big.txt is 101 bytes; the limit is 100 bytes per file." in response.content.decode()
    assert Job.objects.count() == 0


def test_a_file_of_another_type_is_refused(editor_client):
    response = editor_client.post(URL, {"files": [upload("report.pdf", b"%PDF-1.4")]})

    assert response.status_code == 422
    assert "report.pdf: the type &#x27;.pdf&#x27; cannot be imported" in response.content.decode()
    assert Job.objects.count() == 0


def test_too_many_files_are_refused(editor_client, settings):
    settings.CLAIMDESK_MAX_IMPORT_FILES = 2
    files = [upload(f"{n}.txt", BODY) for n in range(3)]

    response = editor_client.post(URL, {"files": files})

    assert response.status_code == 422
    assert "3 files; at most 2 at once." in response.content.decode()


def test_a_bad_date_is_an_error(editor_client):
    response = editor_client.post(URL, {"text": BODY, "published_on": "24/02/2024"})

    assert response.status_code == 422
    assert Job.objects.count() == 0


def test_files_and_pasted_text_start_one_job_and_lead_to_it(editor_client, editor):
    files = [
        upload("a.csv", csv_text([{"body": "Police said the road was closed. It reopened."}])),
        upload("a.csv", "date 2024-01-02\n\nThe mayor said the water was back. Good news."),
    ]
    response = editor_client.post(
        URL,
        {"files": files, "text": BODY, "outlet": " Reuters ", "published_on": "2024-02-24"},
    )

    job = Job.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("claims:job_detail", args=[job.pk])
    assert job.kind == Job.Kind.IMPORT and job.started_by == editor
    assert job.params == {
        "files": ["a.csv", "a-2.csv", "pasted.txt"],
        "outlet": "Reuters",
        "published_on": "2024-02-24",
    }
    # The immediate backend ran it; the .txt content named .csv fails alone.
    job.refresh_from_db()
    assert [f["created"] for f in job.result["files"]] == [1, 0, 1]
    assert Article.objects.get(body=BODY).outlet == "Reuters"


def test_the_summary_shows_each_file_the_totals_and_the_assign_link(editor_client):
    bad = csv_text([{"body": BODY}, {"body": "Second row.", "url": "ftp://example.org/x"}])
    editor_client.post(URL, {"files": [upload("bad.csv", bad)], "text": BODY})
    job = Job.objects.get()

    html = editor_client.get(reverse("claims:job_detail", args=[job.pk])).content.decode()

    assert "<html" in html
    assert "<strong>1</strong> created" in html and "1 file failed" in html
    assert (
        "bad.csv, row 2: url &#x27;ftp://example.org/x&#x27; is not a valid http(s) address"
        in html
    )
    assert "pasted.txt" in html
    assert f'href="{reverse("claims:assign")}?job={job.pk}"' in html
    assert "Assign the 1 new or updated article" in html


def test_the_summary_partial_alone_for_htmx(editor_client):
    editor_client.post(URL, {"text": BODY})
    job = Job.objects.get()

    html = editor_client.get(
        reverse("claims:job_detail", args=[job.pk]), headers={"HX-Request": "true"}
    ).content.decode()

    assert 'id="job-status"' in html and "<html" not in html
    assert "pasted.txt" in html and "import-summary" in html


def test_the_assign_page_ticks_the_articles_of_the_job(editor_client, editor):
    other = Article.objects.create(title="Old", body="Old text.", checksum="0" * 64)
    editor_client.post(URL, {"text": BODY})
    job = Job.objects.get()
    new = Article.objects.get(body=BODY)

    html = editor_client.get(f"{reverse('claims:assign')}?job={job.pk}").content.decode()

    assert f'value="{new.pk}" checked' in html
    assert f'value="{other.pk}" checked' not in html


def test_the_assign_page_ignores_a_job_of_someone_else(client, editor):
    other_editor = make_user("ed2", "editor")
    client.force_login(editor)
    client.post(URL, {"text": BODY})
    job = Job.objects.get()
    new = Article.objects.get(body=BODY)
    client.force_login(other_editor)

    for query in (f"?job={job.pk}", "?job=x", "?job=99999999999999999999"):
        html = client.get(f"{reverse('claims:assign')}{query}").content.decode()
        assert f'value="{new.pk}" checked' not in html


def test_the_import_page_takes_a_body_larger_than_one_file(client, editor, settings):
    settings.CLAIMDESK_MAX_IMPORT_BYTES = 1000
    settings.CLAIMDESK_MAX_IMPORT_FILES = 3
    client.force_login(editor)

    ok = client.get(URL, CONTENT_LENGTH=str(2500 + 64 * 1024))
    too_large = client.get(URL, CONTENT_LENGTH=str(3000 + 64 * 1024 + 1))

    assert ok.status_code == 200
    assert too_large.status_code == 413


def test_the_admin_article_import_sends_to_the_import_page(client, admin_user):
    client.force_login(admin_user)

    for url in (
        reverse("admin:claims_article_import"),
        reverse("admin:claims_article_process_import"),
    ):
        response = client.post(url, {"import_file": upload("a.csv", csv_text([{"body": BODY}]))})
        assert response.status_code == 302 and response["Location"] == URL
    response = client.get(reverse("admin:claims_article_import"), follow=True)
    assert "as a background job" in response.content.decode()
    assert Article.objects.count() == 0 and Job.objects.count() == 0
