"""django-import-export resources: the admin's spreadsheet import/export of articles.

Also what an admin upload goes through before any resource sees it: the file formats it may
have (read within limits and without changing the text) and the private folder where it
waits for the confirm step.
"""

import contextlib
import csv
import datetime
import io
import json
import os
import re
import secrets
import stat
import time
from pathlib import Path

import tablib
from django.conf import settings
from django.core.exceptions import (
    ImproperlyConfigured,
    SuspiciousFileOperation,
)
from import_export import fields, resources, widgets
from import_export.formats import base_formats
from import_export.tmp_storages import BaseStorage

from claims import dataset, exporting, importing, services
from claims.models import Annotation, Article, GoldLabel, Source, VerificationStatus

# --- upload formats --------------------------------------------------------------------------

UPLOAD = "the file"  # how messages name an upload (the format does not know its file name)


def _text(data: bytes | str) -> str:
    """An upload as text: UTF-8 (a BOM allowed), else a message naming the line and why."""
    if isinstance(data, str):
        return data
    return importing.decode(UPLOAD, data, max_bytes=settings.CLAIMDESK_MAX_IMPORT_BYTES)


def _dataset(headers: list[str], rows: list[list]) -> tablib.Dataset:
    limit = settings.CLAIMDESK_MAX_IMPORT_ROWS
    if len(rows) > limit:
        raise importing.ImportFileError(UPLOAD, f"{len(rows):,} rows; the limit is {limit:,}")
    return tablib.Dataset(*rows, headers=headers)


class UploadCSV(base_formats.CSV):
    """CSV read as the import command reads it: strict UTF-8, and every line break inside a
    cell kept as it is (a CRLF stays CRLF, so the checksum matches the command's import)."""

    def create_dataset(self, in_stream):
        text = _text(in_stream)
        try:
            table = list(csv.reader(io.StringIO(text, newline="")))  # as the command
        except csv.Error as exc:
            raise importing.ImportFileError(UPLOAD, f"malformed CSV ({exc})") from None
        table = [row for row in table if row]
        if not table:
            raise importing.ImportFileError(UPLOAD, "file is empty")
        headers, rows = table[0], table[1:]
        importing.check_width(UPLOAD, len(headers))
        for number, row in enumerate(rows, start=1):
            if len(row) > len(headers):
                raise importing.ImportFileError(
                    UPLOAD, "row has more cells than the header", row=number
                )
            row += [""] * (len(headers) - len(row))
        return _dataset(headers, rows)


class UploadJSON(base_formats.JSON):
    """A JSON list of objects; every key of every object is a column (none dropped)."""

    def create_dataset(self, in_stream):
        try:
            objects = json.loads(_text(in_stream))
        except json.JSONDecodeError as exc:
            raise importing.ImportFileError(
                UPLOAD, f"invalid JSON ({exc.msg})", line=exc.lineno
            ) from None
        if not isinstance(objects, list) or not all(isinstance(o, dict) for o in objects):
            raise importing.ImportFileError(
                UPLOAD, 'a JSON import is a list of objects: [{"body": "..."}, ...]'
            )
        headers = list(dict.fromkeys(key for o in objects for key in o))
        importing.check_width(UPLOAD, len(headers))
        return _dataset(headers, [[o.get(key) for key in headers] for o in objects])


class UploadXLSX(base_formats.XLSX):
    """The first sheet, its unpacked size checked before parsing, its rows capped."""

    def create_dataset(self, in_stream):
        headers, rows = importing.read_xlsx(
            UPLOAD,
            in_stream,
            max_rows=settings.CLAIMDESK_MAX_IMPORT_ROWS,
            max_uncompressed=settings.CLAIMDESK_MAX_IMPORT_XLSX_UNPACKED_BYTES,
        )
        return _dataset(headers, rows)


UPLOAD_FORMATS = [UploadCSV, UploadXLSX, UploadJSON]


# --- the upload waiting for the confirm step ------------------------------------------------


class PrivateImportStorage(BaseStorage):
    """Uploads waiting for the admin's confirm step: in a folder only claimdesk's user may
    enter (0700), each file 0600 under a random name, removed once imported or when its
    preview failed, and after a day at the latest.

    The confirm form names the file in a hidden field, so a name this storage did not make
    (a path, `../`, anything but 32 hex digits) is refused as a suspicious operation (400)
    and never opened.
    """

    NAME = re.compile(r"[0-9a-f]{32}")
    MAX_AGE = 24 * 3600  # seconds

    @classmethod
    def owns(cls, name) -> bool:
        return isinstance(name, str) and cls.NAME.fullmatch(name) is not None

    @staticmethod
    def folder() -> Path:
        """The folder, made 0700 if missing. An existing one is never chmod-ed (it could be
        /tmp): it must already be a private folder of this user, not a link, or nothing is
        written there."""
        folder = Path(settings.CLAIMDESK_IMPORT_TMP_DIR)
        with contextlib.suppress(FileExistsError):
            folder.mkdir(mode=0o700, parents=True)
        info = folder.lstat()
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid() or info.st_mode & 0o077:
            raise ImproperlyConfigured(
                f"CLAIMDESK_IMPORT_TMP_DIR ({folder}) must be a folder of its own, owned by "
                f"claimdesk's user and private (chmod 700 {folder}), not a link"
            )
        return folder

    def path(self) -> Path:
        if not self.owns(self.name):
            raise SuspiciousFileOperation("not an upload of this import")
        return self.folder() / self.name

    def exists(self) -> bool:
        return self.owns(self.name) and self.path().is_file()

    def save(self, data):
        self._sweep()
        self.name = secrets.token_hex(16)
        if isinstance(data, str):
            data = data.encode(self.encoding or "utf-8")
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        with os.fdopen(os.open(self.path(), flags, 0o600), "wb") as file:
            file.write(data)

    def read(self):
        return self.path().read_bytes()  # bytes: the upload formats decode (and check) it

    def remove(self):
        if self.owns(self.name):
            self.path().unlink(missing_ok=True)

    def _sweep(self) -> None:
        """Remove uploads whose preview was left without a confirm."""
        cutoff = time.time() - self.MAX_AGE
        for entry in os.scandir(self.folder()):
            if self.owns(entry.name) and entry.stat(follow_symlinks=False).st_mtime < cutoff:
                Path(entry.path).unlink(missing_ok=True)


# --- resources -------------------------------------------------------------------------------


class IsoDateWidget(widgets.DateWidget):
    """Dates as the import command takes them: YYYY-MM-DD only (or a spreadsheet date cell).
    Django's other input formats would read 03/04/2024 as the 4th of March."""

    MESSAGE = "{!r} is not a date in the format YYYY-MM-DD (e.g. 2024-02-24)"

    def __init__(self):
        super().__init__(format="%Y-%m-%d")

    def clean(self, value, row=None, **kwargs):
        if isinstance(value, datetime.datetime):
            return value.date()
        if isinstance(value, datetime.date):
            return value
        text = "" if value is None else str(value).strip()
        if not text:
            return None
        if not importing.ISO_DATE.fullmatch(text):
            raise ValueError(self.MESSAGE.format(text))
        try:
            return datetime.date.fromisoformat(text)
        except ValueError:
            raise ValueError(self.MESSAGE.format(text)) from None


class SpreadsheetSafeResource(resources.ModelResource):
    """Admin exports open in spreadsheets: every text cell goes through the one sanitiser,
    and an import takes the protective quote off again, so a round trip changes nothing."""

    def export_field(self, field, instance, **kwargs):
        value = super().export_field(field, instance, **kwargs)
        return exporting.csv_safe(value) if isinstance(value, str) else value

    def before_import_row(self, row, **kwargs):
        for key, value in row.items():
            if isinstance(value, str):
                row[key] = exporting.csv_unescape(value)
        super().before_import_row(row, **kwargs)


class ArticleResource(SpreadsheetSafeResource):
    """Admin export of articles (CSV, JSON, XLSX). Articles are imported by the import job
    (the import page, claims/jobs/imports.py); the admin's import sends there."""

    published_on = fields.Field(
        attribute="published_on", column_name="published_on", widget=IsoDateWidget()
    )

    class Meta:
        model = Article
        fields = ("id", "title", "body", "published_on", "outlet", "url", "external_id")


def record_from(article: Article) -> importing.ArticleRecord:
    return importing.ArticleRecord(
        body=article.body,
        title=article.title,
        published_on=article.published_on,
        outlet=article.outlet,
        url=article.url,
        external_id=article.external_id,
    )


class AliasesWidget(widgets.Widget):
    """Aliases as one cell: "Russian MoD; the Defence Ministry"."""

    def clean(self, value, row=None, **kwargs):
        return [a.strip() for a in str(value or "").split(";") if a.strip()]

    def render(self, value, obj=None, **kwargs):
        if value is None or value.instance.pk is None:  # a new source, not saved yet
            return ""
        return "; ".join(alias.alias for alias in value.all())


class SourceResource(SpreadsheetSafeResource):
    """The source taxonomy, editable in a spreadsheet: matched by name, aliases added."""

    aliases = fields.Field(attribute="aliases", column_name="aliases", widget=AliasesWidget())

    class Meta:
        model = Source
        fields = ("name", "kind", "side", "status", "description", "aliases")
        import_id_fields = ["name"]
        skip_unchanged = False
        clean_model_instances = True
        use_transactions = True

    def import_field(self, field, instance, row, is_m2m=False, **kwargs):
        if field.attribute == "aliases":  # saved after the instance, in after_save_instance
            instance._imported_aliases = field.clean(row, **kwargs)
            return
        super().import_field(field, instance, row, is_m2m=is_m2m, **kwargs)

    def after_save_instance(self, instance, row, **kwargs):
        services.source_upsert(
            name=instance.name,
            kind=instance.kind,
            side=instance.side,
            description=instance.description,
            aliases=getattr(instance, "_imported_aliases", []),
        )


class VerificationStatusResource(SpreadsheetSafeResource):
    class Meta:
        model = VerificationStatus
        fields = ("code", "label", "guideline", "order", "key", "colour", "is_active")
        import_id_fields = ["code"]
        skip_unchanged = True
        clean_model_instances = True
        use_transactions = True

    def import_instance(self, instance, row, **kwargs):
        super().import_instance(instance, row, **kwargs)
        instance.key = instance.key or None  # an empty key cell means "no key" (NULL)


class AnnotationResource(SpreadsheetSafeResource):
    """Export only; annotators appear as pseudonyms as in dataset exports."""

    annotator = fields.Field(column_name="annotator")

    class Meta:
        model = Annotation
        fields = (
            "id",
            "sentence",
            "sentence__article",
            "sentence__text",
            "is_claim",
            "source__name",
            "attribution_type",
            "status__code",
            "span_start",
            "span_end",
            "note",
            "evidence_url",
            "annotator",
            "version",
            "updated_at",
        )

    def dehydrate_annotator(self, annotation):
        return dataset_pseudonym(annotation.annotator_id)


class GoldLabelResource(SpreadsheetSafeResource):
    reviewed_by = fields.Field(column_name="reviewed_by")

    class Meta:
        model = GoldLabel
        fields = (
            "id",
            "sentence",
            "sentence__article",
            "sentence__text",
            "is_claim",
            "source__name",
            "attribution_type",
            "status__code",
            "span_start",
            "span_end",
            "origin",
            "comment",
            "reviewed_by",
            "version",
            "updated_at",
        )

    def dehydrate_reviewed_by(self, gold):
        return dataset_pseudonym(gold.editor_id)


def dataset_pseudonym(user_id) -> str:
    return dataset.pseudonymizer()(user_id)
