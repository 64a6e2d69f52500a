"""Background jobs: long work (imports, large exports, recomputations) off the request.

`start` records a `Job` and hands its id to a django.tasks task (`claims.jobs.tasks.run_job`);
a worker (`manage.py db_worker`) runs it. The task looks up the job's runner by kind; a runner
does the work, reports progress through `Progress` and returns the job's result (JSON). A
runner raises `JobFailed` with a message for the user when the work cannot be done.
"""

from claims.jobs.core import (
    JobFailed,
    Progress,
    job_files,
    job_requeue,
    jobs_prune,
    jobs_stale,
    start,
)

__all__ = [
    "JobFailed",
    "Progress",
    "job_files",
    "job_requeue",
    "jobs_prune",
    "jobs_stale",
    "start",
]
