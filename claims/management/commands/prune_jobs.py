"""Remove expired export files and finished imports' uploads (run it daily, e.g. from cron)."""

from django.core.management.base import BaseCommand

from claims import jobs


class Command(BaseCommand):
    help = (
        "Delete export files past CLAIMDESK_EXPORT_FILE_HOURS and the uploads of imports "
        "finished more than a day ago. The job rows stay as the record of what was done."
    )

    def handle(self, *args, **options):
        self.stdout.write(f"Cleaned {jobs.jobs_prune()} job(s).")
