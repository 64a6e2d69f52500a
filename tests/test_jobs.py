"""Background jobs: a job runs once, reports progress, fails with a reason, survives its worker."""

import datetime as dt

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from claims import jobs
from claims.jobs import core, tasks
from claims.models import Job
from tests.conftest import make_user

KIND = Job.Kind.EXPORT  # the kind whose runner the tests replace


def counting(job, progress):
    progress.step("Counting", total=3)
    for _ in range(3):
        progress.advance()
    return {"counted": 3, "params": job.params}


def failing(job, progress):
    progress.step("Reading", total=10)
    progress.advance(4)
    raise jobs.JobFailed("a.csv, row 3: no body", result={"files": ["a.csv"]})


def crashing(job, progress):
    raise ZeroDivisionError("division by zero")


def writing(job, progress):
    job.file.save("out.csv", ContentFile(b"id,text\n1,hello\n"), save=False)
    job.file_name = "out.csv"
    job.expires_at = timezone.now() + dt.timedelta(hours=1)
    job.save(update_fields=["file", "file_name", "expires_at"])
    return {"rows": 1}


@pytest.fixture
def runner(monkeypatch):
    def use(function):
        monkeypatch.setitem(tasks.RUNNERS, KIND, f"{__name__}.{function.__name__}")

    return use


@pytest.fixture
def researcher(db):
    return make_user("res", "researcher")


def test_a_job_runs_reports_progress_and_records_its_result(runner, editor):
    runner(counting)
    job = jobs.start(kind=KIND, user=editor, params={"level": "gold"})
    job.refresh_from_db()
    assert job.state == Job.State.SUCCEEDED
    assert (job.done, job.total, job.percent) == (3, 3, 100)
    assert job.result == {"counted": 3, "params": {"level": "gold"}}
    assert job.task_id and job.attempts == 1 and job.started_by == editor
    assert job.started_at <= job.finished_at


def test_a_failed_job_says_why_and_keeps_its_partial_result(runner, editor):
    runner(failing)
    job = jobs.start(kind=KIND, user=editor)
    job.refresh_from_db()
    assert job.state == Job.State.FAILED
    assert job.error == "a.csv, row 3: no body"
    assert job.result == {"files": ["a.csv"]}
    assert (job.done, job.total, job.step) == (4, 10, "Reading")


def test_an_unexpected_error_fails_the_job_with_its_type(runner, editor):
    runner(crashing)
    job = jobs.start(kind=KIND, user=editor)
    job.refresh_from_db()
    assert job.state == Job.State.FAILED
    assert job.error == (
        "Unexpected error (ZeroDivisionError); the details are in the worker's log."
    )


def test_a_task_delivered_again_does_not_run_a_finished_job(runner, editor):
    runner(counting)
    job = jobs.start(kind=KIND, user=editor)
    assert tasks.run_job.call(job.pk) == "skipped"
    job.refresh_from_db()
    assert job.attempts == 1


def test_a_running_job_with_a_fresh_heartbeat_belongs_to_its_worker(runner, editor):
    runner(counting)
    job = Job.objects.create(
        kind=KIND, started_by=editor, state=Job.State.RUNNING, heartbeat_at=timezone.now()
    )
    assert tasks.run_job.call(job.pk) == "skipped"
    job.refresh_from_db()
    assert job.state == Job.State.RUNNING and job.attempts == 0


@override_settings(CLAIMDESK_JOB_STALE_SECONDS=60)
def test_a_job_lost_with_its_worker_is_found_and_run_again(runner, editor):
    runner(counting)
    long_ago = timezone.now() - dt.timedelta(minutes=5)
    lost = Job.objects.create(
        kind=KIND,
        started_by=editor,
        state=Job.State.RUNNING,
        started_at=long_ago,
        heartbeat_at=long_ago,
        attempts=1,
        done=2,
        total=3,
    )
    busy = Job.objects.create(
        kind=KIND, started_by=editor, state=Job.State.RUNNING, heartbeat_at=timezone.now()
    )
    assert list(jobs.jobs_stale()) == [lost]

    call_command("requeue_jobs", stdout=open("/dev/null", "w"))  # noqa: SIM115

    lost.refresh_from_db()
    busy.refresh_from_db()
    assert lost.state == Job.State.SUCCEEDED and lost.attempts == 2
    assert lost.result["counted"] == 3
    assert busy.state == Job.State.RUNNING


def test_requeue_runs_a_failed_job_again_but_never_a_succeeded_one(runner, editor):
    runner(failing)
    failed = jobs.start(kind=KIND, user=editor)
    runner(counting)
    failed = jobs.job_requeue(failed)
    assert failed.state == Job.State.SUCCEEDED and failed.attempts == 2 and failed.error == ""
    again = jobs.job_requeue(failed)
    assert again.attempts == 2


def test_progress_reaches_the_database_at_most_every_interval(editor, monkeypatch):
    job = Job.objects.create(kind=KIND, started_by=editor, state=Job.State.RUNNING)
    clock = iter([0.0, 0.1, 0.2, 0.7, 0.8])
    monkeypatch.setattr(core, "monotonic", lambda: next(clock))
    progress = jobs.Progress(job)
    progress.step("Rows", total=10)  # 0.0: written (a step always is)
    progress.advance()  # 0.1: not yet
    progress.advance()  # 0.2: not yet
    assert Job.objects.get(pk=job.pk).done == 0
    progress.advance()  # 0.7: written
    assert Job.objects.values_list("done", "step").get(pk=job.pk) == (3, "Rows")
    progress.advance()  # 0.8: not yet
    assert Job.objects.get(pk=job.pk).done == 3
    assert Job.objects.get(pk=job.pk).heartbeat_at is not None


def test_expired_files_are_removed_and_the_record_stays(runner, researcher):
    runner(writing)
    job = jobs.start(kind=KIND, user=researcher)
    job.refresh_from_db()
    name = job.file.name
    assert core.storage().exists(name)
    assert jobs.jobs_prune() == 0  # not expired yet
    assert jobs.jobs_prune(now=timezone.now() + dt.timedelta(hours=2)) == 1
    job.refresh_from_db()
    assert not core.storage().exists(name) and not job.file
    assert job.state == Job.State.SUCCEEDED and job.result == {"rows": 1}


def test_an_import_job_keeps_its_uploads_until_a_day_after_it_finished(editor):
    job = Job.objects.create(
        kind=Job.Kind.IMPORT,
        started_by=editor,
        state=Job.State.SUCCEEDED,
        finished_at=timezone.now(),
        params={"files": ["a.txt"]},
    )
    core.storage().save(core.input_path(job, "a.txt"), ContentFile(b"body"))
    assert jobs.job_files(job) == [("a.txt", b"body")]
    assert jobs.jobs_prune() == 0
    assert jobs.jobs_prune(now=timezone.now() + dt.timedelta(days=2)) == 1
    job.refresh_from_db()
    assert job.params["files"] == []
    assert not core.storage().exists(core.input_path(job, "a.txt"))


@pytest.mark.django_db(
    transaction=True, serialized_rollback=True
)  # the worker closes its connection when it is done
@override_settings(
    TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
)
def test_a_database_worker_runs_queued_jobs(runner, editor):
    """Production's backend: the job waits in the database until `db_worker` takes it."""
    runner(counting)
    job = jobs.start(kind=KIND, user=editor)
    assert job.state == Job.State.QUEUED and job.task_id

    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)

    job.refresh_from_db()
    assert job.state == Job.State.SUCCEEDED and job.result["counted"] == 3


# --- pages -------------------------------------------------------------------------------


def test_the_job_page_polls_while_the_job_runs_and_stops_when_it_is_done(client, editor):
    job = Job.objects.create(
        kind=KIND, started_by=editor, state=Job.State.RUNNING, step="Rows", done=5, total=20
    )
    client.force_login(editor)
    page = client.get(f"/jobs/{job.pk}/").content.decode()
    assert 'hx-trigger="every 1s"' in page and "5 of 20 (25 %)" in page
    assert '<meta http-equiv="refresh"' in page  # without JavaScript

    Job.objects.filter(pk=job.pk).update(state=Job.State.FAILED, error="The file was empty.")
    part = client.get(f"/jobs/{job.pk}/", headers={"HX-Request": "true"}).content.decode()
    assert part.lstrip().startswith('<section id="job-status"')
    assert "every 1s" not in part and "The file was empty." in part and "Run it again" in part


def test_jobs_are_private_to_who_started_them_and_admins(client, researcher, editor, admin_user):
    job = Job.objects.create(kind=KIND, started_by=researcher)
    client.force_login(editor)
    assert client.get(f"/jobs/{job.pk}/").status_code == 404
    assert f"/jobs/{job.pk}/" not in client.get("/jobs/").content.decode()
    client.force_login(researcher)
    assert f"/jobs/{job.pk}/" in client.get("/jobs/").content.decode()
    client.force_login(admin_user)
    assert client.get(f"/jobs/{job.pk}/").status_code == 200


def test_a_download_is_served_to_its_owner_until_it_expires(client, runner, researcher):
    runner(writing)
    job = jobs.start(kind=KIND, user=researcher)
    client.force_login(researcher)
    response = client.get(f"/jobs/{job.pk}/download/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"id,text\n1,hello\n"
    assert 'filename="out.csv"' in response["Content-Disposition"]

    Job.objects.filter(pk=job.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    response = client.get(f"/jobs/{job.pk}/download/")
    assert response.status_code == 410 and b"expired" in response.content


def test_retry_from_the_page_runs_a_failed_job_again(client, runner, editor):
    runner(failing)
    job = jobs.start(kind=KIND, user=editor)
    runner(counting)
    client.force_login(editor)
    response = client.post(f"/jobs/{job.pk}/retry/")
    assert response.status_code == 302 and response.url == f"/jobs/{job.pk}/"
    job.refresh_from_db()
    assert job.state == Job.State.SUCCEEDED and job.attempts == 2


def test_an_editor_recomputes_suggestions_in_the_background(client, editor, annotator):
    client.force_login(annotator)
    assert "Recompute suggestions" not in client.get("/jobs/").content.decode()
    client.force_login(editor)
    assert "Recompute suggestions" in client.get("/jobs/").content.decode()
    response = client.post("/jobs/refresh-suggestions/")
    job = Job.objects.get()
    assert response.url == f"/jobs/{job.pk}/"
    assert (job.kind, job.state, job.started_by) == ("refresh_suggestions", "succeeded", editor)
    assert "Suggestions recomputed for" in client.get(response.url).content.decode()


def test_a_job_reads_its_own_uploads_even_over_a_leftover_at_its_path(editor, monkeypatch):
    """Job ids repeat after a database is reset: an old file at the path must not be read."""
    monkeypatch.setattr(core, "input_path", lambda job, name: f"jobs/reused/input/{name}")
    core.storage().save("jobs/reused/input/a.txt", ContentFile(b"an old database's upload"))
    dummy = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    with override_settings(TASKS=dummy):
        job = jobs.start(
            kind=Job.Kind.IMPORT, user=editor, params={"files": ["a.txt"]}, files={"a.txt": b"new"}
        )
    assert jobs.job_files(job) == [("a.txt", b"new")]


def test_a_missing_file_is_gone_not_an_error(client, runner, researcher):
    runner(writing)
    job = jobs.start(kind=KIND, user=researcher)
    job.refresh_from_db()
    core.storage().delete(job.file.name)
    client.force_login(researcher)
    response = client.get(f"/jobs/{job.pk}/download/")
    assert response.status_code == 410 and b"missing" in response.content


def test_who_lost_the_role_no_longer_downloads_or_runs_a_job_again(client, runner, researcher):
    runner(writing)
    export = jobs.start(kind=KIND, user=researcher)
    failed_import = Job.objects.create(
        kind=Job.Kind.IMPORT, started_by=researcher, state=Job.State.FAILED
    )
    researcher.groups.clear()
    client.force_login(researcher)
    assert client.get(f"/jobs/{export.pk}/download/").status_code == 403
    assert client.post(f"/jobs/{export.pk}/retry/").status_code == 403
    assert client.post(f"/jobs/{failed_import.pk}/retry/").status_code == 403  # editors' work
    assert Job.objects.get(pk=failed_import.pk).attempts == 0


def test_job_files_are_private_to_the_service_user_in_production_settings():
    import project.settings as production

    options = production.STORAGES["jobs"]["OPTIONS"]
    assert (options["file_permissions_mode"], options["directory_permissions_mode"]) == (
        0o600,
        0o700,
    )
