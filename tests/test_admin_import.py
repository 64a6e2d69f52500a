"""Admin import of articles (django-import-export) through the admin views, as a user does it.

The import page posts `import_file` and `format` (an index into the admin's import formats) and
answers with a dry-run preview; its confirm form posts `import_file_name`,
`original_file_name`, `format` and `resource` to the process_import view, which writes.
"""

import datetime
import io
import json
from html.parser import HTMLParser

import openpyxl
import pytest
from django.contrib import admin
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
    assert "Enter a valid URL." in response.content.decode()
    assert Article.objects.count() == 0
    assert Sentence.objects.count() == 0


@pytest.mark.parametrize(
    ("bad", "error"),
    [
        ({"body": "", "title": "Has a title", "external_id": "x3"}, "This field cannot be blank."),
        ({"published_on": "30/12/2023"}, "Value could not be parsed"),
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

    assert "Ensure you have chosen the correct format for the file." in response.content.decode()
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
