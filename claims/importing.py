"""Parse article files (.txt, .jsonl, .csv) into validated records, naming the place of any error.

Nothing here touches the database: a file is parsed and validated completely before
`services.articles_import` writes anything, so a bad file imports nothing.
"""

import csv
import datetime
import hashlib
import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from claims import segmentation

COLUMNS = ("title", "body", "published_on", "outlet", "url", "external_id")
REQUIRED_COLUMNS = ("body",)
FORMATS = (".txt", ".jsonl", ".csv")
TITLE_MAX = 500
TITLE_FROM_BODY_MAX = 200
URL_MAX = 1000
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class ImportFileError(Exception):
    """A file that cannot be imported; the message names the file, the place and the reason."""

    def __init__(self, name: str, reason: str, *, line: int | None = None, row: int | None = None):
        self.name, self.reason, self.line, self.row = name, reason, line, row
        super().__init__(f"{place(name, line=line, row=row)}: {reason}")


def place(name: str, *, line: int | None = None, row: int | None = None) -> str:
    """Where in a file something is: "articles.csv, row 3, line 4"."""
    parts = [name]
    if row is not None:
        parts.append(f"row {row}")
    if line is not None:
        parts.append(f"line {line}")
    return ", ".join(parts)


@dataclass(frozen=True)
class ArticleRecord:
    body: str
    title: str = ""  # empty: the article's first sentence becomes its title
    published_on: datetime.date | None = None
    outlet: str = ""
    url: str = ""
    external_id: str | None = None
    place: str = field(default="", compare=False)  # "file.csv, row 3" for error messages


def body_checksum(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def title_from_body(body: str, segments: list[segmentation.Segment] | None = None) -> str:
    """The first sentence, shortened to a readable title (`segments`: the body's, if known)."""
    if segments is None:
        segments = segmentation.segment(body)
    segments = [s for s in segments if s.kind == segmentation.SENTENCE]
    text = " ".join((segments[0].text if segments else body.strip()).split())
    if len(text) > TITLE_FROM_BODY_MAX:
        text = text[: TITLE_FROM_BODY_MAX - 1].rsplit(" ", 1)[0] + "…"
    return text


def decode(name: str, data: bytes, *, max_bytes: int) -> str:
    if len(data) > max_bytes:
        raise ImportFileError(
            name, f"file is {len(data):,} bytes; the limit is {max_bytes:,} bytes"
        )
    if not data.strip():
        raise ImportFileError(name, "file is empty")
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise ImportFileError(name, "contains a NUL character; this is not a text file", line=line)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportFileError(name, not_utf8_reason(data, exc.start), line=line) from None


def not_utf8_reason(data: bytes, offset: int) -> str:
    """Why bytes are not UTF-8 text, naming the likely encoding so that a person can fix it."""
    byte = data[offset]
    if _looks_binary(data):
        return f"not a text file (binary data, byte 0x{byte:02x} at offset {offset})"
    try:
        data.decode("cp1252")
    except UnicodeDecodeError:
        guess = ""
    else:  # Windows-1252 (and so Latin-1) text: what Excel on Windows saves as "CSV"
        guess = "; it looks like Windows-1252 (cp1252) or Latin-1 text, as Excel saves it"
    return (
        f"not UTF-8 text (invalid byte 0x{byte:02x} at offset {offset}){guess}; "
        "save it as UTF-8 (in Excel: CSV UTF-8)"
    )


def _looks_binary(data: bytes) -> bool:
    """Control characters other than tab, CR, LF and form feed in the first 8 KB."""
    head = data[:8192]
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13))
    return controls > max(2, len(head) // 100)


def parse_file(path: Path, *, max_bytes: int) -> list[ArticleRecord]:
    """Read and parse one file, choosing the parser by its extension."""
    name = str(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ImportFileError(
            name, f"unsupported file type {suffix or '(none)'!r}; use .txt, .jsonl or .csv"
        )
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ImportFileError(name, f"cannot read the file ({exc.strerror})") from None
    if size > max_bytes:
        raise ImportFileError(name, f"file is {size:,} bytes; the limit is {max_bytes:,} bytes")
    return parse_bytes(name, suffix, path.read_bytes(), max_bytes=max_bytes)


def parse_bytes(name: str, suffix: str, data: bytes, *, max_bytes: int) -> list[ArticleRecord]:
    text = decode(name, data, max_bytes=max_bytes)
    if suffix == ".txt":
        return [parse_txt(name, text)]
    if suffix == ".jsonl":
        records = parse_jsonl(name, text)
    else:
        records = parse_csv(name, text)
    check_unique_ids(name, records, unit="line" if suffix == ".jsonl" else "row")
    return [record for _, record in records]


def parse_txt(name: str, text: str) -> ArticleRecord:
    try:
        published_on, offset = segmentation.parse_header(text)
    except segmentation.HeaderError as exc:
        raise ImportFileError(name, str(exc), line=1) from None
    if not text[offset:].strip():
        raise ImportFileError(name, "the article has no text after the date header")
    return ArticleRecord(body=text, published_on=published_on, place=name)


def parse_jsonl(name: str, text: str) -> list[tuple[int, ArticleRecord]]:
    records = []
    # Split on "\n" only: str.splitlines() would also break at U+2028 inside JSON strings.
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.removesuffix("\r")
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ImportFileError(name, f"invalid JSON ({exc.msg})", line=number) from None
        if not isinstance(obj, dict):
            raise ImportFileError(name, "each line must be a JSON object", line=number)
        check_columns(name, obj.keys(), line=number)
        records.append((number, build_record(name, obj, line=number)))
    if not records:
        raise ImportFileError(name, "file has no articles")
    return records


def parse_csv(name: str, text: str) -> list[tuple[int, ArticleRecord]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        header = reader.fieldnames or []
    except csv.Error as exc:
        raise ImportFileError(name, f"malformed CSV ({exc})", line=1) from None
    check_columns(name, [h.strip() for h in header], line=1)
    records = []
    row_number = 0
    try:
        for row_number, row in enumerate(reader, start=1):
            if None in row:
                raise ImportFileError(
                    name,
                    "row has more cells than the header",
                    row=row_number,
                    line=reader.line_num,
                )
            values = {k.strip(): v for k, v in row.items() if v is not None}
            records.append((row_number, build_record(name, values, row=row_number)))
    except csv.Error as exc:
        raise ImportFileError(name, f"malformed CSV ({exc})", line=reader.line_num) from None
    if not records:
        raise ImportFileError(name, "file has a header but no rows")
    return records


def check_columns(name: str, columns, *, line: int, allowed: tuple[str, ...] = COLUMNS) -> None:
    columns = set(columns)
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing and len(columns) == 1 and (separator := _other_separator(next(iter(columns)))):
        raise ImportFileError(
            name,
            f"the columns are separated by {separator!r}, not by commas; save the file as "
            f"comma-separated CSV (columns: {', '.join(COLUMNS)})",
            line=line,
        )
    if missing:
        raise ImportFileError(
            name,
            f"missing column(s): {', '.join(missing)} (columns: {', '.join(COLUMNS)})",
            line=line,
        )
    unknown = sorted(c for c in columns if c not in allowed)
    if unknown:
        raise ImportFileError(
            name,
            f"unknown column(s): {', '.join(unknown)} (columns: {', '.join(COLUMNS)})",
            line=line,
        )


def _other_separator(header: str) -> str | None:
    """The separator of a header read as one column: ";" (Excel in many locales) or tab."""
    for separator in (";", "\t", "|"):
        if any(c in REQUIRED_COLUMNS for c in (p.strip() for p in header.split(separator))):
            return separator
    return None


def build_record(name: str, values: dict, *, line: int | None = None, row: int | None = None):
    """Validate one row's values into a record."""

    def fail(reason: str):
        raise ImportFileError(name, reason, line=line, row=row)

    def text(key: str) -> str:
        value = values.get(key)
        if value is None:
            return ""
        if not isinstance(value, str | int):
            fail(f"{key} must be text")
        return str(value)

    body = text("body")
    if not body.strip():
        fail("body is empty")
    title = " ".join(text("title").split())
    if len(title) > TITLE_MAX:
        fail(f"title is {len(title)} characters; at most {TITLE_MAX}")
    published_on = None
    if date_text := text("published_on").strip():
        try:
            if not ISO_DATE.fullmatch(date_text):
                raise ValueError
            published_on = datetime.date.fromisoformat(date_text)
        except ValueError:
            fail(f"published_on {date_text!r} is not a valid date (YYYY-MM-DD)")
    url = text("url").strip()
    if len(url) > URL_MAX:
        fail(f"url is {len(url)} characters; at most {URL_MAX}")
    if url:
        try:
            URLValidator(schemes=["http", "https"])(url)
        except ValidationError:
            fail(f"url {url!r} is not a valid http(s) address")
    external_id = text("external_id").strip() or None
    if external_id and len(external_id) > 200:
        fail("external_id is longer than 200 characters")
    outlet = text("outlet").strip()
    if len(outlet) > 200:
        fail("outlet is longer than 200 characters")
    return ArticleRecord(
        title=title,
        body=body,
        published_on=published_on,
        outlet=outlet,
        url=url,
        external_id=external_id,
        place=place(name, line=line, row=row),
    )


def check_unique_ids(name: str, records: list[tuple[int, ArticleRecord]], *, unit: str) -> None:
    seen: dict[str, int] = {}
    for number, record in records:
        if record.external_id is None:
            continue
        if record.external_id in seen:
            raise ImportFileError(
                name,
                f"external_id {record.external_id!r} appears twice "
                f"(first in {unit} {seen[record.external_id]})",
                **{unit: number},
            )
        seen[record.external_id] = number


# --- spreadsheets (admin uploads) -----------------------------------------------------------

XLSX_MAX_MEMBERS = 1000
MAX_COLUMNS = 100  # a spreadsheet's rows are padded to its header's width: bound it


def check_width(name: str, width: int) -> None:
    if width > MAX_COLUMNS:
        raise ImportFileError(
            name,
            f"{width:,} columns; at most {MAX_COLUMNS} (columns: {', '.join(COLUMNS)})",
            line=1,
        )


def check_xlsx_archive(name: str, data: bytes, *, max_uncompressed: int) -> None:
    """Refuse an XLSX (a zip archive) that would unpack to more than `max_uncompressed` bytes,
    before any XML is parsed: a 1 MB file can unpack to gigabytes. The sizes checked are the
    ones the archive declares, which are also the most zipfile will ever read of a member."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError):
        raise ImportFileError(
            name, "not an XLSX file (it is not a zip archive); choose the file's real format"
        ) from None
    with archive:
        members = archive.infolist()
    if len(members) > XLSX_MAX_MEMBERS:
        raise ImportFileError(name, f"not a plain spreadsheet ({len(members):,} parts)")
    total = sum(member.file_size for member in members)
    if total > max_uncompressed:
        raise ImportFileError(
            name,
            f"the spreadsheet unpacks to {total:,} bytes; the limit is {max_uncompressed:,} "
            "bytes (split it into several files)",
        )


def read_xlsx(
    name: str, data: bytes, *, max_rows: int, max_uncompressed: int
) -> tuple[list[str], list[list]]:
    """The header and rows of the first sheet, streamed, refusing more than `max_rows` rows."""
    import openpyxl

    check_xlsx_archive(name, data, max_uncompressed=max_uncompressed)
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:
        raise ImportFileError(name, f"cannot read the spreadsheet ({_reason(exc)})") from None
    try:
        sheet = book.active
        header = next(sheet.iter_rows(max_row=1, values_only=True), None) or ()
        while header and header[-1] in (None, ""):
            header = header[:-1]
        if not header:
            raise ImportFileError(name, "the first sheet has no header row", line=1)
        width = len(header)
        check_width(name, width)
        rows = []
        for line, row in enumerate(sheet.iter_rows(min_row=2, max_col=width, values_only=True), 2):
            if line - 1 > max_rows:
                raise ImportFileError(
                    name, f"more than {max_rows:,} rows; the limit is {max_rows:,}", line=line
                )
            rows.append([*row, *[None] * (width - len(row))])
    except ImportFileError:
        raise
    except Exception as exc:
        raise ImportFileError(name, f"cannot read the spreadsheet ({_reason(exc)})") from None
    finally:
        book.close()
    return ["" if h is None else str(h).strip() for h in header], rows


def _reason(exc: BaseException) -> str:
    """The root cause, first line: openpyxl wraps e.g. defusedxml's EntitiesForbidden."""
    while exc.__cause__ is not None or exc.__context__ is not None:
        exc = exc.__cause__ or exc.__context__
    text = str(exc).strip().split("\n")[0]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


# --- uploads in the app (the import job): spreadsheets and zip archives too -------------------

UPLOAD_FORMATS = (*FORMATS, ".xlsx", ".zip")
ZIP_MEMBER_FORMATS = (*FORMATS, ".xlsx")


def suffix_of(name: str) -> str:
    return Path(name).suffix.lower()


def parse_upload(
    name: str, data: bytes, *, max_bytes: int, max_rows: int, max_unpacked: int
) -> list[ArticleRecord]:
    """Parse one uploaded file (.txt, .jsonl, .csv, .xlsx, or a .zip of those) into records.

    A zip is one upload: its members are parsed as the files they are, and an error in any of
    them refuses the whole zip, naming the member ("articles.zip/b.txt, line 1").
    """
    suffix = suffix_of(name)
    if suffix not in UPLOAD_FORMATS:
        raise ImportFileError(
            name, f"unsupported file type {suffix or '(none)'!r}; use {', '.join(UPLOAD_FORMATS)}"
        )
    if len(data) > max_bytes:
        raise ImportFileError(
            name, f"file is {len(data):,} bytes; the limit is {max_bytes:,} bytes"
        )
    if suffix == ".zip":
        return parse_zip(
            name, data, max_bytes=max_bytes, max_rows=max_rows, max_unpacked=max_unpacked
        )
    if suffix == ".xlsx":
        return parse_xlsx(name, data, max_rows=max_rows, max_unpacked=max_unpacked)
    return parse_bytes(name, suffix, data, max_bytes=max_bytes)


def parse_xlsx(name: str, data: bytes, *, max_rows: int, max_unpacked: int) -> list[ArticleRecord]:
    """The first sheet's rows as records, by the same column rules as a CSV file."""
    header, rows = read_xlsx(name, data, max_rows=max_rows, max_uncompressed=max_unpacked)
    check_columns(name, header, line=1)
    records = []
    for number, row in enumerate(rows, start=1):
        values = {key: _cell(value) for key, value in zip(header, row, strict=True) if key}
        if all(value in (None, "") for value in values.values()):
            continue  # an empty row, as spreadsheets have at their end
        records.append((number, build_record(name, values, row=number, line=number + 1)))
    if not records:
        raise ImportFileError(name, "the sheet has a header but no rows")
    check_unique_ids(name, records, unit="row")
    return [record for _, record in records]


def _cell(value):
    """A spreadsheet cell as the text a CSV cell would hold (date cells as YYYY-MM-DD)."""
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, float | bool):
        return str(value)
    return value


def parse_zip(
    name: str, data: bytes, *, max_bytes: int, max_rows: int, max_unpacked: int
) -> list[ArticleRecord]:
    """The articles of every supported file in a zip archive, in the archive's name order.
    The sizes the archive declares are checked before anything is unpacked."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError):
        raise ImportFileError(name, "not a zip archive (it cannot be opened)") from None
    with archive:
        members = [
            m
            for m in archive.infolist()
            if not m.is_dir() and not _hidden(m.filename) and suffix_of(m.filename)
        ]
        if len(members) > max_rows:
            raise ImportFileError(name, f"{len(members):,} files; at most {max_rows:,}")
        total = sum(m.file_size for m in members)
        if total > max_unpacked:
            raise ImportFileError(
                name,
                f"the archive unpacks to {total:,} bytes; the limit is {max_unpacked:,} bytes "
                "(split it into several archives)",
            )
        records = []
        for member in sorted(members, key=lambda m: m.filename):
            inner = f"{name}/{member.filename}"
            if suffix_of(member.filename) not in ZIP_MEMBER_FORMATS:
                raise ImportFileError(
                    inner,
                    f"unsupported file type {suffix_of(member.filename)!r} in the archive; "
                    f"use {', '.join(ZIP_MEMBER_FORMATS)}",
                )
            if member.file_size > max_bytes:
                raise ImportFileError(
                    inner, f"file is {member.file_size:,} bytes; the limit is {max_bytes:,} bytes"
                )
            try:
                content = archive.read(member)
            except (zipfile.BadZipFile, RuntimeError, NotImplementedError, OSError) as exc:
                raise ImportFileError(inner, f"cannot be unpacked ({exc})") from None
            records += parse_upload(
                inner, content, max_bytes=max_bytes, max_rows=max_rows, max_unpacked=max_unpacked
            )
            if len(records) > max_rows:
                raise ImportFileError(
                    name, f"more than {max_rows:,} articles; the limit is {max_rows:,}"
                )
    if not records:
        raise ImportFileError(name, f"the archive has no {', '.join(ZIP_MEMBER_FORMATS)} files")
    return records


def _hidden(path: str) -> bool:
    """Files an archiver adds beside the real ones (macOS's __MACOSX/ and ._name, .DS_Store)."""
    return any(part.startswith(".") or part == "__MACOSX" for part in path.split("/"))
