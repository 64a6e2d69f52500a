"""Exports as jobs: the runner's file is the streamed download's, it expires and is private,
and the export page switches its buttons to jobs past the thresholds."""

import datetime as dt
import gc
import io
import json
import re
import threading
import zipfile

import pytest
from django.db import connection, transaction
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from claims import dataset, jobs
from claims.jobs import exports
from claims.models import Job
from tests.conftest import make_user
from tests.factories_export import build_dataset, parse_csv

pytestmark = pytest.mark.django_db

PAGE_URL = reverse("claims:export")
DOWNLOAD_URL = reverse("claims:export_download")
JOB_URL = reverse("claims:export_job")
HX = {"HX-Request": "true"}
ANNOTATION_ROWS = 14  # build_dataset() at level "annotations"


@pytest.fixture
def data(db):
    return build_dataset()


@pytest.fixture
def researcher(db):
    return make_user("res", "researcher")


@pytest.fixture
def res_client(client, researcher):
    client.force_login(researcher)
    return client


def body_of(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def streamed(client, **params) -> bytes:
    response = client.get(DOWNLOAD_URL, params)
    assert response.status_code == 200
    return body_of(response)


def export_job(user, **query) -> Job:
    job = exports.export_start(user=user, query=query)
    job.refresh_from_db()
    assert job.state == Job.State.SUCCEEDED, job.error
    return job


def file_of(job: Job) -> bytes:
    with job.file.open("rb") as handle:
        return handle.read()


# --- the runner ----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "claimreview"])
@pytest.mark.parametrize("query", [{"level": "annotations"}, {"claims_only": "on"}])
def test_the_job_file_is_the_streamed_download(res_client, researcher, data, fmt, query):
    job = export_job(researcher, format=fmt, **query)

    assert file_of(job) == streamed(res_client, format=fmt, **query)
    assert job.file_name.endswith(
        {"csv": ".csv", "jsonl": ".jsonl", "claimreview": ".jsonld"}[fmt]
    )


def test_the_job_records_rows_progress_name_and_expiry(researcher, data):
    before = timezone.now()
    job = export_job(researcher, format="csv", level="annotations", outlets=["Reuters"])

    rows = len(parse_csv(file_of(job)))
    assert job.result == {"rows": rows, "format": "csv"}
    assert job.done == job.total == rows
    assert re.fullmatch(r"claimdesk-annotations-\d{8}-\d{6}\.csv", job.file_name)
    hours = dt.timedelta(hours=72)
    assert before + hours <= job.expires_at <= timezone.now() + hours
    assert job.params == {
        "query": {"format": "csv", "level": "annotations", "outlets": ["Reuters"]}
    }


def test_the_zip_bundle_is_the_streamed_one_and_its_card_names_the_job(
    res_client, researcher, data
):
    job = export_job(researcher, format="zip", level="annotations")

    stored = zipfile.ZipFile(io.BytesIO(file_of(job)))
    direct = zipfile.ZipFile(io.BytesIO(streamed(res_client, format="zip", level="annotations")))
    assert stored.namelist() == direct.namelist()
    for name in direct.namelist():
        if name not in ("README.md", "card.json"):
            assert stored.read(name) == direct.read(name), name
    card = json.loads(stored.read("card.json"))
    who = dataset.pseudonymizer()(researcher.pk)
    assert who.startswith("a-")  # not the username
    assert card["job"] == {
        "id": job.pk,
        "started_by": who,
        "started_at": job.created_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    assert f"- Export job: #{job.pk}, started by {who} at " in stored.read("README.md").decode()
    assert "job" not in json.loads(direct.read("card.json"))
    assert job.result == {"rows": ANNOTATION_ROWS, "format": "zip"}


def test_a_rerun_rewrites_the_file_whole(researcher, data):
    job = export_job(researcher, format="jsonl", level="annotations")
    first = job.file.name

    exports.run(job, jobs.Progress(job))
    job.refresh_from_db()

    storage = job.file.storage
    _, names = storage.listdir(f"jobs/{job.pk}")
    assert names == [job.file_name]
    assert file_of(job).count(b"\n") == ANNOTATION_ROWS
    assert first == job.file.name or not storage.exists(first)


def test_invalid_filters_fail_the_job_with_a_message(researcher, data):
    job = exports.export_start(user=researcher, query={"date_from": "tomorrow", "format": "csv"})
    job.refresh_from_db()

    assert job.state == Job.State.FAILED
    assert "date_from" in job.error and not job.file


# --- download: expiry and privacy ----------------------------------------------------------


def test_an_expired_download_is_gone_and_pruning_removes_the_file(res_client, researcher, data):
    job = export_job(researcher, format="csv")
    url = reverse("claims:job_download", args=[job.pk])
    assert res_client.get(url).status_code == 200
    Job.objects.filter(pk=job.pk).update(expires_at=timezone.now() - dt.timedelta(minutes=1))

    assert res_client.get(url).status_code == 410
    path = job.file.name
    assert job.file.storage.exists(path)
    assert jobs.jobs_prune() == 1
    job.refresh_from_db()
    assert not job.file and not job.file.storage.exists(path)
    assert res_client.get(url).status_code == 410
    page = res_client.get(reverse("claims:job_detail", args=[job.pk])).content.decode()
    assert "The file has expired and was removed." in page


def test_the_next_job_prunes_expired_files(researcher, data):
    old = export_job(researcher, format="csv")
    Job.objects.filter(pk=old.pk).update(expires_at=timezone.now() - dt.timedelta(hours=1))

    export_job(researcher, format="jsonl")

    old.refresh_from_db()
    assert not old.file


def test_the_file_is_private_to_who_started_it_and_admins(client, researcher, data):
    job = export_job(researcher, format="csv", level="annotations")
    download = reverse("claims:job_download", args=[job.pk])
    detail = reverse("claims:job_detail", args=[job.pk])

    client.force_login(make_user("other-researcher", "researcher"))
    assert client.get(download).status_code == 404
    assert client.get(detail).status_code == 404

    client.force_login(make_user("boss", "admin"))
    response = client.get(download)
    assert response.status_code == 200
    assert body_of(response) == file_of(job)
    assert response["Content-Disposition"] == f'attachment; filename="{job.file_name}"'

    client.force_login(researcher)
    assert client.get(download).status_code == 200


# --- the page: streamed or a job -----------------------------------------------------------


def job_buttons(html: str) -> list[str]:
    """The formats whose button starts a job."""
    return re.findall(r'<button[^>]*formaction="[^"]*\?format=(\w+)"[^>]*data-job', html)


@override_settings(CLAIMDESK_EXPORT_JOB_ROWS=ANNOTATION_ROWS, CLAIMDESK_EXPORT_JOB_ROWS_ZIP=5)
def test_past_the_thresholds_the_buttons_start_jobs(res_client, data):
    at = res_client.get(PAGE_URL, {"level": "annotations"}).content.decode()

    # At the threshold everything streams but the ZIP bundle (its own, lower threshold).
    assert job_buttons(at) == ["zip"]
    assert "the ZIP bundle runs in the background" in at
    with override_settings(CLAIMDESK_EXPORT_JOB_ROWS=ANNOTATION_ROWS - 1):
        html = res_client.get(PAGE_URL, {"level": "annotations"}).content.decode()
    assert job_buttons(html) == ["csv", "jsonl", "zip", "claimreview"]
    assert (
        f"<strong>{ANNOTATION_ROWS}</strong> rows with these filters: this export runs in "
        "the background" in html
    )
    assert 'name="csrfmiddlewaretoken"' in html


@override_settings(CLAIMDESK_EXPORT_JOB_ROWS=1000, CLAIMDESK_EXPORT_JOB_ROWS_ZIP=1000)
def test_under_the_thresholds_every_button_streams(res_client, data):
    html = res_client.get(PAGE_URL, {"level": "annotations"}).content.decode()

    assert job_buttons(html) == []
    assert "in the background" not in html
    form = html[html.index('id="export-form"') : html.index("</form>", html.index("export-form"))]
    assert "csrfmiddlewaretoken" not in form  # never in a GET form's query string


@override_settings(CLAIMDESK_EXPORT_JOB_ROWS=100_000, CLAIMDESK_EXPORT_JOB_ROWS_ZIP=0)
def test_with_the_zip_threshold_at_0_the_bundle_is_always_a_job(res_client, data):
    counted = res_client.get(PAGE_URL, {"level": "annotations"}).content.decode()
    bare = res_client.get(PAGE_URL).content.decode()  # counts later, in an htmx request

    assert job_buttons(counted) == job_buttons(bare) == ["zip"]
    assert "the ZIP bundle runs in the background" in counted


@override_settings(CLAIMDESK_EXPORT_JOB_ROWS=1, CLAIMDESK_EXPORT_JOB_ROWS_ZIP=1)
def test_the_htmx_count_swaps_the_buttons_out_of_band(res_client, data):
    partial = res_client.get(PAGE_URL, {"level": "annotations"}, headers=HX).content.decode()

    assert '<div class="download-buttons" id="download-buttons" hx-swap-oob="true">' in partial
    assert job_buttons(partial) == ["csv", "jsonl", "zip", "claimreview"]
    assert "<html" not in partial


@override_settings(CLAIMDESK_EXPORT_JOB_ROWS=1)
def test_a_job_button_posts_with_its_csrf_token_and_lands_on_the_job_page(researcher, data):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(researcher)
    html = browser.get(PAGE_URL, {"level": "annotations"}).content.decode()
    token = re.search(
        r'formaction="[^"]*\?format=jsonl" name="csrfmiddlewaretoken" '
        r'value="([^"]+)"',
        html,
    ).group(1)

    refused = browser.post(f"{JOB_URL}?format=jsonl", {"level": "annotations"})
    response = browser.post(
        f"{JOB_URL}?format=jsonl", {"level": "annotations", "csrfmiddlewaretoken": token}
    )

    assert refused.status_code == 403
    job = Job.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("claims:job_detail", args=[job.pk])
    assert job.kind == Job.Kind.EXPORT and job.started_by == researcher
    assert job.params == {"query": {"level": "annotations", "format": "jsonl"}}
    page = browser.get(response["Location"]).content.decode()
    assert f'href="{reverse("claims:job_download", args=[job.pk])}"' in page
    assert f"{ANNOTATION_ROWS} rows exported." in page


def test_starting_a_job_needs_the_export_permission(client, data):
    client.force_login(make_user("ann-x", "annotator"))

    assert client.post(f"{JOB_URL}?format=csv", {}).status_code == 403
    assert client.get(f"{JOB_URL}?format=csv").status_code == 405
    assert not Job.objects.exists()


def test_bad_filters_start_no_job(res_client, data):
    invalid = res_client.post(f"{JOB_URL}?format=csv", {"date_from": "tomorrow"})
    unknown = res_client.post(f"{JOB_URL}?format=csv", {"colour": "red"})

    assert invalid.status_code == 422 and unknown.status_code == 400
    assert not Job.objects.exists()


# --- progress beside the export's transaction ----------------------------------------------


def read_elsewhere(job: Job) -> dict:
    """The job's progress as another connection (the job page's request) sees it."""
    seen = {}

    def read() -> None:
        try:
            seen.update(Job.objects.filter(pk=job.pk).values("step", "done", "total").get())
        finally:
            connection.close()

    thread = threading.Thread(target=read)
    thread.start()
    thread.join()
    return seen


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_progress_is_written_through_a_connection_of_its_own(researcher):
    job = Job.objects.create(kind=Job.Kind.EXPORT, started_by=researcher, params={})
    progress = exports.OwnConnectionProgress(job)

    progress.step("Writing", total=10)
    progress.advance(4)
    progress.flush()

    assert read_elsewhere(job) == {"step": "Writing", "done": 4, "total": 10}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_progress_shows_while_the_export_reads_in_its_transaction(researcher):
    # On PostgreSQL the rows are read in one transaction (selectors.export_snapshot).
    job = Job.objects.create(kind=Job.Kind.EXPORT, started_by=researcher, params={})

    with transaction.atomic():
        exports.OwnConnectionProgress(job).step("Writing", total=10)
        seen = read_elsewhere(job)

    assert seen["step"] == "Writing"


@pytest.mark.parametrize(("fmt", "paused"), [("csv", True), ("jsonl", True), ("zip", False)])
def test_the_cycle_collector_rests_while_a_csv_or_jsonl_is_written(
    researcher, data, monkeypatch, fmt, paused
):
    seen = []
    write = exports.write

    def spying_write(*args, **kwargs):
        seen.append(gc.isenabled())
        write(*args, **kwargs)

    monkeypatch.setattr(exports, "write", spying_write)
    assert gc.isenabled()

    export_job(researcher, format=fmt, level="annotations")

    assert seen == [not paused]
    assert gc.isenabled()  # the worker's collector is back


def test_a_failed_write_turns_the_cycle_collector_back_on(researcher, data, monkeypatch):
    def failing_write(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(exports, "write", failing_write)

    job = exports.export_start(user=researcher, query={"format": "csv"})

    job.refresh_from_db()
    assert job.state == Job.State.FAILED
    assert gc.isenabled()
