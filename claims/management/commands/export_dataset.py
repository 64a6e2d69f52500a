"""Export a labelled dataset to a file, as the export page does, with a progress bar."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.http import QueryDict
from tqdm import tqdm

from claims import dataset, selectors
from claims.forms import ExportForm


class Command(BaseCommand):
    help = (
        "Export gold labels or all annotations as CSV, JSONL, a ZIP bundle or ClaimReview "
        "JSON-LD. Filters are those of the export page, e.g. --filter statuses=unverified "
        "--filter date_from=2023-01-01 (repeat a key for several values)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--format", choices=["csv", "jsonl", "zip", "claimreview"], default="csv"
        )
        parser.add_argument("--level", choices=["gold", "annotations"], default="gold")
        parser.add_argument("--output", type=Path, required=True, help="File to write.")
        parser.add_argument(
            "--filter", action="append", default=[], metavar="KEY=VALUE", help="An export filter."
        )

    def handle(self, *args, format, level, output, filter, verbosity, **options):
        try:
            dataset.pseudonym_key()  # before anything is written
        except dataset.PseudonymKeyMissing as error:
            raise CommandError(str(error)) from error
        form = ExportForm(_query(filter, level=level, format=format))
        if form.unknown():
            raise CommandError(f"unknown filter(s): {', '.join(form.unknown())}")
        if not form.is_valid():
            errors = "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items())
            raise CommandError(f"invalid filters: {errors}")
        filters = form.filters()
        counted = dataset.claim_review_filters(filters) if format == "claimreview" else filters
        total = selectors.export_count(filters=counted)
        if format == "zip":
            with output.open("wb") as fileobj:
                dataset.write_bundle(fileobj, filters)
        else:
            chunks = (
                dataset.claim_review_chunks(filters)
                if format == "claimreview"
                else dataset.data_chunks(filters, format)
            )
            with (
                output.open("w", encoding="utf-8", newline="") as fileobj,
                tqdm(total=total, unit="row", disable=verbosity == 0) as progress,
            ):
                header = format == "csv"
                for chunk in chunks:
                    fileobj.write(chunk)
                    rows = _csv_rows(chunk) if format == "csv" else chunk.count("\n")
                    progress.update(rows - header)
                    header = False
        self.stdout.write(f"Wrote {total} row(s) to {output}.")


def _query(pairs: list[str], **fixed) -> QueryDict:
    query = QueryDict(mutable=True)
    for key, value in fixed.items():
        query[key] = value
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise CommandError(f"--filter takes KEY=VALUE, not {pair!r}")
        query.appendlist(key.strip(), value.strip())
    return query


def _csv_rows(chunk: str) -> int:
    # CSV records end with CRLF; newlines inside quoted text are bare LF.
    return chunk.count("\r\n")
