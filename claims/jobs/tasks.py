"""The one task: run a job by its id. Idempotent: a finished job is not run again."""

import datetime as dt
import logging

from django.conf import settings
from django.db.models import F
from django.tasks import task
from django.utils import timezone
from django.utils.module_loading import import_string

from claims.jobs.core import JobFailed, Progress, jobs_prune
from claims.models import Job

log = logging.getLogger(__name__)

# Each kind's runner: runner(job, progress) -> result (JSON-able dict).
RUNNERS = {
    Job.Kind.IMPORT: "claims.jobs.imports.run",
    Job.Kind.EXPORT: "claims.jobs.exports.run",
    Job.Kind.REFRESH_SUGGESTIONS: "claims.jobs.suggestions.run",
}


@task
def run_job(job_id: int) -> str:
    """Run the job; its row records the outcome (the task itself always ends normally)."""
    job = Job.objects.filter(pk=job_id).first()
    if job is None or not claim(job):
        return "skipped"
    runner = import_string(RUNNERS[job.kind])
    progress = Progress(job)
    try:
        result = runner(job, progress)
    except JobFailed as exc:
        progress.flush()
        finish(job, Job.State.FAILED, result=exc.result, error=str(exc))
    except Exception as exc:  # a bug or an outage: the job says so instead of hanging
        log.exception("job %s failed", job.pk)
        progress.flush()
        error = f"Unexpected error ({type(exc).__name__}); the details are in the worker's log."
        finish(job, Job.State.FAILED, error=error)
    else:
        progress.flush()
        finish(job, Job.State.SUCCEEDED, result=result or {})
    try:  # the cleanup job rides on every job: expired exports go without a cron entry
        jobs_prune()
    except Exception:
        log.exception("pruning expired job files failed")
    return job.state


def claim(job: Job) -> bool:
    """Mark the job running unless it is finished or another worker is at it (a fresh
    heartbeat): a task delivered twice runs once."""
    now = timezone.now()
    fresh = now - dt.timedelta(seconds=settings.CLAIMDESK_JOB_STALE_SECONDS)
    rows = Job.objects.filter(pk=job.pk, state__in=[Job.State.QUEUED, Job.State.RUNNING])
    rows = rows.exclude(state=Job.State.RUNNING, heartbeat_at__gte=fresh)
    if not rows.update(
        state=Job.State.RUNNING,
        started_at=now,
        heartbeat_at=now,
        attempts=F("attempts") + 1,
        done=0,
        error="",
    ):
        return False
    job.refresh_from_db()
    return True


def finish(job: Job, state: str, *, result: dict | None = None, error: str = "") -> None:
    job.refresh_from_db(fields=["done", "total", "step", "file", "file_name", "expires_at"])
    job.state, job.error, job.finished_at = state, error, timezone.now()
    job.result = result or {}
    if state == Job.State.SUCCEEDED and job.total is not None:
        job.done = job.total
    job.step = "" if state == Job.State.SUCCEEDED else job.step
    job.save(update_fields=["state", "error", "finished_at", "result", "done", "step"])
