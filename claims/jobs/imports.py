"""The import job: each uploaded file parsed, given the job's defaults and imported, all or
nothing per file; the result is a per-file summary (the job's `result`)."""

import dataclasses
import datetime as dt
import itertools
from collections import Counter

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError
from django.db.models import ProtectedError

from claims import importing, services
from claims.jobs.core import JobFailed, job_files

# How far a zip archive may unpack, as a multiple of the per-file limit.
ZIP_UNPACKED_FACTOR = 8
# New articles written per transaction (built before it): on SQLite a transaction holds the
# one write lock, so it is kept short (docs/benchmarks.md, "Import job").
COMMIT_BATCH = 50


def run(job, progress) -> dict:
    """Import the job's files. A file with any error imports nothing and is reported with its
    place and reason; the other files still import. Running it again changes nothing that is
    already imported (articles are matched by external_id, else by identical text)."""
    if job.params.get("files_pruned"):
        raise JobFailed(
            "The uploaded files of this job were removed a day after it finished; "
            "upload them again on the import page."
        )
    files = job_files(job)
    outlet = (job.params.get("outlet") or "").strip()
    published_on = job.params.get("published_on")
    published_on = dt.date.fromisoformat(published_on) if published_on else None
    summary, article_ids = [], []
    for number, (name, data) in enumerate(files, start=1):
        progress.step(f"Reading {name} (file {number} of {len(files)})")
        entry = {
            "name": name,
            "created": 0,
            "updated": 0,
            "unchanged": 0,
            "error": "",
            "place": "",
        }
        try:
            records = [
                with_defaults(record, outlet=outlet, published_on=published_on)
                for record in parse(name, data)
            ]
            progress.step(f"Importing {name} (file {number} of {len(files)})", total=len(records))
            outcomes, ids = import_file(records, progress)
        except importing.ImportFileError as exc:
            entry["error"], entry["place"] = (
                exc.reason,
                importing.place(exc.name, line=exc.line, row=exc.row),
            )
        except services.ImportRecordError as exc:
            entry["error"], entry["place"] = exc.reason, exc.place
        except ValidationError as exc:
            entry["error"] = "; ".join(exc.messages)
        except DatabaseError as exc:  # a value the parser let through; the file rolled back
            entry["error"] = f"the database refused the data ({exc})"
        else:
            entry.update({str(outcome): count for outcome, count in outcomes.items()})
            article_ids += ids
        summary.append(entry)
    result = {"files": summary, "totals": totals(summary), "article_ids": article_ids}
    if summary and all(entry["error"] for entry in summary):
        raise JobFailed(
            "Nothing was imported: every file has an error (see the table below).", result=result
        )
    return result


def import_file(records, progress) -> tuple[Counter, list[int]]:
    """Import one file's records all or nothing; (outcomes, ids created or updated).

    A file of new articles (the large imports) is written in short transactions of
    COMMIT_BATCH articles, each built in memory before it begins, so that on SQLite other
    requests may write between them and the progress is seen as it goes; if a later batch
    fails, the articles of the earlier ones are deleted again. A file that touches articles
    already there (updates, a re-run) is one transaction, as the command imports it: an
    update cannot be taken back by a delete.
    """
    ids: list[int] = []
    created: list[int] = []  # what this file made: the only articles an undo may delete

    def on_batch(done):
        ids.extend(pk for pk, outcome in done if outcome != services.ImportOutcome.UNCHANGED)
        created.extend(pk for pk, outcome in done if outcome == services.ImportOutcome.CREATED)
        progress.advance(len(done))

    if services.articles_matching(records=records):
        return services.articles_import(records=records, on_batch=on_batch), ids
    outcomes: Counter = Counter()
    suggester = services.suggester_load()
    try:
        for batch in itertools.batched(records, COMMIT_BATCH):
            # Segmenting and suggesting before the transaction: it then holds SQLite's
            # write lock only for the INSERTs, and other requests' writes get in between.
            prepared = services.articles_prepare(records=batch, suggester=suggester)
            outcomes += services.articles_import(
                records=batch, on_batch=on_batch, suggester=suggester, prepared=prepared
            )
    except Exception:
        # The failed batch rolled back; the earlier ones committed: take back what they
        # created (never an article another import made or changed meanwhile).
        try:
            services.articles_discard(ids=created)
        except ProtectedError:
            raise ValidationError(
                f"the import stopped at an error, and the {len(created)} article(s) it had "
                "created from this file could not be removed again: work on them has begun"
            ) from None
        raise
    return outcomes, ids


def parse(name: str, data: bytes) -> list[importing.ArticleRecord]:
    limit = settings.CLAIMDESK_MAX_IMPORT_BYTES
    return importing.parse_upload(
        name,
        data,
        max_bytes=limit,
        max_rows=settings.CLAIMDESK_MAX_IMPORT_ROWS,
        max_unpacked=ZIP_UNPACKED_FACTOR * limit,
    )


def with_defaults(record, *, outlet: str, published_on: dt.date | None):
    """The job's outlet and date for a record that has none of its own."""
    changes = {}
    if outlet and not record.outlet:
        changes["outlet"] = outlet
    if published_on and record.published_on is None:
        changes["published_on"] = published_on
    return dataclasses.replace(record, **changes) if changes else record


def totals(summary: list[dict]) -> dict:
    return {
        "created": sum(entry["created"] for entry in summary),
        "updated": sum(entry["updated"] for entry in summary),
        "unchanged": sum(entry["unchanged"] for entry in summary),
        "failed_files": sum(1 for entry in summary if entry["error"]),
    }
