"""Queue again the jobs lost with a worker (killed, machine gone): run before starting workers."""

from django.core.management.base import BaseCommand

from claims import jobs
from claims.models import Job


class Command(BaseCommand):
    help = (
        "Queue again every job that is running without progress for CLAIMDESK_JOB_STALE_SECONDS "
        "(its worker stopped) or queued without a task. Re-running a job is safe: imports skip "
        "what they already imported, exports are rewritten whole."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--all-running",
            action="store_true",
            help="Also jobs with a recent heartbeat: use when no worker is running at all.",
        )

    def handle(self, *args, all_running, **options):
        lost = jobs.jobs_stale()
        if all_running:
            lost = lost | Job.objects.filter(state__in=[Job.State.RUNNING, Job.State.QUEUED])
        count = 0
        for job in lost.distinct():
            jobs.job_requeue(job)
            count += 1
        self.stdout.write(f"Queued again {count} job(s).")
