"""Admin import of articles (django-import-export) through the admin views, as a user does it.

The import page posts `import_file` and `format` (an index into the admin's import formats) and
answers with a dry-run preview; its confirm form posts `import_file_name`,
`original_file_name`, `format` and `resource` to the process_import view, which writes.
"""

import datetime
import io
import json
import os
import re
import stat
import time
from html.parser import HTMLParser
from pathlib import Path

import openpyxl
import pytest
from django.contrib import admin
from django.core.exceptions import ImproperlyConfigured
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse

from claims.importing import body_checksum
from claims.models import Article, Sentence
from tests.factories import (
    annotate,
    assert_offsets_exact,
    csv_text,
    run_import,
    snapshot,
    write,
)

pytestmark = pytest.mark.django_db

IMPORT_URL = reverse("admin:claims_article_import")
PROCESS_URL = reverse("admin:claims_article_process_import")
CHANGELIST_URL = reverse("admin:claims_article_changelist")

ROWS = [
    {
        "title": 'Kyiv says "no talks", for now',
        "body": (
            'Zelensky said: "We will not give up, not one metre."\n'
            "Later, the mayor of Київ, Vitali Klitschko, said 3,000 people were evacuated."
        ),
        "published_on": "2024-02-24",
        "outlet": "Ukrainska Pravda",
        "url": "https://example.org/news/kyiv?id=1&lang=en",
        "external_id": "up-1",
    },
    {
        "title": "",
        "body": "Officials said the bridge reopened on Monday. Traffic resumed later.",
        "published_on": "",
        "outlet": "",
        "url": "",
        "external_id": "",
    },
]


@pytest.fixture(autouse=True)
def _upload_folder(settings, tmp_path):
    """Uploads waiting for a confirm that a test never sends stay in the test's folder."""
    settings.CLAIMDESK_IMPORT_TMP_DIR = str(tmp_path / "imports")


@pytest.fixture
def raw_staff_client(client, admin_user):
    """A superuser's client, the resource exactly as shipped."""
    assert client.login(username=admin_user.username, password=f"{admin_user.username}-pw")
    return client


@pytest.fixture
def staff_client(raw_staff_client):
    return raw_staff_client


def format_index(title: str) -> str:
    """The value of the import form's `format` choice for a format ("csv", "xlsx", "json")."""
    formats = admin.site._registry[Article].get_import_formats()
    titles = [fmt().get_title() for fmt in formats]
    return str(titles.index(title))


def csv_file(rows, name="articles.csv", columns=None) -> SimpleUploadedFile:
    text = csv_text(rows, columns=columns or list(rows[0]))
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


def json_file(rows, name="articles.json") -> SimpleUploadedFile:
    data = json.dumps(rows, ensure_ascii=False).encode("utf-8")
    return SimpleUploadedFile(name, data, content_type="application/json")


def xlsx_file(rows, name="articles.xlsx") -> SimpleUploadedFile:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    columns = list(rows[0])
    sheet.append(columns)
    for row in rows:
        values = []
        for column in columns:
            value = row[column]
            if column == "published_on" and value:
                value = datetime.date.fromisoformat(value)  # a real date cell
            values.append(value if value != "" else None)
        sheet.append(values)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile(
        name,
        buffer.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


class HiddenInputs(HTMLParser):
    """Collect the hidden inputs of the confirm form in a rendered page."""

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
    """The hidden fields of the page's confirm-import form (posted to process_import)."""
    parser = HiddenInputs()
    parser.feed(response.content.decode())
    for action, fields in parser.forms:
        if action == PROCESS_URL:
            fields.pop("csrfmiddlewaretoken", None)
            return fields
    raise AssertionError("the page has no confirm-import form")


def has_confirm_form(response) -> bool:
    return f'action="{PROCESS_URL}"' in response.content.decode()


def preview(client, upload, fmt: str):
    """Upload a file on the import page: the dry run."""
    response = client.post(IMPORT_URL, {"import_file": upload, "format": format_index(fmt)})
    assert response.status_code == 200
    return response


def confirm(client, preview_response):
    response = client.post(PROCESS_URL, confirm_fields(preview_response), follow=True)
    assert response.redirect_chain == [(CHANGELIST_URL, 302)]
    return response


def totals(response) -> dict:
    result = response.context["result"]
    return {key: value for key, value in result.totals.items() if value}


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def assert_imported_like_rows(rows):
    for row in rows:
        article = Article.objects.get(checksum=body_checksum(row["body"]))
        assert article.body == row["body"]
        assert article.title == (row["title"] or row["body"].split(". ")[0] + ".")
        assert article.outlet == row["outlet"]
        assert article.url == row["url"]
        assert article.external_id == (row["external_id"] or None)
        expected_date = row["published_on"] or None
        assert article.published_on == (
            expected_date and datetime.date.fromisoformat(expected_date)
        )
        assert len(assert_offsets_exact(article)) == 2


# --- each format -----------------------------------------------------------------------------


def test_import_page_offers_csv_json_and_xlsx(raw_staff_client):
    response = raw_staff_client.get(IMPORT_URL)

    assert response.status_code == 200
    choices = dict(response.context["form"].fields["format"].choices)
    assert {"csv", "json", "xlsx"} <= set(choices.values())


@pytest.mark.parametrize(
    ("make_file", "fmt"),
    [(csv_file, "csv"), (json_file, "json"), (xlsx_file, "xlsx")],
    ids=["csv", "json", "xlsx"],
)
def test_upload_with_the_documented_columns_previews_and_imports(raw_staff_client, make_file, fmt):
    response = preview(raw_staff_client, make_file(ROWS), fmt)

    assert not response.context["result"].has_errors()
    assert totals(response) == {"new": 2}
    confirm(raw_staff_client, response)
    assert_imported_like_rows(ROWS)


@pytest.mark.parametrize(
    ("make_file", "fmt"),
    [(csv_file, "csv"), (json_file, "json"), (xlsx_file, "xlsx")],
    ids=["csv", "json", "xlsx"],
)
def test_upload_previews_without_writing_then_confirm_writes_segmented_articles(
    staff_client, make_file, fmt
):
    response = preview(staff_client, make_file(ROWS), fmt)

    assert not response.context["result"].has_errors()
    assert not response.context["result"].has_validation_errors()
    assert totals(response) == {"new": 2}
    assert Article.objects.count() == 0
    assert Sentence.objects.count() == 0

    response = confirm(staff_client, response)

    assert "Import finished: 2 new, 0 updated, 0 deleted and 0 skipped articles." in messages_of(
        response
    )
    assert Article.objects.count() == 2
    assert_imported_like_rows(ROWS)


def test_preview_shows_new_update_and_skip_rows_and_writes_nothing(staff_client):
    response = preview(staff_client, csv_file(ROWS), "csv")
    confirm(staff_client, response)
    before = snapshot()
    changed = {**ROWS[0], "outlet": "Reuters"}
    new = {**ROWS[1], "body": "A brand new article. With two sentences."}

    response = preview(staff_client, csv_file([changed, ROWS[1], new]), "csv")

    assert totals(response) == {"new": 1, "update": 1, "skip": 1}
    kinds = [row.import_type for row in response.context["result"].rows]
    assert kinds == ["update", "skip", "new"]
    html = response.content.decode()
    assert html.count('<tr class="update">') == 1
    assert html.count('<tr class="skip">') == 1
    assert html.count('<tr class="new">') == 1
    assert snapshot() == before


def test_confirmed_update_changes_metadata_and_keeps_sentences(staff_client):
    confirm(staff_client, preview(staff_client, csv_file(ROWS), "csv"))
    article = Article.objects.get(external_id="up-1")
    sentence_ids = list(article.sentences.values_list("pk", flat=True))

    changed = {**ROWS[0], "outlet": "Reuters"}
    response = confirm(staff_client, preview(staff_client, csv_file([changed]), "csv"))

    article.refresh_from_db()
    assert article.outlet == "Reuters"
    assert list(article.sentences.values_list("pk", flat=True)) == sentence_ids
    assert "Import finished: 0 new, 1 updated, 0 deleted and 0 skipped articles." in messages_of(
        response
    )


def test_confirmed_body_change_by_external_id_resegments(staff_client):
    confirm(staff_client, preview(staff_client, csv_file(ROWS[:1]), "csv"))
    old_ids = set(Sentence.objects.values_list("pk", flat=True))
    changed = {**ROWS[0], "body": "New text entirely. Now three sentences. Yes."}

    confirm(staff_client, preview(staff_client, csv_file([changed]), "csv"))

    article = Article.objects.get()
    assert article.body == changed["body"]
    assert article.checksum == body_checksum(changed["body"])
    assert not Sentence.objects.filter(pk__in=old_ids).exists()
    assert [s.text for s in assert_offsets_exact(article)] == [
        "New text entirely.",
        "Now three sentences.",
        "Yes.",
    ]


def test_body_change_of_an_annotated_article_is_refused_in_the_preview(staff_client, annotator):
    confirm(staff_client, preview(staff_client, csv_file(ROWS[:1]), "csv"))
    annotate(Sentence.objects.first(), annotator)
    before = snapshot()
    changed = {**ROWS[0], "body": "Replacement text."}

    response = preview(staff_client, csv_file([changed]), "csv")

    assert response.context["result"].has_validation_errors()
    assert not has_confirm_form(response)
    assert "already has 1 annotation(s)" in response.content.decode()
    assert snapshot() == before


# --- re-upload -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make_file", "fmt"),
    [
        (csv_file, "csv"),
        (json_file, "json"),
        (xlsx_file, "xlsx"),
    ],
    ids=["csv", "json", "xlsx"],
)
def test_reupload_is_skipped_not_duplicated(staff_client, make_file, fmt):
    confirm(staff_client, preview(staff_client, make_file(ROWS), fmt))
    before = snapshot()

    response = preview(staff_client, make_file(ROWS), fmt)
    assert totals(response) == {"skip": 2}
    response = confirm(staff_client, response)

    assert "Import finished: 0 new, 0 updated, 0 deleted and 2 skipped articles." in messages_of(
        response
    )
    assert snapshot() == before


def test_reupload_in_another_format_is_skipped(staff_client):
    confirm(staff_client, preview(staff_client, csv_file(ROWS), "csv"))
    before = snapshot()

    response = preview(staff_client, json_file(ROWS), "json")
    assert totals(response) == {"skip": 2}
    confirm(staff_client, response)

    assert snapshot() == before


def test_xlsx_reupload_is_not_duplicated_and_changes_nothing(staff_client):
    confirm(staff_client, preview(staff_client, xlsx_file(ROWS), "xlsx"))
    before = snapshot()

    confirm(staff_client, preview(staff_client, xlsx_file(ROWS), "xlsx"))

    assert snapshot() == before


def test_admin_upload_of_an_article_already_imported_by_the_command_is_skipped(
    staff_client, tmp_path
):
    run_import(write(tmp_path, "a.csv", csv_text(ROWS)))
    before = snapshot()

    response = preview(staff_client, csv_file(ROWS), "csv")

    assert totals(response) == {"skip": 2}
    confirm(staff_client, response)
    assert snapshot() == before


# --- bad files -------------------------------------------------------------------------------


def bad_third_row_rows():
    return [
        {**ROWS[0]},
        {**ROWS[1]},
        {**ROWS[1], "body": "Third row.", "url": "javascript:alert(1)"},
        {**ROWS[1], "body": "Fourth row is fine."},
    ]


@pytest.mark.parametrize(
    ("make_file", "fmt"),
    [(csv_file, "csv"), (json_file, "json"), (xlsx_file, "xlsx")],
    ids=["csv", "json", "xlsx"],
)
def test_file_whose_third_row_is_bad_imports_nothing(staff_client, make_file, fmt):
    response = preview(staff_client, make_file(bad_third_row_rows()), fmt)

    result = response.context["result"]
    assert [row.number for row in result.invalid_rows] == [3]
    assert "url" in result.invalid_rows[0].field_specific_errors
    assert not has_confirm_form(response)
    assert "is not a valid http(s) address" in response.content.decode()
    assert Article.objects.count() == 0
    assert Sentence.objects.count() == 0


@pytest.mark.parametrize(
    ("bad", "error"),
    [
        ({"body": "", "title": "Has a title", "external_id": "x3"}, "This field cannot be blank."),
        ({"published_on": "30/12/2023"}, "is not a date in the format YYYY-MM-DD"),
        ({"body": ROWS[0]["body"], "external_id": "other"}, "this text is already imported"),
    ],
    ids=["empty body", "bad date", "same text under another external_id"],
)
def test_third_row_errors_are_shown_and_nothing_is_written(staff_client, bad, error):
    rows = [ROWS[0], ROWS[1], {**ROWS[1], "body": "Third row.", **bad}]

    response = preview(staff_client, csv_file(rows), "csv")

    result = response.context["result"]
    assert [row.number for row in result.invalid_rows] == [3]
    assert error in response.content.decode()
    assert not has_confirm_form(response)
    assert Article.objects.count() == 0
    assert Sentence.objects.count() == 0


def test_missing_body_column_is_an_error(raw_staff_client):
    upload = csv_file([{"title": "No body", "outlet": "BBC"}])

    response = preview(raw_staff_client, upload, "csv")

    assert response.context["result"].has_errors()
    assert "missing column(s): body" in response.content.decode()
    assert not has_confirm_form(response)
    assert Article.objects.count() == 0


def test_file_that_cannot_be_read_in_the_chosen_format_is_an_error(raw_staff_client):
    upload = SimpleUploadedFile("a.xlsx", b"title,body\r\nA,B.\r\n")

    response = preview(raw_staff_client, upload, "xlsx")

    assert "a.xlsx: not an XLSX file" in response.content.decode()
    assert not has_confirm_form(response)
    assert Article.objects.count() == 0


def test_only_staff_may_import(client, annotator):
    client.force_login(annotator)

    response = client.post(
        IMPORT_URL, {"import_file": csv_file(ROWS), "format": format_index("csv")}
    )

    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))
    assert Article.objects.count() == 0


def test_duplicate_external_id_in_one_upload_is_refused(staff_client):
    rows = [ROWS[0], ROWS[1], {**ROWS[1], "body": "Replaces row one.", "external_id": "up-1"}]

    response = preview(staff_client, csv_file(rows), "csv")

    assert not has_confirm_form(response)
    assert Article.objects.count() == 0


@override_settings(CLAIMDESK_MAX_IMPORT_BYTES=100)
def test_upload_over_the_size_limit_is_refused(staff_client):
    upload = csv_file(ROWS)
    assert upload.size > 100

    response = preview(staff_client, upload, "csv")

    assert not has_confirm_form(response)
    assert "limit" in response.content.decode()


def test_row_refused_at_confirm_time_imports_nothing(staff_client, annotator):
    confirm(staff_client, preview(staff_client, csv_file(ROWS[:1]), "csv"))
    rows = [{**ROWS[0], "body": "Changed text."}, ROWS[1]]
    response = preview(staff_client, csv_file(rows), "csv")
    assert has_confirm_form(response)
    annotate(Sentence.objects.first(), annotator)  # someone labels it meanwhile
    before = snapshot()

    response = staff_client.post(PROCESS_URL, confirm_fields(response), follow=True)

    assert snapshot() == before
    assert not any(m.startswith("Import finished") for m in messages_of(response))


def test_row_with_a_bad_date_reports_only_the_date(staff_client):
    rows = [{**ROWS[1], "published_on": "30/12/2023"}]

    response = preview(staff_client, csv_file(rows), "csv")

    [invalid] = response.context["result"].invalid_rows
    assert list(invalid.field_specific_errors) == ["published_on"]
    assert invalid.non_field_specific_errors == []


# --- the admin refuses what the command refuses, with a message ------------------------------


def upload(data: bytes, name: str = "articles.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


def refused(response) -> str:
    """The page of a refused upload: no confirm form, nothing written, no traceback."""
    assert not has_confirm_form(response)
    assert Article.objects.count() == 0
    html = response.content.decode()
    assert 'class="traceback"' not in html and "Traceback" not in html
    return html


@pytest.fixture
def tmp_dir(settings):
    return Path(settings.CLAIMDESK_IMPORT_TMP_DIR)


def test_only_the_formats_claimdesk_reads_are_offered(staff_client):
    choices = dict(staff_client.get(IMPORT_URL).context["form"].fields["format"].choices)

    assert set(choices.values()) == {"---", "csv", "xlsx", "json"}


def test_a_format_that_is_not_offered_is_a_form_error(staff_client):
    data = b"<table><tr><th>body</th></tr><tr><td>Text.</td></tr></table>"

    # "4" was the HTML format, whose import ended in a 500.
    response = staff_client.post(IMPORT_URL, {"import_file": upload(data), "format": "4"})

    assert response.status_code == 200
    assert "Select a valid choice" in refused(response)


@pytest.mark.parametrize(
    ("make_file", "fmt"),
    [(csv_file, "csv"), (json_file, "json"), (xlsx_file, "xlsx")],
    ids=["csv", "json", "xlsx"],
)
def test_unknown_column_is_refused_like_the_command(staff_client, make_file, fmt):
    rows = [{**ROWS[0], "author": "Jane"}, {**ROWS[1], "author": ""}]

    html = refused(preview(staff_client, make_file(rows), fmt))

    assert "unknown column(s): author" in html


def test_unknown_key_in_a_later_json_object_is_refused(staff_client):
    rows = [ROWS[0], {**ROWS[1], "author": "Jane"}]

    assert "unknown column(s): author" in refused(preview(staff_client, json_file(rows), "json"))


@pytest.mark.parametrize("body", ["   ", "\r\n\t "], ids=["spaces", "line breaks"])
def test_whitespace_only_body_is_refused_like_the_command(staff_client, body):
    rows = [ROWS[0], {**ROWS[1], "body": body}]

    response = preview(staff_client, csv_file(rows), "csv")

    assert [row.number for row in response.context["result"].invalid_rows] == [2]
    assert "body is empty" in refused(response)


def test_non_web_url_is_refused_like_the_command(staff_client):
    rows = [ROWS[0], {**ROWS[1], "url": "ftp://example.org/article.txt"}]

    response = preview(staff_client, csv_file(rows), "csv")

    [invalid] = response.context["result"].invalid_rows
    assert list(invalid.field_specific_errors) == ["url"]
    assert "is not a valid http(s) address" in refused(response)


def test_missing_column_is_a_message_not_a_traceback(staff_client):
    html = refused(preview(staff_client, csv_file([{"title": "No body", "outlet": "BBC"}]), "csv"))

    assert "articles.csv, line 1: missing column(s): body" in html


def test_duplicate_external_id_is_a_message_not_a_traceback(staff_client):
    rows = [ROWS[0], {**ROWS[1], "external_id": "up-1"}]

    assert "external_id &#x27;up-1&#x27; appears in rows 1 and 2" in refused(
        preview(staff_client, csv_file(rows), "csv")
    )


def test_cp1252_csv_names_the_encoding_and_the_line(staff_client):
    data = "title,body\r\nOne,Fine.\r\nCafé,Le café a dit.\r\n".encode("cp1252")

    html = refused(preview(staff_client, upload(data), "csv"))

    assert "articles.csv, line 3: not UTF-8 text" in html
    assert "Windows-1252 (cp1252)" in html


def test_binary_file_as_csv_is_named_binary(staff_client):
    html = refused(preview(staff_client, upload(xlsx_file(ROWS).read()), "csv"))

    assert "articles.csv, line " in html
    assert "not a text file" in html


def test_semicolon_separated_csv_is_recognised_and_named(staff_client):
    data = b"title;body\r\nOne;Fine text.\r\n"

    html = refused(preview(staff_client, upload(data), "csv"))

    assert "separated by &#x27;;&#x27;, not by commas" in html


@pytest.mark.parametrize("date", ["12/30/2023", "30.12.2023", "2023-12-30T10:00"])
def test_a_date_the_command_refuses_is_refused_naming_the_format(staff_client, date):
    response = preview(staff_client, csv_file([{**ROWS[1], "published_on": date}]), "csv")

    [invalid] = response.context["result"].invalid_rows
    assert list(invalid.field_specific_errors) == ["published_on"]
    assert "is not a date in the format YYYY-MM-DD" in refused(response)


# --- the text is imported exactly --------------------------------------------------------------


def test_crlf_in_a_body_is_kept_so_command_and_admin_import_one_article(staff_client, tmp_path):
    rows = [{**ROWS[1], "body": "First line.\r\nSecond line.\r\n\r\nThird paragraph."}]
    data = csv_text(rows, columns=list(rows[0])).encode()
    run_import(write(tmp_path, "a.csv", data))
    before = snapshot()

    response = preview(staff_client, upload(data), "csv")

    assert totals(response) == {"skip": 1}
    confirm(staff_client, response)
    assert snapshot() == before
    assert Article.objects.get().body == rows[0]["body"]


def test_crlf_body_imported_by_the_admin_keeps_it(staff_client):
    body = "First line.\r\nSecond line."

    confirm(staff_client, preview(staff_client, csv_file([{**ROWS[1], "body": body}]), "csv"))

    assert Article.objects.get().body == body


@pytest.mark.parametrize(
    ("make_file", "fmt"),
    [(csv_file, "csv"), (json_file, "json"), (xlsx_file, "xlsx")],
    ids=["csv", "json", "xlsx"],
)
def test_literal_leading_quote_is_kept_only_the_exports_own_is_removed(
    staff_client, make_file, fmt
):
    rows = [
        {**ROWS[1], "body": "'Tis the season, he said. It rained.", "title": "'Quoted' title"},
        {**ROWS[1], "body": "'=1+1 was typed by the export. Fine.", "title": "'-5 degrees"},
    ]

    confirm(staff_client, preview(staff_client, make_file(rows), fmt))

    assert sorted(Article.objects.values_list("title", "body")) == [
        ("'Quoted' title", "'Tis the season, he said. It rained."),
        ("-5 degrees", "=1+1 was typed by the export. Fine."),
    ]


# --- spreadsheets within limits ----------------------------------------------------------------


def zip_bomb(unpacked: int) -> SimpleUploadedFile:
    """An XLSX-looking zip whose sheet unpacks to `unpacked` bytes (it compresses ~1000:1)."""
    import zipfile

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

    html = refused(preview(staff_client, make_file(ROWS), fmt))

    assert "the limit is 1" in html


def wide_xlsx(columns: int, rows: int) -> SimpleUploadedFile:
    """A small file whose every (empty) row a reader would pad to the header's width."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["body", *(f"c{i}" for i in range(columns - 1))])
    sheet.cell(row=rows + 1, column=1, value="Last row.")
    buffer = io.BytesIO()
    workbook.save(buffer)
    return upload(buffer.getvalue(), "wide.xlsx")


@pytest.mark.parametrize(
    "make_file",
    [
        lambda: wide_xlsx(5000, 2000),
        lambda: upload(b"body" + b"," * 20_000 + b"\r\n" + b"Text.\r\n" * 2000),
    ],
    ids=["xlsx", "csv"],
)
def test_a_header_too_wide_is_refused_before_rows_are_padded(staff_client, make_file):
    file = make_file()
    fmt = "xlsx" if file.name.endswith(".xlsx") else "csv"

    html = refused(preview(staff_client, file, fmt))

    assert "columns; at most 100" in html


def test_openpyxl_parses_with_defusedxml():
    assert openpyxl.DEFUSEDXML is True


def test_xlsx_with_an_xml_entity_is_refused(staff_client):
    import zipfile

    real = zipfile.ZipFile(xlsx_file(ROWS))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for member in real.infolist():
            data = real.read(member)
            if member.filename == "xl/worksheets/sheet1.xml":
                entity = b'<!DOCTYPE worksheet [<!ENTITY lol "lol">]>'
                data = entity + data.replace(b"up-1", b"&lol;", 1)
                assert b"&lol;" in data and b"<!ENTITY" in data
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

    confirm(staff_client, response)

    assert list(tmp_dir.iterdir()) == []


@pytest.mark.parametrize("mode", [0o755, 0o770, 0o701])
def test_a_folder_others_can_enter_is_not_used(staff_client, tmp_dir, mode):
    tmp_dir.mkdir()
    tmp_dir.chmod(mode)

    with pytest.raises(ImproperlyConfigured, match="CLAIMDESK_IMPORT_TMP_DIR"):
        staff_client.post(
            IMPORT_URL, {"import_file": csv_file(ROWS), "format": format_index("csv")}
        )

    assert list(tmp_dir.iterdir()) == []
    assert stat.S_IMODE(tmp_dir.stat().st_mode) == mode  # never chmod-ed: it could be /tmp


def test_a_link_is_not_used_as_the_folder(staff_client, tmp_dir, tmp_path):
    (tmp_path / "elsewhere").mkdir(mode=0o700)
    tmp_dir.symlink_to(tmp_path / "elsewhere")

    with pytest.raises(ImproperlyConfigured):
        staff_client.post(
            IMPORT_URL, {"import_file": csv_file(ROWS), "format": format_index("csv")}
        )


def test_refused_preview_leaves_no_file_behind(staff_client, tmp_dir):
    refused(preview(staff_client, csv_file([{**ROWS[0], "author": "x"}]), "csv"))

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
    assert Article.objects.count() == 0


def test_confirm_of_an_upload_already_imported_is_a_message(staff_client, tmp_dir):
    fields = confirm_fields(preview(staff_client, csv_file(ROWS), "csv"))
    staff_client.post(PROCESS_URL, fields)
    before = snapshot()

    response = staff_client.post(PROCESS_URL, fields, follow=True)

    assert response.redirect_chain == [(IMPORT_URL, 302)]
    assert any("upload the file again" in m for m in messages_of(response))
    assert snapshot() == before
