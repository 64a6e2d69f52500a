"""Recompute the attribution suggestions of every article, e.g. after the taxonomy changed."""

from django.core.management.base import BaseCommand

from claims import services


class Command(BaseCommand):
    help = "Recompute source suggestions for all articles from the current taxonomy."

    def handle(self, *args, **options):
        count = services.suggestions_refresh()
        self.stdout.write(f"Refreshed suggestions for {count} article(s).")
