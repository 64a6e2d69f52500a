"""Assemble dataset downloads from the database, for the export page and export_dataset."""

import hashlib
import itertools
import json
import tempfile
from collections.abc import Callable, Iterable, Iterator
from operator import itemgetter

from django.conf import settings
from django.core.checks.security.base import (
    SECRET_KEY_INSECURE_PREFIX,
    SECRET_KEY_MIN_LENGTH,
    SECRET_KEY_MIN_UNIQUE_CHARACTERS,
)
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Count
from django.utils import timezone

from claims import agreement, exporting, selectors
from claims.models import Annotation, GoldLabel, Source, VerificationStatus

APP_VERSION = "0.1.0"
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "jsonl": "application/x-ndjson; charset=utf-8",
    "zip": "application/zip",
    "claimreview": "application/ld+json; charset=utf-8",
}
EXTENSIONS = {"csv": "csv", "jsonl": "jsonl", "zip": "zip", "claimreview": "jsonld"}


class PseudonymKeyMissing(ImproperlyConfigured):
    """Only the public development key is configured: pseudonyms made with it are reversible."""


PSEUDONYM_KEY_MISSING = (
    "Exports need a secret pseudonym key, and this installation has only the public "
    "development key: anyone could recompute the pseudonyms and re-identify the annotators. "
    "Set CLAIMDESK_PSEUDONYM_KEY (or SECRET_KEY) in the environment, the same one as the "
    "running app's so that pseudonyms stay stable between exports."
)


def pseudonym_key() -> str:
    """CLAIMDESK_PSEUDONYM_KEY, else SECRET_KEY; never the published development key."""
    key = getattr(settings, "CLAIMDESK_PSEUDONYM_KEY", "") or settings.SECRET_KEY
    # The development key is in the source code, and user ids are small integers: hashing
    # ids 1..n with it re-identifies every annotator of a published dataset.
    if key == getattr(settings, "DEV_SECRET_KEY", None) or key.startswith(
        SECRET_KEY_INSECURE_PREFIX
    ):
        raise PseudonymKeyMissing(PSEUDONYM_KEY_MISSING)
    # A short or repetitive key can be found by trying keys on the small ids just as well: the
    # rules of Django's check for SECRET_KEY (security.W009).
    if len(key) < SECRET_KEY_MIN_LENGTH or len(set(key)) < SECRET_KEY_MIN_UNIQUE_CHARACTERS:
        raise PseudonymKeyMissing(
            f"The pseudonym key is weak (fewer than {SECRET_KEY_MIN_LENGTH} characters or "
            f"{SECRET_KEY_MIN_UNIQUE_CHARACTERS} different ones): guessing it would re-identify "
            "the annotators. Set CLAIMDESK_PSEUDONYM_KEY to a long random value, e.g. "
            "python3 -c 'import secrets; print(secrets.token_hex(32))'."
        )
    return key


def pseudonymizer() -> exporting.Pseudonymizer:
    """Stable per installation: keyed by CLAIMDESK_PSEUDONYM_KEY, else derived from SECRET_KEY."""
    key = pseudonym_key()
    return exporting.Pseudonymizer(hashlib.sha256(f"pseudonyms:{key}".encode()).digest())


def filename(filters: selectors.ExportFilters, fmt: str) -> str:
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    return f"claimdesk-{filters.level}-{stamp}.{EXTENSIONS[fmt]}"


OnRows = Callable[[int], None] | None


def counted(rows: Iterable, on_rows: OnRows, every: int = 1000) -> Iterable:
    """The rows, calling on_rows(n) after every n of them (a job's progress)."""
    if on_rows is None:
        return rows
    return _counted(rows, on_rows, every)


def _counted(rows: Iterable, on_rows: Callable[[int], None], every: int) -> Iterator:
    n = 0
    for row in rows:
        yield row
        n += 1
        if n == every:
            on_rows(n)
            n = 0
    if n:
        on_rows(n)


def data_chunks(
    filters: selectors.ExportFilters, fmt: str, *, on_rows: OnRows = None
) -> Iterator[str]:
    rows = counted(selectors.export_rows(filters=filters, pseudonymize=pseudonymizer()), on_rows)
    if fmt == "jsonl":
        return exporting.jsonl_chunks(rows)
    return exporting.csv_chunks(rows)


def claim_review_filters(filters: selectors.ExportFilters) -> selectors.ExportFilters:
    """ClaimReview covers the gold-labelled claims only."""
    return selectors.ExportFilters(
        **{**filters.__dict__, "level": "gold", "claims_only": True, "reviewed_only": True}
    )


def claim_review_chunks(
    filters: selectors.ExportFilters, *, on_rows: OnRows = None
) -> Iterator[str]:
    """A JSON array of ClaimReview objects for the gold-labelled claims under the filters."""
    gold_claims = claim_review_filters(filters)
    labels = dict(VerificationStatus.objects.values_list("code", "label"))
    names = [column.name for column in exporting.COLUMNS]
    rows = counted(
        selectors.export_rows(filters=gold_claims, pseudonymize=pseudonymizer()), on_rows
    )
    yield "[\n"
    number = 0
    for row in rows:
        mapping = dict(zip(names, row, strict=True))
        if not mapping["url"]:
            continue  # ClaimReview needs the article's address; the card counts these out
        review = exporting.claim_review(
            mapping,
            publisher=settings.CLAIMDESK_PUBLISHER,
            status_label=labels.get(mapping["status"]),
        )
        yield ("" if number == 0 else ",\n") + json.dumps(review, ensure_ascii=False)
        number += 1
    yield "\n]\n"


def counts(filters: selectors.ExportFilters) -> dict:
    """Row counts for the dataset card: total, and per status, source and source kind."""
    rows, _ = selectors.export_queryset(filters)
    prefix = "gold__claims__" if filters.level == "gold" else "claims__"

    def per(path: str) -> dict:
        # Grouped over the claims join, as the rows are: a label without claims counts as "—".
        grouped = rows.values(f"{prefix}{path}").annotate(n=Count("pk")).order_by()
        return {str(row[f"{prefix}{path}"] or "—"): row["n"] for row in grouped}

    return {
        "rows": selectors.export_count(filters=filters),
        "by_status": per("status__code"),
        "by_source": per("source__name"),
        "by_source_kind": per("source__kind"),
    }


def agreement_figures() -> dict | None:
    """Krippendorff's alpha per field over all annotations, for the card.

    One pass per field in sentence order, one sentence's labels in memory at a time (an
    annotator labels a sentence once): every label in dicts took 200 MB at 1M rows."""
    if not Annotation.objects.exists():
        return None
    fields = {"is_claim": "is_claim", "source": "source_id", "status": "status_id"}
    figures = {
        f"krippendorff_alpha_{name}": agreement.krippendorff_alpha_nominal_units(
            _labels_by_sentence(field)
        )
        for name, field in fields.items()
    }
    figures["gold_labels"] = GoldLabel.objects.count()
    return figures


def _labels_by_sentence(field: str) -> Iterator[list]:
    rows = Annotation.objects.order_by("sentence_id").values_list("sentence_id", field)
    for _, group in itertools.groupby(rows.iterator(chunk_size=5000), key=itemgetter(0)):
        yield [value for _, value in group if value is not None]


def bundle_members(
    filters: selectors.ExportFilters, statuses: list[str], *, on_rows: OnRows = None
):
    """The bundle's members after the data, card and taxonomy, as (name, text or chunks),
    each read from the database only when the ZIP writer reaches it: the PARC-style
    attributions, the brat standoff, and (gold level) ClaimReview. Each is a pass of its own
    over the same filtered rows."""
    pseudonymize = pseudonymizer()
    yield (
        "attributions.jsonl",
        exporting.attributions_jsonl_chunks(
            counted(selectors.export_rows(filters=filters, pseudonymize=pseudonymize), on_rows)
        ),
    )
    yield "brat/annotation.conf", exporting.brat_annotation_conf(statuses)
    # The rows and the article bodies stream side by side (both in article order), in one
    # transaction on PostgreSQL: one article's rows and body are in memory at a time.
    with selectors.export_snapshot():
        rows = selectors.export_rows(filters=filters, pseudonymize=pseudonymize, snapshot=False)
        rows = counted(rows, on_rows)
        bodies = selectors.export_article_bodies(filters)
        for path, text in exporting.brat_documents(rows, bodies):
            yield f"brat/{path}", text
    if filters.level == "gold":
        yield "claimreview.jsonld", claim_review_chunks(filters, on_rows=on_rows)


# How many passes over the rows the bundle makes (data, attributions, brat, and ClaimReview at
# gold level): a job's progress counts rows over all of them.
def bundle_passes(filters: selectors.ExportFilters) -> int:
    return 4 if filters.level == "gold" else 3


def write_bundle(
    fileobj,
    filters: selectors.ExportFilters,
    *,
    fmt: str = "csv",
    job: dict | None = None,
    on_rows: OnRows = None,
) -> None:
    """The ZIP bundle: data, dataset card (README.md + card.json), source taxonomy,
    attributions.jsonl, brat standoff (brat/), ClaimReview (gold level). `job` (id, started_by,
    started_at) goes into the card when a job writes the bundle."""
    with selectors.bundle_snapshot():
        _write_bundle(fileobj, filters, fmt, job, on_rows)


def _write_bundle(
    fileobj, filters: selectors.ExportFilters, fmt: str, job: dict | None, on_rows: OnRows
) -> None:
    statuses = list(VerificationStatus.objects.values("code", "label", "guideline", "order"))
    readme, card = exporting.dataset_card(
        filters=filters.as_dict(),
        counts=counts(filters),
        agreement=agreement_figures(),
        statuses=statuses,
        exported_at=timezone.now(),
        app_version=APP_VERSION,
        level=filters.level,
        fmt=fmt,
        job=job,
    )
    exporting.write_bundle(
        fileobj,
        data_name=f"data.{fmt}",
        data_chunks=data_chunks(filters, fmt, on_rows=on_rows),
        card_md=readme,
        card_json=card,
        taxonomy_csv=exporting.taxonomy_csv(taxonomy()),
        members=bundle_members(filters, [s["code"] for s in statuses], on_rows=on_rows),
    )


def bundle_file(filters: selectors.ExportFilters) -> tempfile.SpooledTemporaryFile:
    """The bundle in a temporary file (on disk past 16 MB), rewound for streaming."""
    spool = tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024)  # noqa: SIM115 (response closes it)
    write_bundle(spool, filters)
    spool.seek(0)
    return spool


def taxonomy() -> list[dict]:
    sources = Source.objects.prefetch_related("aliases").order_by("name")
    return [
        {
            "name": s.name,
            "kind": s.kind,
            "side": s.side,
            "status": "merged into " + s.merged_into.name if s.merged_into_id else s.status,
            "aliases": [a.alias for a in s.aliases.all()],
            "description": s.description,
        }
        for s in sources.select_related("merged_into")
    ]
