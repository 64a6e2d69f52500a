"""Exports as jobs: the export page's download, written to a stored file a worker makes."""

import datetime as dt
import gc
import threading
import time
from collections.abc import Mapping
from contextlib import contextmanager, nullcontext

from django.conf import settings
from django.core.files.uploadedfile import TemporaryUploadedFile
from django.db import connection
from django.utils import timezone
from django.utils.datastructures import MultiValueDict

from claims import dataset, selectors
from claims.forms import ExportForm
from claims.jobs.core import PROGRESS_INTERVAL, JobFailed, Progress, start, storage
from claims.models import Job


def export_form(query: Mapping) -> ExportForm:
    """The export form bound to a job's query: {field: value or list of values}."""
    data = MultiValueDict()
    for key, value in query.items():
        data.setlist(key, [str(v) for v in value] if isinstance(value, list) else [str(value)])
    return ExportForm(data)


def query_of(data: MultiValueDict) -> dict:
    """The export form's submitted fields as a job's query (JSON): a list for the fields that
    take several values, else the last value."""
    multiple = {name for name, field in ExportForm.base_fields.items() if _is_multiple(field)}
    return {
        key: data.getlist(key) if key in multiple else data.getlist(key)[-1]
        for key in data
        if data.getlist(key)
    }


def _is_multiple(field) -> bool:
    return getattr(field.widget, "allow_multiple_selected", False)


def export_start(*, user, query: Mapping) -> Job:
    """Queue an export of the rows the query selects (the form's fields, "format" included)."""
    return start(kind=Job.Kind.EXPORT, user=user, params={"query": dict(query)})


def run(job: Job, progress: Progress) -> dict:
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        progress = OwnConnectionProgress(job)
    form = export_form(job.params.get("query") or {})
    if form.unknown():
        raise JobFailed(f"Unknown export parameter(s): {', '.join(form.unknown())}.")
    if not form.is_valid():
        errors = "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items())
        raise JobFailed(f"The export's filters are not valid ({errors}). Start it again.")
    try:
        dataset.pseudonym_key()
    except dataset.PseudonymKeyMissing as error:
        raise JobFailed(str(error)) from error
    filters, fmt = form.filters(), form.cleaned_data.get("format") or "csv"
    rows = selectors.export_count(
        filters=dataset.claim_review_filters(filters) if fmt == "claimreview" else filters
    )
    name = dataset.filename(filters, fmt)
    passes = dataset.bundle_passes(filters) if fmt == "zip" else 1
    progress.step(f"Writing {name}", total=rows * passes)
    remove_files(job)
    # Written to a temporary file chunk by chunk, then moved into the job storage: memory stays
    # flat however many rows, and a half-written file is never the job's file.
    with (
        TemporaryUploadedFile(name, dataset.CONTENT_TYPES[fmt], None, "utf-8") as spool,
        cyclic_gc_paused() if fmt in ("csv", "jsonl") else nullcontext(),
    ):
        write(spool.file, job, filters, fmt, on_rows=progress.advance)
        spool.file.flush()
        path = storage().save(f"jobs/{job.pk}/{name}", spool)
    job.file.name, job.file_name = path, name
    job.expires_at = timezone.now() + dt.timedelta(hours=settings.CLAIMDESK_EXPORT_FILE_HOURS)
    job.save(update_fields=["file", "file_name", "expires_at"])
    return {"rows": rows, "format": fmt}


@contextmanager
def cyclic_gc_paused():
    """Python's cycle collector off while a CSV or JSONL file is written. The rows are a
    million short-lived lists, tuples and strings, no cycles, yet they set off a collection
    every few thousand allocations, and the older generations' ones walk every live object
    of the worker: about a tenth of the export's CPU (measured on 100k rows). Reference
    counting still frees each row; cycles left by the run are collected when it ends. Only
    the worker does this: a streamed download shares its process with other requests."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
            gc.collect()


def remove_files(job: Job) -> None:
    """A re-run (after a lost worker) starts from nothing: the files of an earlier run go."""
    try:
        _, names = storage().listdir(f"jobs/{job.pk}")
    except FileNotFoundError:
        return
    for name in names:
        storage().delete(f"jobs/{job.pk}/{name}")


class OwnConnectionProgress(Progress):
    """Progress written through a connection of its own. On PostgreSQL the export reads in one
    transaction (selectors.export_snapshot): an UPDATE on its connection would show on the job
    page only when the export ends, and the heartbeat would look stopped."""

    def _write(self, *, force: bool = False) -> None:
        if not force and time.monotonic() - self._written < PROGRESS_INTERVAL:
            return
        # Django's connections are per thread: a short-lived thread has its own.
        thread = threading.Thread(target=self._write_and_close, args=(force,))
        thread.start()
        thread.join()

    def _write_and_close(self, force: bool) -> None:
        try:
            super()._write(force=force)
        finally:
            connection.close()


def write(fileobj, job: Job, filters: selectors.ExportFilters, fmt: str, *, on_rows) -> None:
    """The same bytes as the streamed download (the ZIP's card also names the job)."""
    if fmt == "zip":
        card_job = {
            "id": job.pk,
            # a pseudonym, as every person in an export is
            "started_by": dataset.pseudonymizer()(job.started_by_id) if job.started_by_id else "",
            "started_at": job.created_at,
        }
        dataset.write_bundle(fileobj, filters, job=card_job, on_rows=on_rows)
        return
    if fmt == "claimreview":
        chunks = dataset.claim_review_chunks(filters, on_rows=on_rows)
    else:
        chunks = dataset.data_chunks(filters, fmt, on_rows=on_rows)
    for chunk in chunks:
        fileobj.write(chunk.encode("utf-8"))
