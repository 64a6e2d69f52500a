"""Article import: the file parser, the import services and the import_articles command."""

import datetime
import io
import json

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import override_settings

from claims import importing, services
from claims.importing import ArticleRecord, ImportFileError
from claims.models import Annotation, Article, GoldLabel, SendBack, Sentence
from claims.services import ImportOutcome
from tests.conftest import DEMO_ARTICLE
from tests.factories import (
    annotate,
    assert_offsets_exact,
    csv_text,
    jsonl_text,
    run_import,
    run_import_failing,
    snapshot,
    write,
)

pytestmark = pytest.mark.django_db

MAX = 5_000_000

TXT = (
    " date 2023-12-30 Officials said the bridge at Zatoka reopened on Monday. "
    "Traffic resumed an hour later.\n\n"
    "The regional governor, Oleh Kiper, said repairs cost €1.2 million. Credit: AP\n"
)

# Fields that CSV must carry through unchanged: commas, quotes, line breaks, non-ASCII.
TRICKY = {
    "title": 'Kyiv says "no talks", for now',
    "body": (
        'Zelensky said: "We will not give up, not one metre."\r\n'
        "Later, the mayor of Київ, Vitali Klitschko, added that 3,000 people were evacuated.\n"
        "Naïve “smart quotes”, an emoji 🚀 and a tab\there stay exactly as written."
    ),
    "published_on": "2024-02-24",
    "outlet": "Ukrainska Pravda, English",
    "url": "https://example.org/news/kyiv?id=1&lang=en",
    "external_id": "up-2024-001",
}


def csv_row(body: str, **fields) -> dict:
    return {"body": body, **fields}


# --- formats ---------------------------------------------------------------------------------


def test_txt_header_sets_date_first_sentence_is_title_and_body_is_the_exact_file_text(
    tmp_path,
):
    path = write(tmp_path, "bridge.txt", TXT)

    out, _ = run_import(path)

    article = Article.objects.get()
    assert article.published_on == datetime.date(2023, 12, 30)
    assert article.title == "Officials said the bridge at Zatoka reopened on Monday."
    assert article.body == TXT
    assert article.external_id is None
    assert article.checksum == importing.body_checksum(TXT)
    sentences = assert_offsets_exact(article)
    assert [(s.kind, s.text) for s in sentences] == [
        ("sentence", "Officials said the bridge at Zatoka reopened on Monday."),
        ("sentence", "Traffic resumed an hour later."),
        ("sentence", "The regional governor, Oleh Kiper, said repairs cost €1.2 million."),
        ("credit", "Credit: AP"),
    ]
    assert "1 file(s): 1 created, 0 updated, 0 unchanged, 0 failed files" in out


def test_txt_with_agency_dateline_stores_it_as_a_dateline_and_titles_from_the_sentence(tmp_path):
    text = "KYIV, August 11. /Ukrinform/. Air defence shot down 14 drones.\nPhoto: Ukrinform\n"
    path = write(tmp_path, "dateline.txt", text)

    run_import(path)

    article = Article.objects.get()
    assert article.title == "Air defence shot down 14 drones."
    assert [(s.kind, s.text) for s in assert_offsets_exact(article)] == [
        ("dateline", "KYIV, August 11. /Ukrinform/."),
        ("sentence", "Air defence shot down 14 drones."),
        ("credit", "Photo: Ukrinform"),
    ]


def test_txt_with_crlf_and_byte_order_mark_keeps_offsets_exact(tmp_path):
    text = " date 2023-12-30 First line here.\r\n\r\nSecond paragraph, with Ünïcödé.\r\n"
    path = write(tmp_path, "crlf.txt", b"\xef\xbb\xbf" + text.encode("utf-8"))

    run_import(path)

    article = Article.objects.get()
    assert article.body == text  # the BOM is an encoding mark, not text
    assert [s.text for s in assert_offsets_exact(article)] == [
        "First line here.",
        "Second paragraph, with Ünïcödé.",
    ]


def test_jsonl_imports_every_line_with_all_fields(tmp_path):
    objects = [
        {
            "title": "Strike on Belgorod",
            "body": "Fourteen people were killed. Dozens more were hurt.",
            "published_on": "2023-12-30",
            "outlet": "BBC",
            "url": "https://www.bbc.co.uk/news/world-europe-67850379",
            "external_id": "bbc-67850379",
        },
        {"body": "Ущерб оценивается. Второе предложение здесь."},
    ]
    path = write(tmp_path, "batch.jsonl", jsonl_text(objects) + "\n")  # a blank last line is ok

    out, _ = run_import(path)

    first = Article.objects.get(external_id="bbc-67850379")
    assert (first.title, first.body, first.published_on, first.outlet, first.url) == (
        "Strike on Belgorod",
        objects[0]["body"],
        datetime.date(2023, 12, 30),
        "BBC",
        "https://www.bbc.co.uk/news/world-europe-67850379",
    )
    second = Article.objects.get(external_id=None)
    assert second.body == objects[1]["body"]
    assert second.title == "Ущерб оценивается."
    assert second.published_on is None
    for article in (first, second):
        assert len(assert_offsets_exact(article)) == 2
    assert "2 created" in out


def test_csv_quoted_commas_quotes_newlines_and_non_ascii_survive_exactly(tmp_path):
    plain = csv_row("A second article. It has two sentences.")
    path = write(tmp_path, "tricky.csv", csv_text([TRICKY, plain]))

    run_import(path)

    article = Article.objects.get(external_id="up-2024-001")
    assert article.title == TRICKY["title"]
    assert article.body == TRICKY["body"]
    assert article.published_on == datetime.date(2024, 2, 24)
    assert article.outlet == TRICKY["outlet"]
    assert article.url == TRICKY["url"]
    sentences = assert_offsets_exact(article)
    assert sentences[0].text == 'Zelensky said: "We will not give up, not one metre."'
    assert sentences[-1].text.endswith("an emoji 🚀 and a tab\there stay exactly as written.")
    other = Article.objects.get(external_id=None)
    assert other.title == "A second article."


def test_csv_columns_may_come_in_any_order_and_be_omitted(tmp_path):
    path = write(tmp_path, "short.csv", "external_id,body\r\nx-1,Only a body and an id. Fine.\r\n")

    run_import(path)

    article = Article.objects.get()
    assert (article.external_id, article.title, article.outlet, article.url) == (
        "x-1",
        "Only a body and an id.",
        "",
        "",
    )


def test_directory_imports_every_supported_file_and_ignores_others(tmp_path):
    write(tmp_path, "a.txt", TXT)
    write(tmp_path, "b.jsonl", jsonl_text([{"body": "From JSONL one."}, {"body": "Two."}]))
    write(tmp_path, "nested/c.CSV", csv_text([csv_row("From a nested CSV.")]))
    write(tmp_path, "notes.md", "# not an article")
    write(tmp_path, "data.json", '{"body": "not a supported format"}')

    out, _ = run_import(tmp_path)

    assert sorted(Article.objects.values_list("body", flat=True)) == sorted(
        [TXT, "From JSONL one.", "Two.", "From a nested CSV."]
    )
    assert "3 file(s): 4 created, 0 updated, 0 unchanged, 0 failed files" in out


def test_summary_counts_created_updated_unchanged_and_failed(tmp_path):
    write(tmp_path, "1-old.csv", csv_text([csv_row("Kept as it is.", external_id="k")]))
    write(tmp_path, "2-meta.csv", csv_text([csv_row("Gets an outlet.", external_id="m")]))
    run_import(tmp_path)
    write(
        tmp_path,
        "2-meta.csv",
        csv_text([csv_row("Gets an outlet.", external_id="m", outlet="AP")]),
    )
    write(tmp_path, "3-new.txt", TXT)
    write(tmp_path, "4-bad.csv", csv_text([csv_row("")]))

    exc, out, err = run_import_failing(tmp_path)

    assert "4 file(s): 1 created, 1 updated, 1 unchanged, 1 failed files" in out
    assert "1 of 4 file(s) failed" in str(exc)
    assert "4-bad.csv, row 1: body is empty" in err
    assert Article.objects.count() == 3
    assert Article.objects.get(external_id="m").outlet == "AP"


def test_verbosity_zero_still_prints_the_summary(tmp_path):
    path = write(tmp_path, "a.txt", TXT)

    out, err = run_import(path, verbosity=0)

    assert "1 file(s): 1 created" in out
    assert err == ""


def test_verbosity_two_reports_each_file_on_the_commands_stdout(tmp_path):
    first = write(tmp_path, "a.txt", TXT)
    second = write(tmp_path, "b.csv", csv_text([csv_row("Another article.")]))

    out, _ = run_import(first, second, verbosity=2)

    assert f"{first}: 1 created" in out
    assert f"{second}: 1 created" in out


# --- idempotent re-import --------------------------------------------------------------------


def test_same_file_twice_is_one_article_and_the_second_run_is_unchanged(tmp_path):
    path = write(tmp_path, "bridge.txt", TXT)
    run_import(path)
    article = Article.objects.get()
    sentences_before = list(article.sentences.values_list("pk", "start", "end", "text"))

    out, _ = run_import(path)

    assert Article.objects.get().pk == article.pk
    assert list(article.sentences.values_list("pk", "start", "end", "text")) == sentences_before
    assert "1 file(s): 0 created, 0 updated, 1 unchanged, 0 failed files" in out


def test_same_csv_twice_reports_every_row_unchanged(tmp_path):
    path = write(tmp_path, "tricky.csv", csv_text([TRICKY, csv_row("Second one.")]))
    run_import(path)

    out, _ = run_import(path)

    assert Article.objects.count() == 2
    assert "0 created, 0 updated, 2 unchanged" in out


def test_changed_body_with_same_external_id_updates_and_resegments(tmp_path):
    first = write(
        tmp_path, "v1.csv", csv_text([csv_row("Old text. Two sentences.", external_id="e1")])
    )
    run_import(first)
    article = Article.objects.get()
    old_ids = set(article.sentences.values_list("pk", flat=True))
    new_body = "Completely new text here. It now has three sentences! Really?"
    second = write(tmp_path, "v2.csv", csv_text([csv_row(new_body, external_id="e1")]))

    out, _ = run_import(second)

    article = Article.objects.get()
    assert article.body == new_body
    assert article.checksum == importing.body_checksum(new_body)
    assert not Sentence.objects.filter(pk__in=old_ids).exists()
    assert [s.text for s in assert_offsets_exact(article)] == [
        "Completely new text here.",
        "It now has three sentences!",
        "Really?",
    ]
    assert Sentence.objects.count() == 3
    assert "0 created, 1 updated, 0 unchanged" in out


def test_changed_body_of_an_annotated_article_is_refused_and_nothing_changes(tmp_path, annotator):
    first = write(
        tmp_path,
        "v1.csv",
        csv_text([csv_row("Old text. Two sentences.", external_id="e1", title="Old one")]),
    )
    run_import(first)
    article = Article.objects.get()
    annotate(article.sentences.first(), annotator)
    before = snapshot()
    second = write(tmp_path, "v2.csv", csv_text([csv_row("New text.", external_id="e1")]))

    exc, out, err = run_import_failing(second)

    assert snapshot() == before
    assert "1 of 1 file(s) failed" in str(exc)
    assert f"{second}, row 1: article #{article.pk} ('Old one') already has 1 annotation(s)" in err
    assert "its text cannot change" in err
    assert "1 failed files" in out
    assert Annotation.objects.get().sentence.article_id == article.pk


def _gold(sentence, editor):
    GoldLabel.objects.create(sentence=sentence, is_claim=False, origin="corrected", editor=editor)


def _send_back(sentence, editor):
    SendBack.objects.create(sentence=sentence, editor=editor, comment="Look again.")


def _undone_label(sentence, editor):
    services.annotation_save(
        sentence=sentence, annotator=editor, label={"is_claim": False}, expected_version=0
    )
    services.annotation_undo(annotator=editor)  # no annotation left, its history stays


@pytest.mark.parametrize(
    ("work", "named"),
    [
        (_gold, "1 gold label(s)"),
        (_send_back, "1 send-back(s)"),
        (_undone_label, "2 label change(s) in the history"),
    ],
    ids=["gold label", "send-back", "undone label"],
)
def test_changed_body_of_an_article_with_work_but_no_annotations_is_refused_clearly(
    tmp_path, editor, work, named
):
    first = write(tmp_path, "v1.csv", csv_text([csv_row("Old text. Two.", external_id="e1")]))
    run_import(first)
    article = Article.objects.get()
    work(article.sentences.first(), editor)
    assert not Annotation.objects.exists()
    before = snapshot()
    second = write(tmp_path, "v2.csv", csv_text([csv_row("New text.", external_id="e1")]))

    _, _, err = run_import_failing(second)

    assert snapshot() == before
    assert f"{second}, row 1: article #{article.pk}" in err
    assert named in err and "its text cannot change" in err
    assert "database refused" not in err


def test_changed_body_of_an_annotated_article_is_refused_by_the_service(annotator):
    article, _ = services.article_upsert(record=ArticleRecord(body="One. Two.", external_id="e"))
    annotate(article.sentences.first(), annotator)
    before = snapshot()

    with pytest.raises(ValidationError, match=rf"article #{article.pk} .*annotation"):
        services.articles_import(
            records=[ArticleRecord(body="Three.", external_id="e", place="f.csv, row 1")]
        )

    assert snapshot() == before


def test_same_body_without_external_id_is_never_duplicated(tmp_path):
    body = "The same words. Imported over and over."
    write(tmp_path, "a.csv", csv_text([csv_row(body)]))
    write(tmp_path, "b.jsonl", jsonl_text([{"body": body}, {"body": body}]))
    write(tmp_path, "c.csv", csv_text([csv_row(body, title="A title given later")]))

    out, _ = run_import(tmp_path)

    article = Article.objects.get()
    assert article.title == "A title given later"
    assert Sentence.objects.count() == 2
    assert "3 file(s): 1 created, 1 updated, 2 unchanged" in out


def test_same_body_gains_its_external_id_instead_of_a_duplicate(tmp_path):
    body = "First imported without an id."
    run_import(write(tmp_path, "a.csv", csv_text([csv_row(body)])))

    run_import(write(tmp_path, "b.csv", csv_text([csv_row(body, external_id="late-id")])))

    assert Article.objects.get().external_id == "late-id"


def test_same_body_under_another_external_id_is_refused(tmp_path):
    body = "One text, two ids."
    run_import(write(tmp_path, "a.csv", csv_text([csv_row(body, external_id="first")])))
    before = snapshot()
    second = write(tmp_path, "b.csv", csv_text([csv_row(body, external_id="second")]))

    _, _, err = run_import_failing(second)

    assert f"{second}, row 1: this text is already imported as article #" in err
    assert "with external_id 'first', not 'second'" in err
    assert snapshot() == before


def test_metadata_change_with_same_body_updates_and_keeps_the_sentences(tmp_path):
    row = csv_row("Body that stays. Exactly the same.", external_id="m1", outlet="Reuters")
    run_import(write(tmp_path, "v1.csv", csv_text([row])))
    article = Article.objects.get()
    sentences_before = list(article.sentences.values_list("pk", "start", "end", "text"))

    changed = {**row, "outlet": "Associated Press", "published_on": "2024-01-02"}
    out, _ = run_import(write(tmp_path, "v2.csv", csv_text([changed])))

    article.refresh_from_db()
    assert article.outlet == "Associated Press"
    assert article.published_on == datetime.date(2024, 1, 2)
    assert list(article.sentences.values_list("pk", "start", "end", "text")) == sentences_before
    assert "0 created, 1 updated, 0 unchanged" in out


def test_metadata_change_is_allowed_on_an_annotated_article(tmp_path, annotator):
    row = csv_row("Labelled body. Stays put.", external_id="m1", outlet="Reuters")
    run_import(write(tmp_path, "v1.csv", csv_text([row])))
    annotate(Sentence.objects.first(), annotator)

    run_import(write(tmp_path, "v2.csv", csv_text([{**row, "outlet": "AFP"}])))

    assert Article.objects.get().outlet == "AFP"
    assert Annotation.objects.count() == 1


def test_absent_metadata_keeps_what_the_article_has():
    services.article_upsert(
        record=ArticleRecord(body="Body.", outlet="BBC", url="https://bbc.co.uk/a")
    )

    _, outcome = services.article_upsert(record=ArticleRecord(body="Body."))

    assert outcome == ImportOutcome.UNCHANGED
    assert (Article.objects.get().outlet, Article.objects.get().url) == (
        "BBC",
        "https://bbc.co.uk/a",
    )


# --- bad input: the message names the file, the place and the reason; nothing is imported ----

BAD_FILES = [
    # id, file name, content, where (after the path), reason
    (
        "latin-1 csv",
        "latin1.csv",
        "title,body\nCafé,Fine text.\n".encode("latin-1"),
        ", line 2",
        "not UTF-8 text",
    ),
    (
        "latin-1 txt",
        "latin1.txt",
        b" date 2023-12-30 First line.\nSecond line caf\xe9.\n",
        ", line 2",
        "not UTF-8 text",
    ),
    (
        "cp1252 csv named as such",
        "excel.csv",
        "title,body\r\nOne,Fine.\r\nCafé,Le café a dit.\r\n".encode("cp1252"),
        ", line 3",
        "it looks like Windows-1252 (cp1252) or Latin-1 text",
    ),
    (
        "binary file named as such",
        "binary.csv",
        bytes(range(1, 32)) * 40 + b"\xff\xfe",  # 40 line feeds before the 0xff
        ", line 41",
        "not a text file (binary data",
    ),
    (
        "semicolon-separated csv",
        "excel-de.csv",
        b"title;body;outlet\r\nEins;Ein Text.;Spiegel\r\n",
        ", line 1",
        "the columns are separated by ';', not by commas",
    ),
    ("empty file", "empty.csv", b"", "", "file is empty"),
    ("whitespace only", "blank.txt", b"  \n\t\r\n  ", "", "file is empty"),
    ("whitespace-only jsonl", "blank.jsonl", b"\n\n \n", "", "file is empty"),
    (
        "csv row with empty body",
        "nobody.csv",
        csv_text([csv_row("Fine."), csv_row("   ", title="Empty")]).encode(),
        ", row 2",
        "body is empty",
    ),
    (
        "txt with only a header",
        "header.txt",
        b" date 2023-12-30 \n\n",
        "",
        "the article has no text after the date header",
    ),
    (
        "txt header date 2023-13-45",
        "baddate.txt",
        b" date 2023-13-45 Some text.",
        ", line 1",
        "invalid date '2023-13-45' in the 'date YYYY-MM-DD' header",
    ),
    (
        "csv published_on 30/12/2023",
        "baddate.csv",
        csv_text([csv_row("Text.", published_on="30/12/2023")]).encode(),
        ", row 1",
        "published_on '30/12/2023' is not a valid date (YYYY-MM-DD)",
    ),
    (
        "csv without a body column",
        "nobodycol.csv",
        b"title,outlet\r\nA title,BBC\r\n",
        ", line 1",
        "missing column(s): body",
    ),
    (
        "csv with an unknown column",
        "extra.csv",
        b"title,body,author\r\nA title,Some text.,Jane\r\n",
        ", line 1",
        "unknown column(s): author",
    ),
    (
        "csv row with more cells than the header",
        "wide.csv",
        b"title,body\r\nA,Text.,surplus\r\n",
        ", row 1, line 2",
        "row has more cells than the header",
    ),
    (
        "csv with a header but no rows",
        "header-only.csv",
        b"title,body\r\n",
        "",
        "file has a header but no rows",
    ),
    (
        "invalid json line",
        "broken.jsonl",
        b'{"body": "Fine."}\n\n{"body": "Broken",}\n',
        ", line 3",
        "invalid JSON",
    ),
    (
        "json line that is not an object",
        "list.jsonl",
        b'{"body": "Fine."}\n["body", "x"]\n',
        ", line 2",
        "each line must be a JSON object",
    ),
    (
        "jsonl with an unknown key",
        "key.jsonl",
        b'{"body": "Fine.", "author": "Jane"}\n',
        ", line 1",
        "unknown column(s): author",
    ),
    (
        "jsonl body that is not text",
        "list-body.jsonl",
        b'{"body": ["a", "b"]}\n',
        ", line 1",
        "body must be text",
    ),
    (
        "javascript url",
        "xss.csv",
        csv_text([csv_row("Text.", url="javascript:alert(1)")]).encode(),
        ", row 1",
        "url 'javascript:alert(1)' is not a valid http(s) address",
    ),
    (
        "ftp url",
        "ftp.jsonl",
        b'{"body": "Text.", "url": "ftp://example.org/a"}\n',
        ", line 1",
        "is not a valid http(s) address",
    ),
    (
        "duplicate external_id in a csv",
        "dupes.csv",
        csv_text(
            [
                csv_row("One.", external_id="same"),
                csv_row("Two.", external_id="other"),
                csv_row("Three.", external_id="same"),
            ]
        ).encode(),
        ", row 3",
        "external_id 'same' appears twice (first in row 1)",
    ),
    (
        "duplicate external_id in a jsonl",
        "dupes.jsonl",
        b'{"body": "One.", "external_id": "s"}\n{"body": "Two.", "external_id": "s"}\n',
        ", line 2",
        "external_id 's' appears twice (first in line 1)",
    ),
    (
        "title too long",
        "long.csv",
        csv_text([csv_row("Text.", title="t" * 501)]).encode(),
        ", row 1",
        "title is 501 characters; at most 500",
    ),
    ("unsupported extension", "article.docx", b"Some text.", "", "unsupported file type '.docx'"),
]


@pytest.mark.parametrize(
    ("name", "content", "where", "reason"),
    [case[1:] for case in BAD_FILES],
    ids=[case[0] for case in BAD_FILES],
)
def test_bad_file_is_reported_with_file_place_and_reason_and_imports_nothing(
    tmp_path, name, content, where, reason
):
    path = write(tmp_path, name, content)

    exc, out, err = run_import_failing(path)

    assert f"error: {path}{where}: " in err
    assert reason in err
    assert "(nothing imported from this file)" in err
    assert "1 failed files" in out
    assert "1 of 1 file(s) failed" in str(exc)
    assert Article.objects.count() == 0
    assert Sentence.objects.count() == 0


@pytest.mark.parametrize(
    ("name", "content", "where", "reason"),
    [case[1:] for case in BAD_FILES],
    ids=[case[0] for case in BAD_FILES],
)
def test_parser_raises_import_file_error_naming_the_place(tmp_path, name, content, where, reason):
    path = write(tmp_path, name, content)

    with pytest.raises(ImportFileError) as info:
        importing.parse_file(path, max_bytes=MAX)

    assert str(info.value).startswith(f"{path}{where}: ")
    assert reason in info.value.reason


def test_file_over_max_bytes_is_refused(tmp_path):
    path = write(tmp_path, "big.csv", csv_text([csv_row("x" * 200)]))
    size = path.stat().st_size

    _, out, err = run_import_failing(path, max_bytes=100)

    assert f"error: {path}: file is {size:,} bytes; the limit is 100 bytes" in err
    assert "1 failed files" in out
    assert Article.objects.count() == 0


def test_file_at_exactly_max_bytes_is_accepted(tmp_path):
    path = write(tmp_path, "fits.csv", csv_text([csv_row("Fits exactly.")]))

    run_import(path, max_bytes=path.stat().st_size)

    assert Article.objects.count() == 1


@override_settings(CLAIMDESK_MAX_IMPORT_BYTES=64)
def test_size_limit_setting_is_the_commands_default(tmp_path):
    path = write(tmp_path, "a.txt", TXT)

    _, _, err = run_import_failing(path)

    assert f"{path}: file is {len(TXT.encode()):,} bytes; the limit is 64 bytes" in err
    assert Article.objects.count() == 0


@override_settings(CLAIMDESK_MAX_IMPORT_BYTES=64)
def test_size_limit_setting_reaches_the_parser(tmp_path, settings):
    path = write(tmp_path, "a.txt", TXT)

    with pytest.raises(ImportFileError, match=r"the limit is 64 bytes"):
        importing.parse_file(path, max_bytes=settings.CLAIMDESK_MAX_IMPORT_BYTES)
    with pytest.raises(ImportFileError, match=r"the limit is 64 bytes"):
        importing.parse_bytes("a.txt", ".txt", TXT.encode(), max_bytes=64)


def test_missing_file_is_reported(tmp_path):
    path = tmp_path / "nowhere.csv"

    _, _, err = run_import_failing(path)

    assert f"error: {path}: cannot read the file" in err


def test_directory_without_supported_files_is_an_error(tmp_path):
    write(tmp_path, "readme.md", "nothing here")

    exc, _, _ = run_import_failing(tmp_path)

    assert "no .txt, .jsonl or .csv files found" in str(exc)


def test_jsonl_body_with_unicode_line_separator_is_valid(tmp_path):
    body = "Text pasted from a web page\u2028keeps its separator. And a NEL\x85 too."
    path = write(tmp_path, "sep.jsonl", jsonl_text([{"body": body}]))

    run_import(path)

    assert Article.objects.get().body == body


def test_url_longer_than_the_column_is_reported_by_the_parser():
    url = "https://example.org/" + "a" * 1000

    with pytest.raises(ImportFileError, match=r"url"):
        importing.parse_bytes(
            "long.jsonl", ".jsonl", json.dumps({"body": "T.", "url": url}).encode(), max_bytes=MAX
        )


def test_nul_character_is_reported_by_the_parser():
    with pytest.raises(ImportFileError, match=r"line 2"):
        importing.parse_bytes("nul.txt", ".txt", b"First line.\nSecond\x00 line.\n", max_bytes=MAX)


# --- atomicity -------------------------------------------------------------------------------


def test_csv_whose_third_row_is_bad_imports_nothing(tmp_path):
    rows = [
        csv_row("First good row."),
        csv_row("Second good row."),
        csv_row("Third row has a bad date.", published_on="2023-02-30"),
        csv_row("Fourth good row."),
    ]
    path = write(tmp_path, "third.csv", csv_text(rows))

    exc, _, err = run_import_failing(path)

    assert "1 of 1 file(s) failed" in str(exc)
    assert f"{path}, row 3: published_on '2023-02-30' is not a valid date" in err
    assert Article.objects.count() == 0
    assert Sentence.objects.count() == 0


def test_csv_whose_third_row_fails_in_the_database_rolls_back_the_first_two(tmp_path):
    # Rows 1 and 2 are written before row 3's text turns out to be row 1's under another id.
    rows = [
        csv_row("Shared text. Twice.", external_id="a"),
        csv_row("Second good row.", external_id="b"),
        csv_row("Shared text. Twice.", external_id="c"),
    ]
    path = write(tmp_path, "third.csv", csv_text(rows))

    _, out, err = run_import_failing(path)

    assert f"{path}, row 3: this text is already imported as article #" in err
    assert "with external_id 'a', not 'c'" in err
    assert "0 created, 0 updated, 0 unchanged, 1 failed files" in out
    assert Article.objects.count() == 0
    assert Sentence.objects.count() == 0


def test_articles_import_is_all_or_nothing(annotator):
    article, _ = services.article_upsert(
        record=ArticleRecord(body="Labelled. Text.", external_id="l")
    )
    annotate(article.sentences.first(), annotator)
    before = snapshot()
    records = [
        ArticleRecord(body="Would be new.", place="f.jsonl, line 1"),
        ArticleRecord(
            body="Labelled. Text.", external_id="l", outlet="AP", place="f.jsonl, line 2"
        ),
        ArticleRecord(body="Changed.", external_id="l", place="f.jsonl, line 3"),
    ]

    with pytest.raises(ValidationError) as info:
        services.articles_import(records=records)

    assert info.value.messages[0].startswith(f"f.jsonl, line 3: article #{article.pk} ")
    assert snapshot() == before


def test_with_one_bad_file_the_good_file_still_imports_and_the_command_fails(tmp_path):
    good = write(tmp_path, "a-good.csv", csv_text([csv_row("Good one."), csv_row("Good two.")]))
    bad = write(
        tmp_path,
        "b-bad.csv",
        csv_text([csv_row("Would be fine."), csv_row("Bad url.", url="javascript:alert(1)")]),
    )

    exc, out, err = run_import_failing(good, bad)

    assert sorted(Article.objects.values_list("body", flat=True)) == ["Good one.", "Good two."]
    assert Sentence.objects.count() == 2
    assert "2 file(s): 2 created, 0 updated, 0 unchanged, 1 failed files" in out
    assert f"error: {bad}, row 2: url 'javascript:alert(1)'" in err
    assert str(good) not in err
    assert "1 of 2 file(s) failed" in str(exc)


def test_bad_file_first_does_not_stop_the_good_file_after_it(tmp_path):
    bad = write(tmp_path, "a-bad.txt", b" date 2023-13-45 Text.")
    good = write(tmp_path, "b-good.txt", TXT)

    _, out, _ = run_import_failing(bad, good)

    assert Article.objects.get().body == TXT
    assert "1 created" in out and "1 failed files" in out


def test_command_can_be_called_with_a_path_object(tmp_path):
    path = write(tmp_path, "a.txt", TXT)
    out = io.StringIO()

    call_command("import_articles", path, stdout=out, stderr=io.StringIO())

    assert Article.objects.count() == 1


def test_replaced_body_without_a_title_gets_its_new_first_sentence_as_title():
    services.article_upsert(record=ArticleRecord(body="Old first. Old second.", external_id="x"))
    article, _ = services.article_upsert(
        record=ArticleRecord(body="New first. New second.", external_id="x")
    )

    assert article.title == "New first."


# --- batched import (services.articles_import) -----------------------------------------------

SENTENCE_FIELDS = [f.attname for f in Sentence._meta.concrete_fields if not f.primary_key]


def sentence_rows(article: Article) -> list[tuple]:
    fields = [f for f in SENTENCE_FIELDS if f != "article_id"]
    return list(article.sentences.order_by("position").values_list(*fields))


def test_batched_insert_writes_the_rows_bulk_create_writes(mod_source):
    """The import's own INSERT (services._sentences_insert) and the ORM's bulk_create (used
    when one article is re-segmented) store the same sentences, suggestions included."""
    [record] = importing.parse_file(DEMO_ARTICLE, max_bytes=MAX)
    services.articles_import(records=[record])
    batched = Article.objects.get()
    rows = sentence_rows(batched)
    assert any(row[SENTENCE_FIELDS.index("suggested_source_id") - 1] for row in rows)
    assert any(row[SENTENCE_FIELDS.index("cue_start") - 1] is not None for row in rows)
    batched.delete()

    single, _ = services.article_upsert(record=record)

    assert sentence_rows(single) == rows
    assert_offsets_exact(single)


def test_a_batch_mixing_new_duplicate_and_updated_records_follows_the_single_record_rules(
    monkeypatch,
):
    monkeypatch.setattr(services, "IMPORT_BATCH", 3)  # records 1-3 and 4-6 are two batches
    existing, _ = services.article_upsert(record=ArticleRecord(body="Old. Text.", external_id="x"))
    records = [
        ArticleRecord(body="New one. Here."),
        ArticleRecord(body="New one. Here."),  # same body, same batch: the same article
        ArticleRecord(body="Changed. Text.", external_id="x"),  # an article in the database
        ArticleRecord(body="Second. Article.", external_id="y"),
        ArticleRecord(body="Second, edited. Article.", external_id="y"),  # same id, same batch
        ArticleRecord(body="New one. Here.", outlet="Reuters"),  # same body, an earlier batch
    ]

    outcomes = services.articles_import(records=records)

    assert outcomes == {"created": 2, "unchanged": 1, "updated": 3}
    assert Article.objects.count() == 3
    existing.refresh_from_db()
    assert existing.body == "Changed. Text."
    assert Article.objects.get(external_id="y").body == "Second, edited. Article."
    assert Article.objects.get(body="New one. Here.").outlet == "Reuters"
    for article in Article.objects.all():
        assert_offsets_exact(article)


def test_an_error_late_in_a_batch_leaves_nothing_of_the_batch(annotator):
    annotated, _ = services.article_upsert(record=ArticleRecord(body="A. B.", external_id="z"))
    annotate(annotated.sentences.first(), annotator)
    before = snapshot()
    records = [
        ArticleRecord(body="Fine. One."),
        ArticleRecord(body="Fine. Two."),
        ArticleRecord(body="A, changed. B.", external_id="z", place="f.jsonl, line 3"),
    ]

    with pytest.raises(ValidationError, match=r"f\.jsonl, line 3: .*annotation"):
        services.articles_import(records=records)

    assert snapshot() == before
