"""Load the demo articles, the starter source taxonomy and demo users (idempotent)."""

import json
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError

from claims import importing, services
from claims.models import Article

DEMO_DIR = Path(__file__).resolve().parents[2] / "demo"
DEMO_ARTICLE = DEMO_DIR / "000_4c1d6ae57306abb2.txt"
# Written for the demo in Russian and Ukrainian agency style (invented text): suggestions in
# every language claimdesk reads.
DEMO_ARTICLES = [DEMO_ARTICLE, DEMO_DIR / "001_ru_voronezh.jsonl", DEMO_DIR / "002_uk_lviv.jsonl"]
DEMO_USERS = [
    ("annotator1", "annotator1-demo", "annotator"),
    ("annotator2", "annotator2-demo", "annotator"),
    ("annotator3", "annotator3-demo", "annotator"),
    ("editor", "editor-demo", "editor"),
    ("researcher", "researcher-demo", "researcher"),
    ("admin", "admin-demo", "admin"),
]


class Command(BaseCommand):
    help = "Load the demo articles, source taxonomy and demo users. Safe to run again."

    def add_arguments(self, parser):
        parser.add_argument(
            "--with-gold",
            action="store_true",
            help=(
                "Also accept, as the editor, the claims both demo annotators agree on as gold "
                "labels, so that gold exports and the API have data (make run does)."
            ),
        )

    def handle(self, *args, with_gold=False, **options):
        # The demo users' passwords are printed here and in the README: never on a real site.
        if not settings.DEBUG:
            raise CommandError(
                "load_demo creates users with public passwords, so it runs only with DEBUG on "
                "(development). Run it as `DEBUG=1 python manage.py load_demo` (make run does)."
            )
        for entry in json.loads((DEMO_DIR / "sources.json").read_text(encoding="utf-8")):
            services.source_upsert(**entry)
        records = [
            record
            for path in DEMO_ARTICLES
            for record in importing.parse_file(path, max_bytes=settings.CLAIMDESK_MAX_IMPORT_BYTES)
        ]
        outcomes = services.articles_import(records=records)
        services.demo_users_ensure(users=DEMO_USERS)
        services.suggestions_refresh()  # the taxonomy may have changed since the last import
        articles = [
            Article.objects.get(checksum=importing.body_checksum(record.body))
            for record in records
        ]
        article = articles[0]  # the English one, labelled below
        annotators = User.objects.filter(username__in=["annotator1", "annotator2", "annotator3"])
        services.assignments_create(articles=articles, annotators=annotators, overlap=3)
        # annotator2 and annotator3 have already labelled it, so the review queue has work;
        # annotator1 starts from a clean page.
        labellers = [a for a in annotators if a.username != "annotator1"]
        made = services.demo_labels_ensure(article=article, annotators=labellers)
        self.stdout.write(f"Demo articles: {', '.join(f'{n} {k}' for k, n in outcomes.items())}.")
        self.stdout.write(f"Demo labels by annotator2 and annotator3: {made} new.")
        if with_gold:
            gold = services.demo_gold_ensure(
                article=article, editor=User.objects.get(username="editor")
            )
            self.stdout.write(f"Demo gold labels (agreed claims, accepted by editor): {gold} new.")
        self.stdout.write("Demo users (development only; passwords are public):")
        for username, password, role in DEMO_USERS:
            self.stdout.write(f"  {username:<11} {password:<17} {role}")
