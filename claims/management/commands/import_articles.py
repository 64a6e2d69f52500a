"""Import articles from .txt, .jsonl and .csv files; each file all or nothing."""

from collections import Counter
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError
from tqdm import tqdm

from claims import importing, services


class Command(BaseCommand):
    help = (
        "Import articles from .txt (leading 'date YYYY-MM-DD' header), .jsonl or .csv files "
        "(columns: title, body, published_on, outlet, url, external_id). Directories are "
        "searched for such files. A file with any error imports nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", type=Path, help="Files or directories.")
        parser.add_argument(
            "--max-bytes",
            type=int,
            default=settings.CLAIMDESK_MAX_IMPORT_BYTES,
            help="Refuse files larger than this (default: %(default)s).",
        )

    def handle(self, *args, paths, max_bytes, verbosity, **options):
        files = expand(paths)
        totals: Counter[str] = Counter()
        failures = []
        progress = tqdm(files, unit="file", disable=verbosity == 0 or len(files) < 2)
        for path in progress:
            try:
                records = importing.parse_file(path, max_bytes=max_bytes)
                outcomes = services.articles_import(records=records)
            except importing.ImportFileError as exc:
                failures.append(str(exc))
            except ValidationError as exc:
                failures.append("; ".join(exc.messages))
            except DatabaseError as exc:  # a value the parser let through; the file rolled back
                failures.append(f"{path}: the database refused the data ({exc})")
            else:
                totals.update(outcomes)
                if verbosity >= 2:
                    self.stdout.write(f"{path}: {summary(outcomes)}")
        for failure in failures:
            self.stderr.write(f"error: {failure} (nothing imported from this file)")
        totals["failed files"] = len(failures)
        self.stdout.write(f"{len(files)} file(s): {summary(totals)}")
        if failures:
            raise CommandError(f"{len(failures)} of {len(files)} file(s) failed")


def summary(counts: Counter) -> str:
    keys = ("created", "updated", "unchanged", "failed files")
    return ", ".join(
        f"{counts[key]} {key}" for key in keys if key in counts or key != "failed files"
    )


def expand(paths: list[Path]) -> list[Path]:
    files = []
    for path in paths:
        if path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.suffix.lower() in importing.FORMATS)
        else:
            files.append(path)
    if not files:
        raise CommandError("no .txt, .jsonl or .csv files found in the given paths")
    return files
