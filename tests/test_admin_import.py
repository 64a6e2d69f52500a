"""The admin's spreadsheet uploads (django-import-export) as a user makes them.

Articles are no longer imported by the admin: its article import sends to the import page,
whose job imports by the command's rules (tests/test_jobs_import.py, tests/test_views_import.py).
The sources and statuses still are, through `AllOrNothingImportMixin`: an upload is checked
(formats, size, rows, width, unpacked size, XML entities) and waits for its confirm step in a
private folder. Those checks are tested here on the source import. The import page posts
`import_file`, `format` (an index into the formats) and `resource`, and answers with a dry-run
preview whose confirm form posts to process_import, which writes.
"""

import csv
import io
import os
import re
import stat
import time
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import openpyxl
import pytest
from django.contrib import admin
from django.core.exceptions import ImproperlyConfigured
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse

from claims.models import Article, Job, Source

pytestmark = pytest.mark.django_db

IMPORT_URL = reverse("admin:claims_source_import")
PROCESS_URL = reverse("admin:claims_source_process_import")
CHANGELIST_URL = reverse("admin:claims_source_changelist")
ROWS = [
    {
        "name": "Kyiv City Military Administration",
        "kind": "government",
        "side": "Ukraine",
        "status": "active",
        "description": "The city's wartime administration.",
        "aliases": "KCMA; Kyiv military administration",
    },
    {
        "name": "Local witness",
        "kind": "individual",
        "side": "Ukraine",
        "status": "active",
        "description": "Someone who saw it.",
        "aliases": "",
    },
]


@pytest.fixture(autouse=True)
def _upload_folder(settings, tmp_path):
    """Uploads waiting for a confirm that a test never sends stay in the test's folder."""
    settings.CLAIMDESK_IMPORT_TMP_DIR = str(tmp_path / "imports")


@pytest.fixture
def staff_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def tmp_dir(settings):
    return Path(settings.CLAIMDESK_IMPORT_TMP_DIR)


def format_index(title: str) -> str:
    formats = admin.site._registry[Source].get_import_formats()
    return str([fmt().get_title() for fmt in formats].index(title))


def upload(data: bytes, name: str = "sources.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


def csv_file(rows, name="sources.csv") -> SimpleUploadedFile:
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return upload(buffer.getvalue().encode("utf-8"), name)


def xlsx_file(rows, name="sources.xlsx") -> SimpleUploadedFile:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(list(rows[0]))
    for row in rows:
        sheet.append(list(row.values()))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return upload(buffer.getvalue(), name)


def json_file(rows, name="sources.json") -> SimpleUploadedFile:
    import json

    return upload(json.dumps(rows).encode("utf-8"), name)


class HiddenInputs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append((attrs.get("action") or "", {}))
        elif tag == "input" and attrs.get("type") == "hidden" and self.forms:
            self.forms[-1][1][attrs["name"]] = attrs.get("value") or ""


def confirm_fields(response) -> dict:
    parser = HiddenInputs()
    parser.feed(response.content.decode())
    for action, fields in parser.forms:
        if action == PROCESS_URL:
            fields.pop("csrfmiddlewaretoken", None)
            return fields
    raise AssertionError("the page has no confirm-import form")


def has_confirm_form(response) -> bool:
    return f'action="{PROCESS_URL}"' in response.content.decode()


def preview(client, file, fmt: str):
    response = client.post(
        IMPORT_URL, {"import_file": file, "format": format_index(fmt), "resource": "0"}
    )
    assert response.status_code == 200
    return response


def refused(response) -> str:
    """The page of a refused upload: no confirm form, nothing written, no traceback."""
    assert not has_confirm_form(response)
    assert Source.objects.count() == 0
    html = response.content.decode()
    assert 'class="traceback"' not in html and "Traceback" not in html
    return html


def sources() -> list[str]:
    return sorted(Source.objects.values_list("name", flat=True))


# --- articles go to the import job -----------------------------------------------------------


def test_the_article_import_leads_to_the_import_page_and_imports_nothing(staff_client):
    body = "Officials said the bridge reopened on Monday. Traffic resumed later."
    data = f"body\r\n{body}\r\n".encode()
    article_import = reverse("admin:claims_article_import")

    response = staff_client.post(
        article_import, {"import_file": upload(data, "a.csv"), "format": "0"}, follow=True
    )

    assert response.redirect_chain == [(reverse("claims:import_articles"), 302)]
    assert "as a background job" in response.content.decode()
    assert Article.objects.count() == 0 and Job.objects.count() == 0


def test_the_article_changelist_still_offers_import_and_export(staff_client):
    html = staff_client.get(reverse("admin:claims_article_changelist")).content.decode()

    assert reverse("admin:claims_article_import") in html
    assert reverse("admin:claims_article_export") in html


# --- an upload, checked ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make_file", "fmt"),
    [(csv_file, "csv"), (json_file, "json"), (xlsx_file, "xlsx")],
    ids=["csv", "json", "xlsx"],
)
def test_each_format_previews_then_imports(staff_client, make_file, fmt):
    response = preview(staff_client, make_file(ROWS), fmt)
    assert Source.objects.count() == 0  # a dry run

    staff_client.post(PROCESS_URL, confirm_fields(response))

    assert sources() == sorted(row["name"] for row in ROWS)


def test_only_the_formats_claimdesk_reads_are_offered(staff_client):
    choices = dict(staff_client.get(IMPORT_URL).context["form"].fields["format"].choices)

    assert set(choices.values()) == {"---", "csv", "xlsx", "json"}


def test_a_format_that_is_not_offered_is_a_form_error(staff_client):
    data = b"<table><tr><th>name</th></tr><tr><td>X</td></tr></table>"

    # "4" was the HTML format, whose import ended in a 500.
    response = staff_client.post(IMPORT_URL, {"import_file": upload(data), "format": "4"})

    assert response.status_code == 200
    assert "Select a valid choice" in refused(response)


def test_file_that_cannot_be_read_in_the_chosen_format_is_an_error(staff_client):
    html = refused(preview(staff_client, upload(b"name,kind\r\nA,B\r\n", "a.xlsx"), "xlsx"))

    assert "a.xlsx: not an XLSX file" in html


def test_only_staff_may_import(client, annotator):
    client.force_login(annotator)

    response = client.post(IMPORT_URL, {"import_file": csv_file(ROWS), "format": "0"})

    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))
    assert Source.objects.count() == 0


@override_settings(CLAIMDESK_MAX_IMPORT_BYTES=100)
def test_upload_over_the_size_limit_is_refused(staff_client):
    file = csv_file(ROWS)
    assert file.size > 100

    assert "the limit is 100 bytes" in refused(preview(staff_client, file, "csv"))


def test_cp1252_csv_names_the_encoding_and_the_line(staff_client):
    data = "name,kind\r\nOne,unknown\r\nCafé,unknown\r\n".encode("cp1252")

    html = refused(preview(staff_client, upload(data), "csv"))

    assert "sources.csv, line 3: not UTF-8 text" in html
    assert "Windows-1252 (cp1252)" in html


def test_binary_file_as_csv_is_named_binary(staff_client):
    html = refused(preview(staff_client, upload(xlsx_file(ROWS).read()), "csv"))

    assert "sources.csv, line " in html and "not a text file" in html


def zip_bomb(unpacked: int) -> SimpleUploadedFile:
    """An XLSX-looking zip whose sheet unpacks to `unpacked` bytes (it compresses ~1000:1)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        real = zipfile.ZipFile(xlsx_file(ROWS))
        for member in real.infolist():
            archive.writestr(member, real.read(member))
        with archive.open("xl/worksheets/padding.xml", "w") as padding:
            chunk = b" " * (1 << 20)
            for _ in range(unpacked >> 20):
                padding.write(chunk)
    return upload(buffer.getvalue(), "bomb.xlsx")


def test_xlsx_that_unpacks_beyond_the_limit_is_refused_before_parsing(staff_client, settings):
    bomb = zip_bomb(2 * settings.CLAIMDESK_MAX_IMPORT_XLSX_UNPACKED_BYTES)
    assert bomb.size < settings.CLAIMDESK_MAX_IMPORT_BYTES

    html = refused(preview(staff_client, bomb, "xlsx"))

    assert "bomb.xlsx: the spreadsheet unpacks to" in html
    assert f"the limit is {settings.CLAIMDESK_MAX_IMPORT_XLSX_UNPACKED_BYTES:,} bytes" in html


@pytest.mark.parametrize(
    ("make_file", "fmt"),
    [(csv_file, "csv"), (json_file, "json"), (xlsx_file, "xlsx")],
    ids=["csv", "json", "xlsx"],
)
def test_more_rows_than_the_limit_are_refused(staff_client, settings, make_file, fmt):
    settings.CLAIMDESK_MAX_IMPORT_ROWS = 1

    assert "the limit is 1" in refused(preview(staff_client, make_file(ROWS), fmt))


def wide_xlsx(columns: int, rows: int) -> SimpleUploadedFile:
    """A small file whose every (empty) row a reader would pad to the header's width."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["name", *(f"c{i}" for i in range(columns - 1))])
    sheet.cell(row=rows + 1, column=1, value="Last row.")
    buffer = io.BytesIO()
    workbook.save(buffer)
    return upload(buffer.getvalue(), "wide.xlsx")


@pytest.mark.parametrize(
    "make_file",
    [
        lambda: wide_xlsx(5000, 2000),
        lambda: upload(b"name" + b"," * 20_000 + b"\r\n" + b"Text.\r\n" * 2000),
    ],
    ids=["xlsx", "csv"],
)
def test_a_header_too_wide_is_refused_before_rows_are_padded(staff_client, make_file):
    file = make_file()
    fmt = "xlsx" if file.name.endswith(".xlsx") else "csv"

    assert "columns; at most 100" in refused(preview(staff_client, file, fmt))


def test_openpyxl_parses_with_defusedxml():
    assert openpyxl.DEFUSEDXML is True


def test_xlsx_with_an_xml_entity_is_refused(staff_client):
    real = zipfile.ZipFile(xlsx_file(ROWS))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for member in real.infolist():
            data = real.read(member)
            if member.filename == "xl/worksheets/sheet1.xml":
                entity = b'<!DOCTYPE worksheet [<!ENTITY lol "lol">]>'
                data = entity + data
            archive.writestr(member, data)

    html = refused(preview(staff_client, upload(buffer.getvalue(), "entity.xlsx"), "xlsx"))

    assert "entity.xlsx: cannot read the spreadsheet (EntitiesForbidden" in html


# --- the upload waiting for the confirm step ---------------------------------------------------


def test_upload_waits_in_a_private_folder_and_is_removed_after_the_import(staff_client, tmp_dir):
    response = preview(staff_client, csv_file(ROWS), "csv")

    name = confirm_fields(response)["import_file_name"]
    assert re.fullmatch(r"[0-9a-f]{32}", name)  # a name, not a path
    assert [p.name for p in tmp_dir.iterdir()] == [name]
    assert stat.S_IMODE(tmp_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_dir / name).stat().st_mode) == 0o600

    response = staff_client.post(PROCESS_URL, confirm_fields(response), follow=True)

    assert response.redirect_chain == [(CHANGELIST_URL, 302)]
    assert list(tmp_dir.iterdir()) == []


@pytest.mark.parametrize("mode", [0o755, 0o770, 0o701])
def test_a_folder_others_can_enter_is_not_used(staff_client, tmp_dir, mode):
    tmp_dir.mkdir()
    tmp_dir.chmod(mode)

    with pytest.raises(ImproperlyConfigured, match="CLAIMDESK_IMPORT_TMP_DIR"):
        staff_client.post(IMPORT_URL, {"import_file": csv_file(ROWS), "format": "0"})

    assert list(tmp_dir.iterdir()) == []
    assert stat.S_IMODE(tmp_dir.stat().st_mode) == mode  # never chmod-ed: it could be /tmp


def test_a_link_is_not_used_as_the_folder(staff_client, tmp_dir, tmp_path):
    (tmp_path / "elsewhere").mkdir(mode=0o700)
    tmp_dir.symlink_to(tmp_path / "elsewhere")

    with pytest.raises(ImproperlyConfigured):
        staff_client.post(IMPORT_URL, {"import_file": csv_file(ROWS), "format": "0"})


def test_refused_preview_leaves_no_file_behind(staff_client, tmp_dir):
    refused(preview(staff_client, upload(b"name,kind\r\n\xe9,x\r\n"), "csv"))

    assert list(tmp_dir.iterdir()) == []


def test_abandoned_uploads_are_removed_after_a_day(staff_client, tmp_dir):
    old = confirm_fields(preview(staff_client, csv_file(ROWS), "csv"))["import_file_name"]
    day_ago = time.time() - 25 * 3600
    os.utime(tmp_dir / old, (day_ago, day_ago))

    new = confirm_fields(preview(staff_client, csv_file(ROWS), "csv"))["import_file_name"]

    assert [p.name for p in tmp_dir.iterdir()] == [new]


@pytest.mark.parametrize(
    "changes",
    [
        {"import_file_name": "../../../../etc/passwd"},
        {"import_file_name": "/etc/passwd"},
        {"import_file_name": "passwd"},
        {"import_file_name": "tmpabc123"},
        {"import_file_name": "0" * 31 + "/"},
        {"format": "4"},
        {"format": "html"},
        {"resource": "7"},
    ],
    ids=[
        "traversal",
        "absolute",
        "other file",
        "tempfile name",
        "slash",
        "format 4",
        "format x",
        "resource",
    ],
)
def test_confirm_step_refuses_what_it_did_not_create(staff_client, tmp_dir, changes):
    fields = confirm_fields(preview(staff_client, csv_file(ROWS), "csv"))

    response = staff_client.post(PROCESS_URL, {**fields, **changes})

    assert response.status_code == 400
    assert Source.objects.count() == 0


def test_confirm_of_an_upload_already_imported_is_a_message(staff_client, tmp_dir):
    fields = confirm_fields(preview(staff_client, csv_file(ROWS), "csv"))
    staff_client.post(PROCESS_URL, fields)
    before = sources()

    response = staff_client.post(PROCESS_URL, fields, follow=True)

    assert response.redirect_chain == [(IMPORT_URL, 302)]
    messages = [str(m) for m in response.context["messages"]]
    assert any("upload the file again" in m for m in messages)
    assert sources() == before
