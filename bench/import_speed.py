"""Import speed alone: bench/corpus.py articles (1 in 5 Russian or Ukrainian) through the real
import path (segmentation and suggestions) into a fresh SQLite file, in batches of 250.

Run from the repo root:  DEBUG=1 .venv/bin/python bench/import_speed.py [--articles 10000]

bench/pages.py measures the same import among the page benchmarks; this script runs it alone, so
that two versions of the code can be timed one after the other in one session.
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="claimdesk-import-") as folder:
        os.environ["DATABASE_URL"] = f"sqlite:///{folder}/bench.sqlite3"
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
        import django

        django.setup()
        import corpus
        from django.core.management import call_command

        from claims import services
        from claims.models import Sentence

        call_command("migrate", verbosity=0, interactive=False)
        corpus.sources_ensure()
        records = list(corpus.article_records(args.articles, sentences=30))
        started, cpu = time.perf_counter(), time.process_time()
        for k in range(0, len(records), 250):
            services.articles_import(records=records[k : k + 250])
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        count = Sentence.objects.count()
        print(
            f"{args.articles} articles, {count} sentences in {seconds:.1f} s: "
            f"{count / seconds:,.0f} sentences/s; CPU {cpu:.1f} s: {count / cpu:,.0f} sentences "
            f"per CPU second; load average {os.getloadavg()[0]:.1f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
