"""Turn exported label rows (plain Python values) into CSV, JSONL, ClaimReview, cards and ZIPs."""

# No Django here: the caller runs the query and passes plain values.
#
# Row format. A row is a sequence (tuple or list) of the values of COLUMNS, in COLUMNS order:
#   integer columns  int or None
#   string columns   str or None (never another type: csv_safe looks at the first character)
#   is_claim         bool or None (None = unlabelled)
#   published_on     datetime.date or None (an ISO string is passed through unchanged)
#   *_at columns     datetime.datetime or None; naive values are taken to be UTC, aware ones are
#                    converted to UTC (an ISO string is passed through unchanged)
# None becomes "" in CSV and null in JSONL. row_from_mapping() turns a dict keyed by column
# name into such a tuple.
#
# Speed: a million rows must stream in seconds, so the per-row work is a handful of index
# look-ups; the csv and json C encoders do the rest, a chunk of rows at a time.

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import hmac
import io
import json
import operator
import time
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Any

__all__ = [
    "BRAT_ENTITIES",
    "BRAT_RELATIONS",
    "COLUMNS",
    "COLUMN_NAMES",
    "LEVELS",
    "TEXT_COLUMNS",
    "BratClaim",
    "BratSpan",
    "Column",
    "Pseudonymizer",
    "attribution_record",
    "attributions_jsonl_chunks",
    "brat_ann",
    "brat_annotation_conf",
    "brat_documents",
    "brat_fragments",
    "claim_review",
    "csv_chunks",
    "csv_safe",
    "dataset_card",
    "format_datetime",
    "jsonl_chunks",
    "pseudonym",
    "read_brat_ann",
    "row_from_mapping",
    "taxonomy_csv",
    "write_bundle",
]


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    type: str  # "integer", "string", "boolean", "date" or "datetime"
    description: str
    example: str


COLUMNS: tuple[Column, ...] = (
    Column("article_id", "integer", "Article id in this installation.", "412"),
    Column(
        "external_id", "string", "Article id in the source collection; empty if none.", "rb-2291"
    ),
    Column("title", "string", "Article headline.", "Drone attack on Odesa port"),
    Column("outlet", "string", "Publishing outlet.", "Reuters"),
    Column("url", "string", "Article URL.", "https://example.com/odesa"),
    Column("published_on", "date", "Article publication date (ISO 8601 date).", "2024-03-02"),
    Column("sentence_id", "integer", "Id of the labelled sentence.", "90211"),
    Column(
        "sentence_position", "integer", "The labelled sentence's position in the article.", "3"
    ),
    Column(
        "sentence_start",
        "integer",
        "Offset of the labelled sentence's first character in the body.",
        "512",
    ),
    Column("sentence_end", "integer", "Offset just past the sentence's last character.", "546"),
    Column(
        "sentence_text",
        "string",
        "The labelled sentence, exactly body[sentence_start:sentence_end].",
        "Officials said two ships were hit.",
    ),
    Column(
        "is_claim",
        "boolean",
        "true: the label holds claims (this row is one); false: not a claim; empty: unlabelled.",
        "true",
    ),
    Column(
        "claim_position",
        "integer",
        "The claim's place among its label's claims, from 0; empty if no claim.",
        "0",
    ),
    Column(
        "content_sentence_ids",
        "string",
        "Ids of the sentences the content span touches, space-separated, in article order.",
        "90211 90212",
    ),
    Column("content_start", "integer", "Content span start, an offset into the body.", "527"),
    Column("content_end", "integer", "Content span end (exclusive), into the body.", "545"),
    Column(
        "content_text",
        "string",
        "What is claimed: body[content_start:content_end].",
        "two ships were hit",
    ),
    Column("cue_start", "integer", "Cue span start in the body; empty if none.", "522"),
    Column("cue_end", "integer", "Cue span end (exclusive); empty if none.", "526"),
    Column("cue_text", "string", "The cue: body[cue_start:cue_end].", "said"),
    Column(
        "mention_start",
        "integer",
        "Source mention span start in the body (may be in an earlier sentence); empty if none.",
        "512",
    ),
    Column("mention_end", "integer", "Source mention span end (exclusive).", "521"),
    Column("mention_text", "string", "body[mention_start:mention_end].", "Officials"),
    Column(
        "source",
        "string",
        "Canonical name of the claim's resolved source; empty if unattributed.",
        "Ministry of Defence of Russia",
    ),
    Column(
        "source_kind",
        "string",
        "Source kind code (government, military, individual, ...).",
        "military",
    ),
    Column("side", "string", "Source's side or country.", "Russia"),
    Column(
        "attribution_type",
        "string",
        "direct_quote, paraphrase, unnamed, none; empty if unset.",
        "paraphrase",
    ),
    Column("status", "string", "The claim's verification status code.", "unverified"),
    Column("note", "string", "The claim's note.", "Checked the wire."),
    Column("evidence_url", "string", "The claim's evidence URL.", "https://example.org/proof"),
    Column(
        "label_note",
        "string",
        "The note on the whole label: the annotator's note on the sentence; at gold level, the "
        "editor's comment.",
        "Two claims in one sentence.",
    ),
    Column(
        "label_evidence_url",
        "string",
        "The evidence URL on the whole label (annotations level; empty at gold level).",
        "https://example.org/statement",
    ),
    Column(
        "annotator",
        "string",
        'Annotator pseudonym; "gold" at gold level.',
        "a-3f9c0b12d4e5",
    ),
    Column(
        "annotated_at",
        "datetime",
        "Annotator's last change (ISO 8601 UTC); empty at gold level.",
        "2024-03-05T09:14:02Z",
    ),
    Column("gold_origin", "string", "accepted or corrected (gold level only).", "accepted"),
    Column(
        "reviewed_by",
        "string",
        "Pseudonym of the editor of the gold label (gold level only).",
        "a-81d2e0c4aa07",
    ),
    Column(
        "reviewed_at",
        "datetime",
        "When the gold label was set, ISO 8601 UTC (gold level only).",
        "2024-03-06T16:40:00Z",
    ),
)

COLUMN_NAMES: tuple[str, ...] = tuple(c.name for c in COLUMNS)

# Every string column: all of them can hold text a spreadsheet would read as a formula (status
# codes are admin-entered slugs, and a slug may start with "-"). Sanitising the few code columns
# as well costs little and leaves no column to reason about.
TEXT_COLUMNS: frozenset[str] = frozenset(c.name for c in COLUMNS if c.type == "string")

LEVELS: Mapping[str, str] = {
    "gold": (
        "One row per claim of a gold label, one row for a gold label that is not a claim, and"
        " one row for a sentence with no gold label (label columns empty); annotator is"
        ' "gold", annotated_at is empty.'
    ),
    "annotations": (
        "One row per claim of each annotator's label, and one row for a label that is not a"
        " claim; gold_origin, reviewed_by and reviewed_at are empty."
    ),
}

_TEXT_IDX = tuple(i for i, c in enumerate(COLUMNS) if c.type == "string")
_BOOL_IDX = tuple(i for i, c in enumerate(COLUMNS) if c.type == "boolean")
_DATETIME_IDX = tuple(i for i, c in enumerate(COLUMNS) if c.type == "datetime")

row_from_mapping: Callable[[Mapping[str, Any]], tuple[Any, ...]] = operator.itemgetter(
    *COLUMN_NAMES
)
"""A dict keyed by column name → a row tuple in COLUMNS order (KeyError if a column is missing)."""


# --- CSV injection -------------------------------------------------------------------------

# OWASP's list, plus the full-width forms of = + - @: some spreadsheet set-ups (East Asian
# input modes) normalise them to ASCII, and a leading ' costs nothing in the rare cell that
# starts with one.
_FORMULA_START = frozenset("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20")  # then full-width = + - @


def csv_safe(value: str) -> str:
    """Neutralise a CSV cell a spreadsheet would run as a formula (OWASP CSV injection).

    A cell starting with ``= + - @``, tab, carriage return or line feed gets a leading ``'``,
    so spreadsheets show it as text. So does one starting with the full-width forms (U+FF1D,
    U+FF0B, U+FF0D, U+FF20): some spreadsheet set-ups normalise them to ASCII, and prefixing
    the rare cell that starts with one is harmless. Apply to text cells only, never to numbers.
    JSONL keeps the exact text; this is for every spreadsheet-bound CSV (exports and admin
    downloads alike). csv_chunks inlines this same test for speed.
    """
    if value and value[0] in _FORMULA_START:
        return "'" + value
    return value


def csv_unescape(value: str) -> str:
    """Undo csv_safe: a spreadsheet re-imported into claimdesk gets its text back exactly."""
    if len(value) > 1 and value[0] == "'" and value[1] in _FORMULA_START:
        return value[1:]
    return value


# --- Pseudonyms ----------------------------------------------------------------------------


def pseudonym(user_key: str | int, secret: bytes) -> str:
    """A stable pseudonym for a user: ``"a-"`` + 12 hex characters of HMAC-SHA256(secret, key).

    Key it on the user id, which never changes, not on the username. The same key and secret
    always give the same pseudonym; without the secret it cannot be reversed or recomputed.
    """
    if not secret:
        raise ValueError("pseudonym secret must not be empty")
    digest = hmac.new(secret, str(user_key).encode(), hashlib.sha256).hexdigest()
    return "a-" + digest[:12]


class Pseudonymizer:
    """Memoised ``pseudonym`` for one export: ``p(user_id)``, and ``""`` for None."""

    __slots__ = ("_cache", "_secret")

    def __init__(self, secret: bytes) -> None:
        if not secret:
            raise ValueError("pseudonym secret must not be empty")
        self._secret = secret
        self._cache: dict[str | int, str] = {}

    def __call__(self, user_id: str | int | None) -> str:
        if user_id is None:
            return ""
        try:
            return self._cache[user_id]
        except KeyError:
            name = self._cache[user_id] = pseudonym(user_id, self._secret)
            return name


# --- Value formatting ----------------------------------------------------------------------


def format_datetime(value: dt.datetime) -> str:
    """ISO 8601 UTC to the second, e.g. ``2024-03-05T09:14:02Z``; naive values count as UTC."""
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value.isoformat(timespec="seconds") + "Z"


def _json_default(value: object) -> str:
    # Called by the json C encoder only for values it cannot encode itself.
    if isinstance(value, dt.datetime):
        return format_datetime(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"cannot export {type(value).__name__} value {value!r}")


# --- CSV and JSONL streams -----------------------------------------------------------------


def csv_chunks(
    rows: Iterable[Sequence[Any]], *, header: bool = True, rows_per_chunk: int = 1000
) -> Iterator[str]:
    """Rows (see the module comment) → RFC 4180 CSV text in chunks of ``rows_per_chunk`` rows.

    Comma-separated, quoted with ``"`` when needed, CRLF line ends; the caller encodes to
    UTF-8. The header holds the column names. String cells go through csv_safe.
    """
    if rows_per_chunk < 1:
        raise ValueError("rows_per_chunk must be at least 1")
    lines: list[str] = []
    if header:
        lines.append(",".join(COLUMN_NAMES) + "\r\n")
    text_idx, bool_idx, datetime_idx = _TEXT_IDX, _BOOL_IDX, _DATETIME_IDX
    formula_start, fmt_dt = _FORMULA_START, format_datetime
    width = len(COLUMNS)
    n = 0
    for row in rows:
        cells = list(row)
        if len(cells) != width:
            raise ValueError(f"a row has {len(cells)} values, expected {width}")
        for i in text_idx:  # csv_safe, inlined
            value = cells[i]
            if value and value[0] in formula_start:
                cells[i] = "'" + value
        for i in bool_idx:
            value = cells[i]
            if value is True:
                cells[i] = "true"
            elif value is False:
                cells[i] = "false"
        for i in datetime_idx:
            value = cells[i]
            if value is not None and value.__class__ is not str:
                cells[i] = fmt_dt(value)
        # The line is built by hand: three times faster than csv.writer, and the same bytes
        # (QUOTE_MINIMAL: quote a cell holding a comma, a quote or a line break; tested).
        out = []
        for value in cells:
            if value is None:
                out.append("")
            elif value.__class__ is str:
                if '"' in value:
                    out.append('"' + value.replace('"', '""') + '"')
                elif "," in value or "\n" in value or "\r" in value:
                    out.append('"' + value + '"')
                else:
                    out.append(value)
            else:
                out.append(str(value))
        lines.append(",".join(out) + "\r\n")
        n += 1
        if n == rows_per_chunk:
            n = 0
            yield "".join(lines)
            lines.clear()
    if lines:
        yield "".join(lines)


def jsonl_chunks(rows: Iterable[Sequence[Any]], *, rows_per_chunk: int = 1000) -> Iterator[str]:
    """Rows → JSON Lines text in chunks: one object per row, keys in COLUMNS order.

    Exact text (no csv_safe), ISO date strings, JSON booleans, null for None, UTF-8 as is
    (``ensure_ascii=False``). Every line, the last included, ends with ``\\n``.
    """
    if rows_per_chunk < 1:
        raise ValueError("rows_per_chunk must be at least 1")
    dumps = json.JSONEncoder(
        ensure_ascii=False, separators=(",", ":"), default=_json_default
    ).encode
    names = COLUMN_NAMES
    batch: list[str] = []
    append = batch.append
    for row in rows:
        append(dumps(dict(zip(names, row, strict=True))))
        if len(batch) == rows_per_chunk:
            batch.append("")
            yield "\n".join(batch)
            batch.clear()
    if batch:
        batch.append("")
        yield "\n".join(batch)


# --- ClaimReview ---------------------------------------------------------------------------

_PERSON_KINDS = frozenset({"individual"})


def _iso(value: object) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return format_datetime(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _iso_date(value: object) -> str | None:
    """The date part of a date, datetime (in UTC) or ISO string."""
    text = _iso(value)
    return text[:10] if text else None


def claim_review(
    row: Mapping[str, Any],
    *,
    publisher: str,
    status_label: str | None = None,
    review_url: str | None = None,
    publisher_url: str | None = None,
) -> dict[str, Any]:
    """schema.org ClaimReview (JSON-LD) for one gold-level row that is a claim (one per claim).

    ``row`` maps column names to values (a gold row as a dict). ``publisher`` names the
    organisation whose editors set the gold labels. ``status_label`` is the human label of
    the row's status code (the code is used when it is not given). ``review_url`` should be
    the page presenting this review; without it the article URL is used, since a dataset has
    no review page (Google's rich results require ``url`` on the reviewer's own domain).
    Google's required properties (claimReviewed, reviewRating.alternateName, url) are always
    present; recommended ones (author, itemReviewed with its author and appearance,
    datePublished) are added when the row has them. No numeric ratingValue: verification
    statuses are categories, not a scale.
    """
    if not row.get("is_claim"):
        raise ValueError("ClaimReview needs a row labelled as a claim")
    status = row.get("status")
    if not status:
        raise ValueError("ClaimReview needs a verification status")
    url = review_url or row.get("url")
    if not url:
        raise ValueError("ClaimReview needs a URL: pass review_url or a row with an article url")
    claim_text = row.get("content_text") or row.get("sentence_text") or ""

    claim: dict[str, Any] = {"@type": "Claim"}
    source = row.get("source")
    if source:
        kind = "Person" if row.get("source_kind") in _PERSON_KINDS else "Organization"
        claim["author"] = {"@type": kind, "name": source}
    published_on = _iso_date(row.get("published_on"))
    if published_on:
        claim["datePublished"] = published_on
    appearance: dict[str, Any] = {"@type": "NewsArticle"}
    if row.get("url"):
        appearance["url"] = row["url"]
    if row.get("title"):
        appearance["headline"] = row["title"]
    if published_on:
        appearance["datePublished"] = published_on
    if row.get("outlet"):
        appearance["publisher"] = {"@type": "Organization", "name": row["outlet"]}
    if len(appearance) > 1:
        claim["appearance"] = appearance

    author: dict[str, Any] = {"@type": "Organization", "name": publisher}
    if publisher_url:
        author["url"] = publisher_url

    review: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "ClaimReview",
        "url": url,
        "claimReviewed": claim_text,
        "itemReviewed": claim,
        "reviewRating": {"@type": "Rating", "alternateName": status_label or status},
        "author": author,
    }
    reviewed_on = _iso_date(row.get("reviewed_at"))
    if reviewed_on:
        review["datePublished"] = reviewed_on
    return review


# --- Dataset card --------------------------------------------------------------------------

LICENCE_PLACEHOLDER = (
    "LICENCE AND USAGE: to be completed by the publisher before sharing. State the licence of "
    "the labels, the rights of the article texts (quoted for research), and how to cite."
)


def _md(value: object) -> str:
    """A value as one line of Markdown table text."""
    text = "" if value is None else str(value)
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime)):
        return _iso(value)
    return value


def dataset_card(
    *,
    filters: Mapping[str, Any],
    counts: Mapping[str, Any],
    agreement: Mapping[str, Any] | None,
    statuses: Sequence[Mapping[str, Any]],
    exported_at: dt.datetime,
    app_version: str,
    level: str,
    fmt: str,
    job: Mapping[str, Any] | None = None,
) -> tuple[str, dict[str, Any]]:
    """The dataset card of one export: (README.md text, card.json dict).

    ``counts`` holds plain numbers (e.g. ``rows``, ``articles``, ``sentences``, ``claims``)
    and breakdowns as mappings value → count (e.g. ``by_status``, ``by_source``,
    ``by_source_kind``). ``agreement`` holds figures by name, or is None. ``statuses`` are
    mappings with ``code``, ``label`` and ``guideline``. ``job`` (``id``, ``started_by``,
    ``started_at``) records the background job that wrote the export, if one did.
    """
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}; expected one of {sorted(LEVELS)}")
    if fmt not in ("csv", "jsonl"):
        raise ValueError(f"unknown format {fmt!r}; expected csv or jsonl")
    exported = format_datetime(exported_at)
    card: dict[str, Any] = {
        "name": "claimdesk export",
        "level": level,
        "level_description": LEVELS[level],
        "format": fmt,
        "data_file": f"data.{fmt}",
        "exported_at": exported,
        "app_version": app_version,
        "filters": _jsonable(filters),
        "counts": _jsonable(counts),
        "agreement": _jsonable(agreement) if agreement is not None else None,
        "statuses": [
            {
                "code": s.get("code", ""),
                "label": s.get("label", ""),
                "guideline": s.get("guideline", ""),
            }
            for s in statuses
        ],
        "columns": [
            {"name": c.name, "type": c.type, "description": c.description} for c in COLUMNS
        ],
        "licence": LICENCE_PLACEHOLDER,
    }
    if job is not None:
        card["job"] = _jsonable(job)

    lines = [
        f"# claimdesk dataset: {level} level ({fmt.upper()})",
        "",
        f"- Exported at: {exported}",
        f"- App version: {app_version}",
        f"- Level: `{level}`: {LEVELS[level]}",
        f"- Data file: `data.{fmt}`"
        + (
            " (spreadsheet-safe: a text cell starting with = + - @ or a control character "
            "has a leading ', see csv_safe; use the JSONL export for exact text)"
            if fmt == "csv"
            else " (one JSON object per line, exact text)"
        ),
        *(
            [
                f"- Export job: #{job['id']}, started by {_md(job['started_by'])} at "
                f"{_md(_iso(job['started_at']))}"
            ]
            if job is not None
            else []
        ),
        "",
        "## Filters",
        "",
    ]
    if filters:
        lines += [f"- {k}: {_md(_filter_text(v))}" for k, v in filters.items()]
    else:
        lines.append("- none (everything)")
    lines += ["", "## Counts", ""]
    scalars = [(k, v) for k, v in counts.items() if not isinstance(v, Mapping)]
    tables = [(k, v) for k, v in counts.items() if isinstance(v, Mapping)]
    lines += [f"- {k}: {_md(v)}" for k, v in scalars] or ["- (none given)"]
    for key, table in tables:
        lines += ["", f"### {key.replace('_', ' ').capitalize()}", "", "| value | count |"]
        lines.append("| --- | ---: |")
        ordered = sorted(table.items(), key=lambda kv: (-_as_number(kv[1]), str(kv[0])))
        lines += [f"| {_md(k) or '(none)'} | {_md(v)} |" for k, v in ordered]
    lines += ["", "## Agreement", ""]
    if agreement:
        lines += [f"- {k}: {_md(_filter_text(v))}" for k, v in agreement.items()]
    else:
        lines.append("- not computed for this export")
    lines += ["", "## Verification statuses", ""]
    for s in card["statuses"]:
        guideline = " ".join(str(s["guideline"]).split())
        lines.append(f"- `{s['code']}` ({s['label']}): {guideline or 'no guideline recorded'}")
    lines += ["", "## Columns", "", "| column | type | description |", "| --- | --- | --- |"]
    lines += [f"| `{c.name}` | {c.type} | {_md(c.description)} |" for c in COLUMNS]
    lines += [
        "",
        "Annotator and editor names are pseudonyms (keyed hashes), stable within one "
        "installation, never usernames.",
        "",
        "## Files",
        "",
        f"- `data.{fmt}`: the rows",
        "- `README.md`: this card",
        "- `card.json`: this card as JSON",
        "- `taxonomy.csv`: the source taxonomy (name, kind, side, status, aliases, description)",
        "- `attributions.jsonl`: one line per claim, PARC-style: source mention, cue and content"
        " spans with their texts (body offsets), article, sentences, status, type, who",
        "- `brat/`: brat standoff (`<who>/<article_id>.txt` = the body, `.ann` = the spans;"
        ' who is "gold" or an annotator pseudonym) and `brat/annotation.conf`',
        "- `claimreview.jsonld`: schema.org ClaimReview, one per gold claim (gold level only)",
        "",
        "## Licence and usage",
        "",
        LICENCE_PLACEHOLDER,
        "",
    ]
    return "\n".join(lines), card


def _filter_text(value: Any) -> str:
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={_filter_text(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple, set, frozenset)):
        return ", ".join(_filter_text(v) for v in value)
    if isinstance(value, (dt.date, dt.datetime)):
        return _iso(value) or ""
    return "" if value is None else str(value)


def _as_number(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) else 0.0


# --- Taxonomy ------------------------------------------------------------------------------

TAXONOMY_COLUMNS = ("name", "kind", "side", "status", "aliases", "description")


def taxonomy_csv(sources: Iterable[Mapping[str, Any]]) -> str:
    """The source taxonomy as CSV (same dialect as csv_chunks); aliases joined with "; "."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(TAXONOMY_COLUMNS)
    for source in sources:
        aliases = source.get("aliases") or ()
        if isinstance(aliases, str):
            aliases = (aliases,)
        values = (
            source.get("name"),
            source.get("kind"),
            source.get("side"),
            source.get("status"),
            "; ".join(aliases),
            source.get("description"),
        )
        writer.writerow(["" if v is None else csv_safe(str(v)) for v in values])
    return out.getvalue()


# --- ZIP bundle ----------------------------------------------------------------------------

DATA_NAMES = frozenset({"data.csv", "data.jsonl"})


def write_bundle(
    fileobj: IO[bytes],
    *,
    data_name: str,
    data_chunks: Iterable[str],
    card_md: str | Callable[[], str],
    card_json: Mapping[str, Any] | Callable[[], Mapping[str, Any]],
    taxonomy_csv: str,
    members: Iterable[tuple[str, str | Iterable[str]]] = (),
    compresslevel: int = 1,
    date_time: tuple[int, int, int, int, int, int] | None = None,
) -> None:
    """Write the export ZIP (deflate): data file, README.md, card.json, taxonomy.csv, then
    ``members``: (name, text or text chunks) pairs, read one at a time (a generator of them
    keeps memory flat; chunks are streamed into their member).

    The data chunks are streamed into the archive member, so memory stays flat; ``fileobj``
    may be unseekable (a streaming response). The data member comes first; the card may be
    given as a callable, called after the data is written, so counts gathered while
    streaming can go into it. Compression level 1 by default: several times faster than the
    default 6 on large exports, for somewhat bigger files.
    """
    if data_name not in DATA_NAMES:
        raise ValueError(f"data_name must be one of {sorted(DATA_NAMES)}")
    stamp = date_time or time.gmtime()[:6]

    def info(name: str) -> zipfile.ZipInfo:
        member = zipfile.ZipInfo(name, date_time=stamp)
        member.compress_type = zipfile.ZIP_DEFLATED
        member.external_attr = 0o644 << 16
        return member

    with zipfile.ZipFile(
        fileobj, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=compresslevel
    ) as archive:
        # force_zip64: the size is unknown up front and may pass 4 GiB.
        with archive.open(info(data_name), "w", force_zip64=True) as member:
            for chunk in data_chunks:
                member.write(chunk.encode())
        md = card_md() if callable(card_md) else card_md
        card = card_json() if callable(card_json) else card_json
        archive.writestr(info("README.md"), md.encode(), compresslevel=compresslevel)
        archive.writestr(
            info("card.json"),
            (json.dumps(_jsonable(card), ensure_ascii=False, indent=2) + "\n").encode(),
            compresslevel=compresslevel,
        )
        archive.writestr(info("taxonomy.csv"), taxonomy_csv.encode(), compresslevel=compresslevel)
        for name, content in members:
            if isinstance(content, str):
                archive.writestr(info(name), content.encode(), compresslevel=compresslevel)
                continue
            with archive.open(info(name), "w", force_zip64=True) as member:
                for chunk in content:
                    member.write(chunk.encode())


# --- PARC-style attributions ---------------------------------------------------------------

_COLUMN_INDEX = {name: i for i, name in enumerate(COLUMN_NAMES)}


def _span(row: Sequence[Any], name: str) -> dict[str, Any] | None:
    start = row[_COLUMN_INDEX[f"{name}_start"]]
    if start is None:
        return None
    return {
        "start": start,
        "end": row[_COLUMN_INDEX[f"{name}_end"]],
        "text": row[_COLUMN_INDEX[f"{name}_text"]],
    }


def attribution_record(row: Sequence[Any]) -> dict[str, Any] | None:
    """One attribution, PARC-style (source, cue and content spans), from a data row (COLUMNS
    order); None for a row without a claim. Offsets are into the article body."""
    i = _COLUMN_INDEX
    if row[i["claim_position"]] is None:
        return None
    source = row[i["source"]]
    ids = row[i["content_sentence_ids"]] or ""
    return {
        "article_id": row[i["article_id"]],
        "sentence_id": row[i["sentence_id"]],
        "sentence_ids": [int(x) for x in ids.split()],
        "annotator": row[i["annotator"]],
        "claim_position": row[i["claim_position"]],
        "source": _span(row, "mention"),
        "cue": _span(row, "cue"),
        "content": _span(row, "content"),
        "resolved_source": None
        if source is None
        else {"name": source, "kind": row[i["source_kind"]], "side": row[i["side"]]},
        "attribution_type": row[i["attribution_type"]] or None,
        "status": row[i["status"]],
        "note": row[i["note"]] or "",
        "evidence_url": row[i["evidence_url"]] or "",
    }


def attributions_jsonl_chunks(
    rows: Iterable[Sequence[Any]], *, rows_per_chunk: int = 1000
) -> Iterator[str]:
    """Data rows → ``attributions.jsonl`` text in chunks: one line per claim (rows without a
    claim are left out), exact UTF-8 text, every line ending in ``\\n``."""
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    batch: list[str] = []
    for row in rows:
        record = attribution_record(row)
        if record is None:
            continue
        batch.append(dumps(record))
        if len(batch) == rows_per_chunk:
            batch.append("")
            yield "\n".join(batch)
            batch.clear()
    if batch:
        batch.append("")
        yield "\n".join(batch)


# --- brat standoff -------------------------------------------------------------------------

# Entities: the source mention, the cue and the content of an attribution. Relations go from
# the mention and the cue to the content they belong to; attributes sit on the content.
BRAT_ENTITIES = ("Content", "Cue", "Source")
BRAT_RELATIONS = {"SourceOf": ("Source", "Content"), "CueOf": ("Cue", "Content")}
BRAT_ATTRIBUTION_TYPES = ("direct_quote", "paraphrase", "unnamed", "none")
# brat's separator between the texts of a discontinuous span's fragments (DISCONT_SEP).
BRAT_FRAGMENT_SEPARATOR = " "
# Every character str.splitlines() breaks at: brat reads .ann files line by line, so a span's
# text in a T line can hold none of them; a span over one is written as fragments around it.
_LINE_BREAKS = frozenset("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")


def brat_fragments(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """``text[start:end]`` as brat fragments: the runs of characters between line breaks
    (empty runs dropped), so that every fragment's text fits on one line."""
    fragments, run = [], start
    for i in range(start, end):
        if text[i] in _LINE_BREAKS:
            if i > run:
                fragments.append((run, i))
            run = i + 1
    if end > run:
        fragments.append((run, end))
    return fragments


@dataclass(frozen=True, slots=True)
class BratClaim:
    """What a brat document needs of one claim: body offsets and the labels."""

    content: tuple[int, int]
    status: str
    cue: tuple[int, int] | None = None
    mention: tuple[int, int] | None = None
    source: str | None = None  # the resolved source's name; None: unattributed
    attribution_type: str = ""
    note: str = ""
    evidence_url: str = ""


def _one_line(value: str) -> str:
    return " ".join(value.replace("\t", " ").splitlines()).strip()


def brat_ann(text: str, claims: Iterable[BratClaim]) -> str:
    """The brat ``.ann`` standoff of the claims of one label set over one document.

    T lines for each claim's Content, Cue and Source mention (fragments ``s e;s e`` when a
    span crosses a line break, their texts joined by a space); a Cue or Source span shared by
    several claims is written once. R lines ``CueOf`` and ``SourceOf`` (Arg1: the cue or the
    mention, Arg2: the content); A lines ``Status`` and ``AttributionType`` on the content; #
    notes on the content: ``source: <resolved name>`` (or ``unattributed``), and the claim's
    note and evidence URL when it has them. A span with no character outside line breaks
    cannot be written and is left out (a claim whose content is such a span, entirely).
    """
    t_lines: list[str] = []
    other: list[str] = []
    shared: dict[tuple[str, tuple[int, int]], str] = {}
    counts = {"T": 0, "R": 0, "A": 0, "#": 0}

    def next_id(kind: str) -> str:
        counts[kind] += 1
        return f"{kind}{counts[kind]}"

    def entity(kind: str, span: tuple[int, int], reuse: bool) -> str | None:
        if reuse and (kind, span) in shared:
            return shared[kind, span]
        fragments = brat_fragments(text, *span)
        if not fragments:
            return None
        tid = next_id("T")
        offsets = ";".join(f"{s} {e}" for s, e in fragments)
        words = BRAT_FRAGMENT_SEPARATOR.join(text[s:e] for s, e in fragments)
        t_lines.append(f"{tid}\t{kind} {offsets}\t{words}")
        if reuse:
            shared[kind, span] = tid
        return tid

    for claim in claims:
        content = entity("Content", claim.content, reuse=False)
        if content is None:
            continue
        for relation, kind, span in (
            ("CueOf", "Cue", claim.cue),
            ("SourceOf", "Source", claim.mention),
        ):
            if span is not None and (tid := entity(kind, span, reuse=True)):
                other.append(f"{next_id('R')}\t{relation} Arg1:{tid} Arg2:{content}")
        other.append(f"{next_id('A')}\tStatus {content} {claim.status}")
        if claim.attribution_type:
            other.append(f"{next_id('A')}\tAttributionType {content} {claim.attribution_type}")
        notes = [f"source: {claim.source}" if claim.source else "source: unattributed"]
        if claim.note:
            notes.append(f"note: {claim.note}")
        if claim.evidence_url:
            notes.append(f"evidence: {claim.evidence_url}")
        for note in notes:
            other.append(f"{next_id('#')}\tAnnotatorNotes {content}\t{_one_line(note)}")
    lines = t_lines + other
    return "".join(line + "\n" for line in lines)


def brat_annotation_conf(statuses: Iterable[str]) -> str:
    """brat's ``annotation.conf`` for the attribution entities, relations and attributes."""
    codes = "|".join(statuses) or "unverified"
    return "\n".join(
        [
            "# claimdesk attributions: who (Source mention) says (Cue) what (Content).",
            "# Offsets are into the .txt, which is the article body exactly.",
            "[entities]",
            *BRAT_ENTITIES,
            "",
            "[relations]",
            *(f"{name}\tArg1:{a}, Arg2:{b}" for name, (a, b) in BRAT_RELATIONS.items()),
            "# Spans of one document may overlap (a cue inside a content, claims sharing words).",
            "<OVERLAP>\tArg1:<ENTITY>, Arg2:<ENTITY>, <OVL-TYPE>:<ANY>",
            "",
            "[events]",
            "",
            "[attributes]",
            f"Status\tArg:Content, Value:{codes}",
            f"AttributionType\tArg:Content, Value:{'|'.join(BRAT_ATTRIBUTION_TYPES)}",
            "",
        ]
    )


def _brat_claim(row: Sequence[Any]) -> BratClaim:
    i = _COLUMN_INDEX

    def span(name: str) -> tuple[int, int] | None:
        start = row[i[f"{name}_start"]]
        return None if start is None else (start, row[i[f"{name}_end"]])

    return BratClaim(
        content=(row[i["content_start"]], row[i["content_end"]]),
        cue=span("cue"),
        mention=span("mention"),
        source=row[i["source"]],
        status=row[i["status"]],
        attribution_type=row[i["attribution_type"]] or "",
        note=row[i["note"]] or "",
        evidence_url=row[i["evidence_url"]] or "",
    )


def brat_documents(
    rows: Iterable[Sequence[Any]], bodies: Iterable[tuple[int, str]]
) -> Iterator[tuple[str, str]]:
    """Data rows (ordered by article) and (article id, body) pairs (in id order) → brat files
    as (path, text): ``<who>/<article_id>.txt`` (the body exactly) and ``.ann``, where who is
    the rows' annotator column ("gold" or a pseudonym). Every label set with a row in an
    article gets its pair of files, an empty ``.ann`` when it holds no claim. One article's
    rows are held at a time."""
    i = _COLUMN_INDEX
    article_col, who_col, position_col = i["article_id"], i["annotator"], i["claim_position"]
    bodies = iter(bodies)

    def body_of(article_id: int) -> str:
        for found, body in bodies:
            if found == article_id:
                return body
        raise ValueError(f"no body for article {article_id}: bodies must be in id order")

    def documents(article_id: int, by_who: dict[str, list[BratClaim]]) -> Iterator[tuple]:
        body = body_of(article_id)
        for who, claims in by_who.items():
            yield f"{who}/{article_id}.txt", body
            yield f"{who}/{article_id}.ann", brat_ann(body, claims)

    current, by_who = None, {}
    for row in rows:
        article_id = row[article_col]
        if article_id != current:
            if current is not None:
                yield from documents(current, by_who)
            current, by_who = article_id, {}
        claims = by_who.setdefault(row[who_col], [])
        if row[position_col] is not None:
            claims.append(_brat_claim(row))
    if current is not None:
        yield from documents(current, by_who)


@dataclass(frozen=True, slots=True)
class BratSpan:
    """A T line read back: its type, its fragments and the text it gives."""

    type: str
    fragments: tuple[tuple[int, int], ...]
    text: str


def read_brat_ann(ann: str) -> dict[str, Any]:
    """Parse a brat ``.ann`` (the subset brat_ann writes, in brat's standoff syntax):
    ``{"T": {id: BratSpan}, "R": {id: (type, arg1, arg2)}, "A": {id: (name, target, value)},
    "#": [(target, note)]}``. Raises ValueError on a line it cannot read."""
    out: dict[str, Any] = {"T": {}, "R": {}, "A": {}, "#": []}
    for number, line in enumerate(ann.split("\n"), 1):
        if not line:
            continue
        parts = line.split("\t", 2)
        ident = parts[0]
        try:
            if ident.startswith("T"):
                kind, _, offsets = parts[1].partition(" ")
                fragments = tuple(
                    (int(s), int(e)) for s, e in (piece.split(" ") for piece in offsets.split(";"))
                )
                out["T"][ident] = BratSpan(kind, fragments, parts[2])
            elif ident.startswith("R"):
                kind, arg1, arg2 = parts[1].split(" ")
                out["R"][ident] = (kind, arg1.removeprefix("Arg1:"), arg2.removeprefix("Arg2:"))
            elif ident.startswith("A"):
                name, target, value = parts[1].split(" ")
                out["A"][ident] = (name, target, value)
            elif ident.startswith("#"):
                _, target = parts[1].split(" ")
                out["#"].append((target, parts[2]))
            else:
                raise ValueError(f"unknown annotation {ident!r}")
        except (IndexError, ValueError) as error:
            raise ValueError(f"line {number}: {line!r}: {error}") from error
    return out
