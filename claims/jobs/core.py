"""Start, report, finish and clean up jobs; the task that runs them is in `tasks`."""

import datetime as dt
import logging
from collections.abc import Mapping
from time import monotonic

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from claims.models import Job, job_storage

log = logging.getLogger(__name__)

# How often a runner's progress reaches the database, at most (seconds): often enough for a
# progress bar polled each second, rare enough to cost nothing beside the work.
PROGRESS_INTERVAL = 0.5


class JobFailed(Exception):
    """The work cannot be done; the message is shown to the user as the job's error."""

    def __init__(self, message: str, *, result: Mapping | None = None):
        super().__init__(message)
        self.result = dict(result or {})


def storage():
    return job_storage()


def start(*, kind: str, user, params: Mapping | None = None, files: Mapping[str, bytes] = ()):
    """Record a job (with its input files) and queue it; returns the Job.

    With the immediate backend (tests) the job has run when this returns. `files` are kept
    beside the job (`job_files`) until the job is pruned.
    """
    with transaction.atomic():
        job = Job.objects.create(kind=kind, started_by=user, params=dict(params or {}))
        for name, data in dict(files).items():
            path = input_path(job, name)
            storage().delete(path)  # a leftover of an earlier database with the same job id
            if storage().save(path, ContentFile(data)) != path:
                raise RuntimeError(f"job file {path} could not be stored under its name")
    return enqueue(job)


def enqueue(job: Job) -> Job:
    from claims.jobs.tasks import run_job

    result = run_job.enqueue(job.pk)
    Job.objects.filter(pk=job.pk, task_id="").update(task_id=result.id)
    job.refresh_from_db()
    return job


def input_path(job: Job, name: str) -> str:
    return f"jobs/{job.pk}/input/{name}"


def job_files(job: Job) -> list[tuple[str, bytes]]:
    """The job's input files, in the order they were given (name, content)."""
    names = job.params.get("files") or []
    return [(name, storage().open(input_path(job, name)).read()) for name in names]


class Progress:
    """A runner's progress: `step("Parsing a.csv", total=n)`, then `advance()` as it goes.

    Writes go straight to the job row with UPDATE (outside the runner's transactions when it is
    in none), at most every PROGRESS_INTERVAL seconds, and each is a heartbeat: a job whose
    heartbeat stops is taken as lost with its worker (`jobs_stale`).
    """

    def __init__(self, job: Job):
        self.job = job
        self._written = 0.0

    def step(self, text: str, *, total: int | None = None, done: int = 0) -> None:
        self.job.step, self.job.total, self.job.done = text[:200], total, done
        self._write(force=True)

    def advance(self, count: int = 1) -> None:
        self.job.done += count
        if self.job.total is not None and self.job.done > self.job.total:
            self.job.total = self.job.done
        self._write()

    def flush(self) -> None:
        """Write what is not written yet (when the runner ends)."""
        self._write(force=True)

    def _write(self, *, force: bool = False) -> None:
        now = monotonic()
        if not force and now - self._written < PROGRESS_INTERVAL:
            return
        self._written = now
        Job.objects.filter(pk=self.job.pk).update(
            step=self.job.step,
            total=self.job.total,
            done=self.job.done,
            heartbeat_at=timezone.now(),
        )


def jobs_stale(now: dt.datetime | None = None):
    """Jobs lost with their worker: running without a heartbeat for the stale time, or queued
    without a task (the queue refused it)."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(seconds=settings.CLAIMDESK_JOB_STALE_SECONDS)
    return Job.objects.filter(
        Q(state=Job.State.RUNNING, heartbeat_at__lt=cutoff)
        | Q(state=Job.State.RUNNING, heartbeat_at=None, started_at__lt=cutoff)
        | Q(state=Job.State.QUEUED, task_id="", created_at__lt=cutoff)
    )


def job_requeue(job: Job) -> Job:
    """Queue a lost or failed job again: it repeats its work from the start (idempotent)."""
    updated = (
        Job.objects.filter(pk=job.pk)
        .exclude(state=Job.State.SUCCEEDED)
        .update(
            state=Job.State.QUEUED, task_id="", error="", step="Queued again", heartbeat_at=None
        )
    )
    if not updated:
        job.refresh_from_db()
        return job
    return enqueue(job)


def jobs_prune(now: dt.datetime | None = None) -> int:
    """Remove expired job files (finished exports past their time, finished imports' uploads);
    the job rows stay as the record of what was done. Returns the number of jobs cleaned."""
    now = now or timezone.now()
    count = 0
    expired = Job.objects.filter(expires_at__lt=now).exclude(file="")
    for job in expired.iterator():
        job.file.delete(save=False)
        Job.objects.filter(pk=job.pk).update(file="")
        count += 1
    finished_imports = Job.objects.filter(
        kind=Job.Kind.IMPORT, state__in=[Job.State.SUCCEEDED, Job.State.FAILED]
    ).exclude(params__files=[])
    for job in finished_imports.filter(finished_at__lt=now - dt.timedelta(days=1)).iterator():
        for name in job.params.get("files") or []:
            storage().delete(input_path(job, name))
        Job.objects.filter(pk=job.pk).update(
            params={**job.params, "files": [], "files_pruned": True}
        )
        count += 1
    return count
