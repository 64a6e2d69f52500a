"""Load the demo article, the starter source taxonomy and demo users (idempotent)."""

import json
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError

from claims import importing, services
from claims.models import Article

DEMO_DIR = Path(__file__).resolve().parents[2] / "demo"
DEMO_ARTICLE = DEMO_DIR / "000_4c1d6ae57306abb2.txt"
DEMO_USERS = [
    ("annotator1", "annotator1-demo", "annotator"),
    ("annotator2", "annotator2-demo", "annotator"),
    ("annotator3", "annotator3-demo", "annotator"),
    ("editor", "editor-demo", "editor"),
    ("researcher", "researcher-demo", "researcher"),
    ("admin", "admin-demo", "admin"),
]


class Command(BaseCommand):
    help = "Load the demo article, source taxonomy and demo users. Safe to run again."

    def handle(self, *args, **options):
        # The demo users' passwords are printed here and in the README: never on a real site.
        if not settings.DEBUG:
            raise CommandError(
                "load_demo creates users with public passwords, so it runs only with DEBUG on "
                "(development). Run it as `DEBUG=1 python manage.py load_demo` (make run does)."
            )
        for entry in json.loads((DEMO_DIR / "sources.json").read_text(encoding="utf-8")):
            services.source_upsert(**entry)
        records = importing.parse_file(DEMO_ARTICLE, max_bytes=settings.CLAIMDESK_MAX_IMPORT_BYTES)
        outcomes = services.articles_import(records=records)
        services.demo_users_ensure(users=DEMO_USERS)
        services.suggestions_refresh()  # the taxonomy may have changed since the last import
        article = Article.objects.get(checksum=importing.body_checksum(records[0].body))
        annotators = User.objects.filter(username__in=["annotator1", "annotator2", "annotator3"])
        services.assignments_create(articles=[article], annotators=annotators, overlap=3)
        # annotator2 and annotator3 have already labelled it, so the review queue has work;
        # annotator1 starts from a clean page.
        labellers = [a for a in annotators if a.username != "annotator1"]
        made = services.demo_labels_ensure(article=article, annotators=labellers)
        self.stdout.write(f"Demo article: {', '.join(f'{n} {k}' for k, n in outcomes.items())}.")
        self.stdout.write(f"Demo labels by annotator2 and annotator3: {made} new.")
        self.stdout.write("Demo users (development only; passwords are public):")
        for username, password, role in DEMO_USERS:
            self.stdout.write(f"  {username:<11} {password:<17} {role}")
