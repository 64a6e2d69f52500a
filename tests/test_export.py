"""Dataset export end to end: the export page, downloads, the bundle, ClaimReview, the command.

Rows are checked against the database through `tests.factories_export.expected_rows`, which
reads model instances, not the export query.
"""

import csv
import datetime
import gc
import io
import json
import re
import zipfile
from collections import Counter

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.db import connection
from django.http import FileResponse, StreamingHttpResponse
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from claims import agreement, dataset, exporting, selectors, services
from claims.importing import ArticleRecord
from claims.models import Annotation, GoldLabel, Source, VerificationStatus
from tests.conftest import make_user
from tests.factories_export import (
    ANNOTATOR_IDS,
    EDITOR_ID,
    accept,
    annotate,
    as_csv,
    as_json,
    build_dataset,
    expected_keys,
    expected_rows,
    key_of,
    label_of,
    make_raw_article,
    parse_csv,
    parse_jsonl,
    set_gold,
    utc_text,
    whole_sentence,
)
from tests.factories_workspace import annotatable
from tests.factories_workspace import make_article as make_workspace_article

pytestmark = pytest.mark.django_db

PAGE_URL = reverse("claims:export")
DOWNLOAD_URL = reverse("claims:export_download")
HX = {"HX-Request": "true"}
FORMATS = ["csv", "jsonl", "zip", "claimreview"]
STREAMED_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "jsonl": "application/x-ndjson; charset=utf-8",
    "claimreview": "application/ld+json; charset=utf-8",
}


@pytest.fixture
def researcher(db):
    return make_user("res", "researcher")


@pytest.fixture
def data(db):
    return build_dataset()


@pytest.fixture
def res_client(client, researcher):
    client.force_login(researcher)
    return client


def body_of(response) -> bytes:
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def download(client, **params):
    response = client.get(DOWNLOAD_URL, params)
    assert response.status_code == 200, body_of(response)[:500]
    return response


def rows_of(client, fmt: str = "csv", **params) -> list[dict]:
    content = body_of(download(client, format=fmt, **params))
    return parse_csv(content) if fmt == "csv" else parse_jsonl(content)


def page_count(response) -> int | None:
    """The row count in the export page or in its row-count partial (None: counted later)."""
    html = response.content.decode()
    if re.search(r'<p id="row-count"[^>]*hx-trigger="load"', html):
        return None
    match = re.search(r'id="row-count"[^>]*>\s*<strong>(\d+)</strong>', html)
    assert match, html
    return int(match.group(1))


# --- round trip ----------------------------------------------------------------------------


def test_dataset_has_what_the_round_trip_needs(data):
    gold, annotations = expected_rows("gold"), expected_rows("annotations")
    assert len(gold) == 9  # 8 sentences, one with two gold claims
    assert len(annotations) == 14  # 12 labels, one with two claims; 3 are not claims
    assert {r["gold_origin"] for r in gold} == {"accepted", "corrected", None}
    assert {r["is_claim"] for r in gold} == {True, False, None}
    assert any(" " in (r["content_sentence_ids"] or "") for r in gold)  # over two sentences
    assert any(r["cue_text"] is None for r in annotations)
    assert len({r["_annotator_id"] for r in annotations}) == 2


@pytest.mark.parametrize("level", ["gold", "annotations"])
def test_csv_round_trip_matches_the_database(res_client, data, level):
    downloaded = rows_of(res_client, "csv", level=level)

    expected = [as_csv(row) for row in expected_rows(level)]
    assert downloaded == expected


@pytest.mark.parametrize("level", ["gold", "annotations"])
def test_jsonl_round_trip_matches_the_database_exactly(res_client, data, level):
    downloaded = rows_of(res_client, "jsonl", level=level)

    expected = [as_json(row) for row in expected_rows(level)]
    assert downloaded == expected


def test_gold_rows_in_detail(res_client, data):
    """Spell out a few values, so the round trip is not only checked against itself."""
    rows = rows_of(res_client, "jsonl", level="gold")
    by_sentence = {}
    for row in rows:
        by_sentence.setdefault(row["sentence_id"], []).append(row)
    s = data.sentences
    a0, a1, a2, b2 = (by_sentence[s[k].pk] for k in ("A0", "A1", "A2", "B2"))
    body = data.articles[0].body
    p = dataset.pseudonymizer()

    # A0: the gold label accepted annotator 2's two claims, one row each, in their order.
    assert [r["claim_position"] for r in a0] == [0, 1]
    quote, place = a0
    assert quote["sentence_text"] == (
        'The Russian Ministry of Defence said its forces "repelled 3 attacks" near Kupiansk, '
        "Київ region."
    )
    assert body[quote["sentence_start"] : quote["sentence_end"]] == quote["sentence_text"]
    assert quote["sentence_position"] == 0
    assert quote["content_text"] == '"repelled 3 attacks"'
    assert body[quote["content_start"] : quote["content_end"]] == '"repelled 3 attacks"'
    assert (quote["cue_text"], quote["mention_text"]) == (
        "said",
        "The Russian Ministry of Defence",
    )
    assert body[quote["cue_start"] : quote["cue_end"]] == "said"
    assert quote["mention_start"] == 0
    assert quote["content_sentence_ids"] == str(s["A0"].pk)
    assert (quote["external_id"], quote["outlet"], quote["published_on"]) == (
        "rtr-001",
        "Reuters",
        "2024-03-02",
    )
    assert quote["url"] == "https://example.com/news/kupiansk?id=1&lang=en"
    assert (
        quote["is_claim"],
        quote["source"],
        quote["source_kind"],
        quote["side"],
        quote["status"],
        quote["attribution_type"],
    ) == (True, "Russian Ministry of Defence", "government", "Russia", "disputed", "direct_quote")
    assert quote["annotator"] == "gold" and quote["annotated_at"] is None
    assert quote["gold_origin"] == "accepted"
    assert quote["reviewed_by"] == p(EDITOR_ID)
    assert quote["reviewed_at"] == utc_text(data.gold["A0"].updated_at)
    assert place["content_text"] == "near Kupiansk, Київ region"
    assert place["source"] is None and place["cue_start"] is None and place["cue_text"] is None
    assert (place["status"], place["attribution_type"]) == ("unverified", "none")
    # A1: gold says "not a claim": one row, claim columns empty.
    [not_a_claim] = a1
    assert not_a_claim["is_claim"] is False and not_a_claim["gold_origin"] == "corrected"
    assert not_a_claim["claim_position"] is None and not_a_claim["content_text"] is None
    assert not_a_claim["status"] is None and not_a_claim["content_sentence_ids"] is None
    # A2: a quote over two sentences and a line break; its mention is in A0.
    [over_two] = a2
    assert over_two["content_text"] == "The enemy retreated.\nOur losses are minimal,"
    assert over_two["content_sentence_ids"] == f"{s['A1'].pk} {s['A2'].pk}"
    assert over_two["mention_text"] == "The Russian Ministry of Defence"
    assert over_two["mention_end"] < s["A1"].start
    assert (over_two["status"], over_two["gold_origin"]) == ("false", "corrected")
    # B2: no gold label.
    [unlabelled] = b2
    assert unlabelled["is_claim"] is None and unlabelled["gold_origin"] is None
    assert unlabelled["reviewed_at"] is None and unlabelled["reviewed_by"] is None
    assert unlabelled["annotator"] == "gold"


def test_annotation_rows_are_ordered_by_article_position_annotator_and_claim(res_client, data):
    rows = rows_of(res_client, "csv", level="annotations")
    one, two = (dataset.pseudonymizer()(pk) for pk in ANNOTATOR_IDS)
    a0 = [r for r in rows if int(r["sentence_id"]) == data.sentences["A0"].pk]

    assert [(r["annotator"], r["claim_position"]) for r in a0] == [
        (one, "0"),
        (two, "0"),
        (two, "1"),
    ]
    assert [r["status"] for r in a0] == ["unverified", "disputed", "unverified"]
    assert [r["content_text"] for r in a0] == [
        'its forces "repelled 3 attacks" near Kupiansk',
        '"repelled 3 attacks"',
        "near Kupiansk, Київ region",
    ]
    assert (a0[0]["note"], a0[0]["evidence_url"]) == (
        "Checked the wire, twice.",
        "https://example.org/wire",
    )
    keys = [
        (int(r["article_id"]), int(r["sentence_position"]), r["annotator"], r["claim_position"])
        for r in rows
    ]
    assert [k[:2] for k in keys] == sorted(k[:2] for k in keys)
    assert all(r["gold_origin"] == r["reviewed_by"] == r["reviewed_at"] == "" for r in rows)
    assert all(r["annotated_at"].endswith("Z") for r in rows)
    not_claims = [r for r in rows if r["is_claim"] == "false"]
    assert len(not_claims) == 3
    assert all(r["claim_position"] == r["content_text"] == r["status"] == "" for r in not_claims)


def test_an_earlier_mention_and_a_quote_over_a_line_break(res_client, data):
    rows = rows_of(res_client, "jsonl", level="annotations")
    a2 = [r for r in rows if r["sentence_id"] == data.sentences["A2"].pk]
    body = data.articles[0].body

    assert [r["mention_text"] for r in a2] == ["the ministry", "The Russian Ministry of Defence"]
    for row in a2:
        for name in ("content", "cue", "mention"):
            assert body[row[f"{name}_start"] : row[f"{name}_end"]] == row[f"{name}_text"]
        assert "\n" in row["content_text"]
    assert a2[1]["mention_start"] < data.sentences["A2"].start  # in an earlier sentence


def test_gold_level_has_a_row_for_every_annotatable_sentence_and_no_credits(res_client, data):
    article, _ = services.article_upsert(
        record=ArticleRecord(
            body="Officials said the port is closed.\n\nReporting by Jane Doe; Editing by Ann Roe"
        )
    )
    credits = article.sentences.exclude(kind="sentence")

    rows = rows_of(res_client, "csv", level="gold")

    ids = [int(r["sentence_id"]) for r in rows]
    assert len(ids) == len(expected_rows("gold"))  # A0 has two rows (two gold claims)
    assert not set(credits.values_list("pk", flat=True)) & set(ids)
    assert set(ids) == {r["sentence_id"] for r in expected_rows("gold")}


@pytest.mark.parametrize("level", ["gold", "annotations"])
def test_jsonl_empty_pseudonym_columns_are_null(res_client, data, level):
    rows = rows_of(res_client, "jsonl", level=level)

    for row in rows:
        if level == "gold":
            assert row["annotator"] == "gold"
            assert (row["reviewed_by"] is None) == (row["gold_origin"] is None)
        else:
            assert row["reviewed_by"] is None


# --- filters -------------------------------------------------------------------------------

# Each filter: query parameters (a callable of the dataset) and the rows it keeps.
FILTERS = {
    "date_from": (
        lambda d: {"date_from": "2024-04-01"},
        lambda r, d: r["published_on"] and r["published_on"] >= datetime.date(2024, 4, 1),
    ),
    "date_to": (
        lambda d: {"date_to": "2024-03-31"},
        lambda r, d: r["published_on"] and r["published_on"] <= datetime.date(2024, 3, 31),
    ),
    "date_range": (
        lambda d: {"date_from": "2024-03-02", "date_to": "2024-03-02"},
        lambda r, d: r["published_on"] == datetime.date(2024, 3, 2),
    ),
    "outlets": (
        lambda d: {"outlets": ["Kyiv Independent"]},
        lambda r, d: r["outlet"] == "Kyiv Independent",
    ),
    "articles": (
        lambda d: {"articles": [d.articles[0].pk]},
        lambda r, d: r["article_id"] == d.articles[0].pk,
    ),
    "sources": (
        lambda d: {"sources": [d.sources["army"].pk, d.sources["witness"].pk]},
        lambda r, d: r["_source_id"] in (d.sources["army"].pk, d.sources["witness"].pk),
    ),
    "source_kinds": (
        lambda d: {"source_kinds": ["government", "individual"]},
        lambda r, d: r["source_kind"] in ("government", "individual"),
    ),
    "sides": (lambda d: {"sides": ["Ukraine"]}, lambda r, d: r["side"] == "Ukraine"),
    "statuses": (
        lambda d: {"statuses": ["unverified", "false"]},
        lambda r, d: r["status"] in ("unverified", "false"),
    ),
    "claims_only": (lambda d: {"claims_only": "on"}, lambda r, d: r["is_claim"] is True),
    "reviewed_only": (lambda d: {"reviewed_only": "on"}, lambda r, d: r["_has_gold"]),
    "combined": (
        lambda d: {"sides": ["Ukraine", "Russia"], "claims_only": "on", "date_to": "2024-12-31"},
        lambda r, d: r["side"] in ("Ukraine", "Russia") and r["is_claim"] is True,
    ),
}


@pytest.mark.parametrize("level", ["gold", "annotations"])
@pytest.mark.parametrize("name", list(FILTERS))
def test_each_filter_keeps_the_expected_rows_and_the_live_count_agrees(
    res_client, data, name, level
):
    make_params, keeps = FILTERS[name]
    params = {**make_params(data), "level": level}
    everything = expected_rows(level)
    expected = [r for r in everything if keeps(r, data)]
    assert 0 < len(expected) < len(everything), "the dataset does not exercise this filter"

    csv_rows = rows_of(res_client, "csv", **params)
    jsonl_rows = rows_of(res_client, "jsonl", **params)

    assert [key_of(r) for r in csv_rows] == expected_keys(expected)
    assert [key_of(r) for r in jsonl_rows] == expected_keys(expected)
    assert csv_rows == [as_csv(r) for r in expected]
    partial = res_client.get(PAGE_URL, params, headers=HX)
    full = res_client.get(PAGE_URL, params)
    assert partial.status_code == full.status_code == 200
    assert page_count(partial) == page_count(full) == len(csv_rows)


def test_the_level_changes_the_rows(res_client, data):
    gold = rows_of(res_client, "csv", level="gold")
    annotations = rows_of(res_client, "csv", level="annotations")
    default = rows_of(res_client, "csv")

    assert default == gold
    assert len(gold) == 9 and len(annotations) == 14
    assert {r["annotator"] for r in gold} == {"gold"}
    assert "" not in {r["annotator"] for r in annotations}


def test_a_filter_that_matches_nothing_gives_a_header_only_file_and_a_zero_count(res_client, data):
    params = {"date_from": "2030-01-01"}

    assert (
        body_of(download(res_client, format="csv", **params))
        == (",".join(exporting.COLUMN_NAMES) + "\r\n").encode()
    )
    assert body_of(download(res_client, format="jsonl", **params)) == b""
    assert page_count(res_client.get(PAGE_URL, params, headers=HX)) == 0


def test_articles_without_a_date_are_left_out_by_a_date_filter_only(res_client, data):
    undated, _ = services.article_upsert(
        record=ArticleRecord(body="Officials said nothing happened.")
    )

    everything = {int(r["article_id"]) for r in rows_of(res_client, "csv")}
    dated = {int(r["article_id"]) for r in rows_of(res_client, "csv", date_to="2099-01-01")}

    assert undated.pk in everything
    assert undated.pk not in dated


def test_the_partial_is_only_the_row_count_and_the_page_is_whole(res_client, data):
    partial = res_client.get(PAGE_URL, {"level": "annotations"}, headers=HX)
    page = res_client.get(PAGE_URL, {"level": "annotations"})
    bare = res_client.get(PAGE_URL)

    html = partial.content.decode().strip()
    # The row count, and the download buttons out of band (they follow the count: past the
    # thresholds they start a job, tests/test_export_jobs.py).
    assert html.startswith('<p id="row-count"') and html.endswith("</div>")
    assert '<div class="download-buttons" id="download-buttons" hx-swap-oob="true">' in html
    assert "<form" not in html and "<html" not in html
    assert page_count(partial) == 14
    assert "<html" in page.content.decode() and 'id="export-form"' in page.content.decode()
    assert page_count(page) == 14
    # No parameters: the page asks for its count in a second (htmx) request, which counts
    # the gold level, unfiltered; without JavaScript a link asks for the same count.
    assert page_count(bare) is None
    lazy = re.search(r'<p id="row-count"[^>]*hx-trigger="load"[^>]*>', bare.content.decode())
    assert lazy and 'hx-include="#export-form"' in lazy.group(0)
    assert page_count(res_client.get(PAGE_URL, headers=HX)) == 9
    assert page_count(res_client.get(PAGE_URL, {"level": "gold"})) == 9  # the <noscript> link
    assert f'href="{PAGE_URL}?level=gold"' in bare.content.decode()
    # htmx swaps the 422 partial of invalid filters (it ignores 4xx responses by default).
    assert '{"code": "422", "swap": true}' in page.content.decode()


# --- refused parameters ----------------------------------------------------------------------


@pytest.mark.parametrize("url", [PAGE_URL, DOWNLOAD_URL])
@pytest.mark.parametrize("headers", [{}, HX], ids=["page", "htmx"])
def test_an_unknown_parameter_is_refused_by_name(res_client, data, url, headers):
    response = res_client.get(url, {"statuses": "unverified", "annotator": "5"}, headers=headers)

    assert response.status_code == 400
    assert "annotator" in response.content.decode()
    assert response["Content-Type"].startswith("text/plain")


INVALID = {
    "bad date": ({"date_from": "2024-13-45"}, "Enter a valid date."),
    "unknown status": ({"statuses": "no-such-status"}, "no-such-status"),
    "dates reversed": (
        {"date_from": "2024-05-01", "date_to": "2024-04-01"},
        "The end date is before the start date.",
    ),
    "unknown level": ({"level": "everything"}, "everything"),
    "unknown outlet": ({"outlets": "Pravda"}, "Pravda"),
    "unknown source kind": ({"source_kinds": "alien"}, "alien"),
    "article not a number": ({"articles": "abc"}, "abc"),
    "article id too large": ({"articles": "99999999999999999999999"}, "99999999999999999999999"),
    "source id too large": ({"sources": "99999999999999999999999"}, "99999999999999999999999"),
    "missing article": ({"articles": "987654321"}, "987654321"),
}


@pytest.mark.parametrize("url", [PAGE_URL, DOWNLOAD_URL])
@pytest.mark.parametrize(
    "case",
    list(INVALID),
)
def test_invalid_values_give_422_never_500(res_client, data, url, case):
    params, _ = INVALID[case]

    response = res_client.get(url, {**params, "format": "csv"})
    partial = res_client.get(PAGE_URL, params, headers=HX)

    assert response.status_code == 422
    assert not response.streaming
    assert "Fix the filters above" in response.content.decode()
    assert partial.status_code == 422
    assert "Fix the filters above" in partial.content.decode()


@pytest.mark.parametrize("params", [{"statuses": "unverified\x00"}, {"outlets": "Reuters\x00"}])
def test_nul_bytes_are_refused_with_400(res_client, data, params):
    """Refused before the form (claims.middleware): no field takes a NUL character."""
    assert res_client.get(DOWNLOAD_URL, params).status_code == 400
    assert res_client.get(PAGE_URL, params, headers=HX).status_code == 400


@pytest.mark.parametrize("case", ["bad date", "dates reversed"])
def test_date_errors_are_explained_on_the_page(res_client, data, case):
    params, message = INVALID[case]

    response = res_client.get(DOWNLOAD_URL, params)

    assert response.status_code == 422
    assert message in response.content.decode()


@pytest.mark.parametrize(
    "case", ["unknown status", "unknown level", "unknown outlet", "article not a number"]
)
def test_other_invalid_values_are_explained_on_the_page(res_client, data, case):
    params, _ = INVALID[case]

    response = res_client.get(DOWNLOAD_URL, params)

    assert response.status_code == 422
    errors = [m for messages in response.context["form"].errors.values() for m in messages]
    assert errors
    for message in errors:
        assert str(escape(message)) in response.content.decode()


def test_an_unknown_format_is_422(res_client, data):
    response = res_client.get(DOWNLOAD_URL, {"format": "xls"})

    assert response.status_code == 422


def test_a_merged_source_is_not_a_filter_value(res_client, data):
    old = services.source_upsert(name="Old army name", kind="military", side="Ukraine")
    services.source_merge(source=old, into=data.sources["army"])

    response = res_client.get(DOWNLOAD_URL, {"sources": old.pk})

    assert response.status_code == 422


# --- pseudonyms ----------------------------------------------------------------------------


def all_downloads(client) -> str:
    """Every download at both levels as text (the ZIP's members unpacked)."""
    parts = []
    for level in ("gold", "annotations"):
        for fmt in FORMATS:
            content = body_of(download(client, format=fmt, level=level))
            if fmt == "zip":
                archive = zipfile.ZipFile(io.BytesIO(content))
                parts += [archive.read(name).decode() for name in archive.namelist()]
            else:
                parts.append(content.decode())
    return "\n".join(parts)


def test_pseudonyms_are_stable_across_exports(res_client, data):
    first = rows_of(res_client, "jsonl", level="annotations")
    second = rows_of(res_client, "jsonl", level="annotations")

    assert [r["annotator"] for r in first] == [r["annotator"] for r in second]
    assert rows_of(res_client, "jsonl") == rows_of(res_client, "jsonl")


def test_pseudonyms_differ_between_people_and_look_like_pseudonyms(res_client, data):
    annotations = rows_of(res_client, "jsonl", level="annotations")
    gold = rows_of(res_client, "jsonl")

    names = {r["annotator"] for r in annotations}
    editors = {r["reviewed_by"] for r in gold if r["reviewed_by"]}
    assert len(names) == 2
    assert len(editors) == 1
    assert not names & editors
    assert all(re.fullmatch(r"a-[0-9a-f]{12}", n) for n in names | editors)
    by_annotator = {
        r["annotator"]: r["content_text"]
        for r in annotations
        if r["sentence_id"] == data.sentences["A0"].pk and r["claim_position"] == 0
    }
    assert sorted(by_annotator.values()) == [
        '"repelled 3 attacks"',
        'its forces "repelled 3 attacks" near Kupiansk',
    ]


def test_no_download_contains_a_username_or_a_user_id(res_client, data):
    content = all_downloads(res_client)

    for user in [*data.annotators, data.editor]:
        assert user.username not in content
        assert str(user.pk) not in content


def test_renaming_a_user_keeps_the_pseudonym(res_client, data):
    before = rows_of(res_client, "csv", level="annotations")
    data.annotators[0].username = "someone-else"
    data.annotators[0].save()

    assert rows_of(res_client, "csv", level="annotations") == before


def test_pseudonyms_rotate_with_the_pseudonym_key(res_client, data):
    with override_settings(CLAIMDESK_PSEUDONYM_KEY="first-key-" + "0123456789abcdef" * 4):
        first = rows_of(res_client, "jsonl", level="annotations")
        first_again = rows_of(res_client, "jsonl", level="annotations")
        first_gold = rows_of(res_client, "jsonl")
    with override_settings(CLAIMDESK_PSEUDONYM_KEY="second-key-" + "0123456789abcdef" * 4):
        second = rows_of(res_client, "jsonl", level="annotations")
        second_gold = rows_of(res_client, "jsonl")

    assert first == first_again
    old, new = {r["annotator"] for r in first}, {r["annotator"] for r in second}
    assert len(old) == len(new) == 2
    assert not old & new
    old_editor = {r["reviewed_by"] for r in first_gold} - {"", None}
    new_editor = {r["reviewed_by"] for r in second_gold} - {"", None}
    assert len(old_editor) == len(new_editor) == 1 and old_editor != new_editor
    # Only the pseudonyms changed.
    strip = lambda rows: [{**r, "annotator": None} for r in rows]  # noqa: E731
    assert strip(first) == strip(second)


# --- spreadsheet safety --------------------------------------------------------------------

PREFIXES = ["=", "+", "-", "@", "\t", "\r", "\n"]


@pytest.fixture
def hostile(db, researcher):
    """Texts starting with every formula prefix: sentence, title, external id, outlet."""
    texts = [f'{p}HYPERLINK("https://evil.example","x") said {i}.' for i, p in enumerate(PREFIXES)]
    texts += [
        'Officials said: "3,000 people, maybe more", were evacuated.',
        "Line one\r\nline two\nline three\rend.",
        "Мер Києва Віталій Кличко сказав «так» — 東京 😀.",  # noqa: RUF001
    ]
    article, sentences = make_raw_article(
        texts=texts,
        title="=cmd|' /C calc'!A0",
        outlet="@Outlet",
        external_id="-42",
        url="https://example.com/x",
    )
    source = services.source_upsert(name="@DefenceU", kind="social_media", side="+Ukraine")
    annotator = make_user("hostile-annotator", "annotator")
    status = VerificationStatus.objects.get(code="unverified")
    for sentence in sentences:
        first = {"content_start": sentence.start, "content_end": sentence.start + 5}
        annotate(sentence, annotator, [{**first, "source_id": source.pk, "status_id": status.pk}])
    return article, sentences


@pytest.mark.parametrize("level", ["gold", "annotations"])
def test_formula_prefixes_are_neutralised_in_csv(res_client, hostile, level):
    _, sentences = hostile

    rows = rows_of(res_client, "csv", level=level)

    by_id = {int(r["sentence_id"]): r for r in rows}
    for sentence in sentences[: len(PREFIXES)]:
        row = by_id[sentence.pk]
        assert row["sentence_text"] == "'" + sentence.text
        assert row["title"] == "'=cmd|' /C calc'!A0"
        assert row["outlet"] == "'@Outlet"
        assert row["external_id"] == "'-42"
        if level == "annotations":
            assert row["content_text"] == "'" + sentence.text[:5]
            assert row["source"] == "'@DefenceU"
            assert row["side"] == "'+Ukraine"
    # Numbers are never prefixed.
    assert all(re.fullmatch(r"\d+", r["sentence_start"]) for r in rows)
    for row in rows:
        for column in exporting.TEXT_COLUMNS:
            assert not row[column] or row[column][0] not in "=+-@\t\r\n"


@pytest.mark.parametrize("level", ["gold", "annotations"])
def test_formula_prefixes_are_kept_exactly_in_jsonl(res_client, hostile, level):
    article, sentences = hostile

    rows = rows_of(res_client, "jsonl", level=level)

    by_id = {r["sentence_id"]: r for r in rows}
    for sentence in sentences:
        row = by_id[sentence.pk]
        assert row["sentence_text"] == sentence.text
        assert article.body[row["sentence_start"] : row["sentence_end"]] == row["sentence_text"]
        assert row["title"] == "=cmd|' /C calc'!A0"
        assert row["outlet"] == "@Outlet"
        assert row["external_id"] == "-42"
        if level == "annotations":
            assert row["content_text"] == sentence.text[:5]
            assert row["source"] == "@DefenceU"


def test_commas_quotes_newlines_and_non_ascii_survive_csv(res_client, hostile):
    _, sentences = hostile
    special = sentences[len(PREFIXES) :]

    response = download(res_client, format="csv", level="annotations")
    content = body_of(response)
    rows = {int(r["sentence_id"]): r for r in parse_csv(content)}

    for sentence in special:
        assert rows[sentence.pk]["sentence_text"] == sentence.text
    assert "Line one\r\nline two\nline three\rend." in content.decode()
    assert "«так» — 東京 😀" in content.decode("utf-8")
    assert not content.startswith(b"\xef\xbb\xbf")  # no BOM
    assert content.endswith(b"\r\n")


# --- responses -----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "claimreview"])
def test_text_downloads_are_streamed_attachments(res_client, data, fmt):
    response = download(res_client, format=fmt, level="gold")

    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == STREAMED_TYPES[fmt]
    extension = {"csv": "csv", "jsonl": "jsonl", "claimreview": "jsonld"}[fmt]
    assert re.fullmatch(
        rf'attachment; filename="claimdesk-gold-\d{{8}}-\d{{6}}\.{extension}"',
        response["Content-Disposition"],
    )
    body_of(response).decode("utf-8")


def test_the_level_is_in_the_file_name(res_client, data):
    response = download(res_client, format="jsonl", level="annotations")

    assert 'filename="claimdesk-annotations-' in response["Content-Disposition"]


BUNDLE_HEAD = ["data.csv", "README.md", "card.json", "taxonomy.csv", "attributions.jsonl"]


def zip_of(response) -> zipfile.ZipFile:
    archive = zipfile.ZipFile(io.BytesIO(body_of(response)))
    assert archive.testzip() is None
    return archive


@pytest.mark.parametrize("level", ["gold", "annotations"])
def test_zip_bundle_holds_data_card_and_taxonomy(res_client, data, level):
    params = {"level": level, "statuses": ["unverified", "false", "disputed"]}

    response = download(res_client, format="zip", **params)

    assert isinstance(response, FileResponse)
    assert response["Content-Type"] == "application/zip"
    assert re.fullmatch(
        rf'attachment; filename="claimdesk-{level}-\d{{8}}-\d{{6}}\.zip"',
        response["Content-Disposition"],
    )
    archive = zip_of(response)
    assert archive.namelist()[:5] == BUNDLE_HEAD
    rows = parse_csv(archive.read("data.csv"))
    assert rows == rows_of(res_client, "csv", **params)
    assert rows, "the filters should keep some rows"
    card = json.loads(archive.read("card.json"))
    counts = card["counts"]
    assert counts["rows"] == len(rows)
    assert counts["by_status"] == dict(Counter(r["status"] for r in rows))
    assert sum(counts["by_status"].values()) == len(rows)
    assert counts["by_source"] == dict(Counter(r["source"] or "—" for r in rows))
    assert counts["by_source_kind"] == dict(Counter(r["source_kind"] or "—" for r in rows))
    assert card["level"] == level and card["format"] == "csv" and card["data_file"] == "data.csv"
    assert sorted(card["filters"]["statuses"]) == ["disputed", "false", "unverified"]
    assert card["filters"]["level"] == level
    assert [s["code"] for s in card["statuses"]] == ["verified", "unverified", "disputed", "false"]
    assert [c["name"] for c in card["columns"]] == list(exporting.COLUMN_NAMES)
    readme = archive.read("README.md").decode()
    assert f"`{level}`" in readme
    assert f"- rows: {len(rows)}" in readme


def test_zip_card_counts_cover_unlabelled_gold_rows(res_client, data):
    archive = zip_of(download(res_client, format="zip"))

    rows = parse_csv(archive.read("data.csv"))
    counts = json.loads(archive.read("card.json"))["counts"]

    assert counts["rows"] == len(rows) == 9
    assert counts["by_status"] == {"unverified": 2, "disputed": 1, "false": 1, "—": 5}
    assert sum(counts["by_status"].values()) == counts["rows"]
    assert json.loads(archive.read("card.json"))["agreement"]["gold_labels"] == 4


def test_zip_taxonomy_lists_every_source_with_its_aliases(res_client, data):
    services.source_upsert(name="=Formula source", kind="media", aliases=["+alias"])

    archive = zip_of(download(res_client, format="zip"))
    reader = csv.DictReader(io.StringIO(archive.read("taxonomy.csv").decode(), newline=""))
    rows = {r["name"]: r for r in reader}

    assert reader.fieldnames == ["name", "kind", "side", "status", "aliases", "description"]
    names = [exporting.csv_safe(name) for name in Source.objects.values_list("name", flat=True)]
    assert sorted(rows) == sorted(names)
    mod = rows["Russian Ministry of Defence"]
    assert set(mod["aliases"].split("; ")) == {"Russian MoD", "Russia's Defence Ministry"}
    assert (mod["kind"], mod["side"], mod["status"], mod["description"]) == (
        "government",
        "Russia",
        "active",
        "The Russian MoD.",
    )
    assert rows["Local witness"]["aliases"] == ""
    assert rows["'=Formula source"]["aliases"] == "'+alias"


# --- ClaimReview ---------------------------------------------------------------------------


def claim_reviews(client, **params) -> list[dict]:
    response = download(client, format="claimreview", **params)
    reviews = json.loads(body_of(response))
    assert isinstance(reviews, list)
    return reviews


def test_claim_review_covers_exactly_the_gold_claims(res_client, data):
    reviews = claim_reviews(res_client)

    gold_claims = [r for r in expected_rows("gold") if r["is_claim"] and r["_has_gold"]]
    assert [r["claimReviewed"] for r in reviews] == [r["content_text"] for r in gold_claims]
    # A0's two claims, A2's quote, B0: A1's gold says "no claim", the others have no gold.
    assert len(reviews) == 4


def test_claim_review_objects(res_client, data):
    reviews = claim_reviews(res_client)
    quote, place, over_two, ships = reviews
    gold = data.gold

    for review, key in zip(reviews, ("A0", "A0", "A2", "B0"), strict=True):
        article = data.sentences[key].article
        assert review["@context"] == "https://schema.org"
        assert review["@type"] == "ClaimReview"
        assert review["url"] == article.url
        assert review["itemReviewed"]["@type"] == "Claim"
        assert review["itemReviewed"]["datePublished"] == article.published_on.isoformat()
        assert review["itemReviewed"]["appearance"]["url"] == article.url
        assert review["itemReviewed"]["appearance"]["headline"] == article.title
        assert review["datePublished"] == utc_text(gold[key].updated_at)[:10]
        assert review["reviewRating"]["@type"] == "Rating"
        assert review["author"]["@type"] == "Organization"
    assert quote["claimReviewed"] == '"repelled 3 attacks"'
    assert quote["itemReviewed"]["author"] == {
        "@type": "Organization",
        "name": "Russian Ministry of Defence",
    }
    assert quote["reviewRating"]["alternateName"] == "Disputed"
    assert place["claimReviewed"] == "near Kupiansk, Київ region"
    assert "author" not in place["itemReviewed"]  # unattributed
    assert over_two["claimReviewed"] == "The enemy retreated.\nOur losses are minimal,"
    assert over_two["reviewRating"]["alternateName"] == "False"
    assert ships["claimReviewed"] == 'two ships were hit, "both badly"'
    assert ships["itemReviewed"]["author"]["name"] == "Armed Forces of Ukraine"


def test_claim_review_author_of_an_individual_is_a_person(res_client, data):
    b2 = data.sentences["B2"]
    accept(label_of(b2, data.annotators[0], source=data.sources["witness"]), data.editor)

    reviews = claim_reviews(res_client, articles=[data.articles[1].pk])

    witness = [r for r in reviews if r["itemReviewed"]["author"]["name"] == "Local witness"]
    assert len(witness) == 1
    assert witness[0]["itemReviewed"]["author"]["@type"] == "Person"
    assert witness[0]["claimReviewed"] == "Nothing else happened."


def test_claim_review_follows_the_other_filters(res_client, data):
    reviews = claim_reviews(res_client, outlets=["Reuters"], level="annotations")

    assert [r["claimReviewed"] for r in reviews] == [
        '"repelled 3 attacks"',
        "near Kupiansk, Київ region",
        "The enemy retreated.\nOur losses are minimal,",
    ]
    assert claim_reviews(res_client, statuses=["verified"]) == []
    assert [r["claimReviewed"] for r in claim_reviews(res_client, statuses=["false"])] == [
        "The enemy retreated.\nOur losses are minimal,"
    ]


@override_settings(CLAIMDESK_PUBLISHER="Example Fact Desk")
def test_claim_review_author_is_the_publisher(res_client, data):
    reviews = claim_reviews(res_client)

    assert {r["author"]["name"] for r in reviews} == {"Example Fact Desk"}


def test_claim_review_survives_a_gold_claim_without_an_article_url(res_client, data):
    _, [sentence] = make_raw_article(texts=["Officials said the dam was hit."], title="No URL")
    accept(label_of(sentence, data.annotators[0], source=data.sources["army"]), data.editor)

    response = res_client.get(DOWNLOAD_URL, {"format": "claimreview"})
    failure = None
    try:
        content = body_of(response)
    except ValueError as error:
        failure = str(error)
    # Finalise the broken stream now: on PostgreSQL its server-side cursor must be closed
    # inside this test's transaction, not by a later garbage collection in another test.
    gc.collect()
    assert failure is None, f"the download broke off mid-stream: {failure}"
    reviews = json.loads(content)

    assert len(reviews) == 4
    assert all(r["url"] for r in reviews)


# --- permissions ---------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_annotators_may_not_export(client, data, annotator, fmt):
    client.force_login(annotator)

    assert client.get(PAGE_URL).status_code == 403
    assert client.get(PAGE_URL, headers=HX).status_code == 403
    assert client.get(DOWNLOAD_URL, {"format": fmt}).status_code == 403


@pytest.mark.parametrize("url", [PAGE_URL, DOWNLOAD_URL])
def test_anonymous_users_are_sent_to_log_in(client, db, url):
    response = client.get(url, {"format": "csv"})

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize("role", ["researcher", "editor", "admin"])
@pytest.mark.parametrize("fmt", FORMATS)
def test_researchers_editors_and_superusers_may_export(client, data, role, fmt):
    client.force_login(make_user(f"user-{role}", role))

    assert client.get(PAGE_URL).status_code == 200
    assert client.get(PAGE_URL, headers=HX).status_code == 200
    response = client.get(DOWNLOAD_URL, {"format": fmt})
    assert response.status_code == 200
    assert body_of(response)


def test_the_export_permission_belongs_to_researchers_and_editors_only(db):
    holders = Group.objects.filter(
        permissions__codename="export_dataset", permissions__content_type__app_label="claims"
    )
    assert sorted(holders.values_list("name", flat=True)) == ["editor", "researcher"]


def test_only_get_is_allowed(res_client, data):
    assert res_client.post(PAGE_URL).status_code == 405
    assert res_client.post(DOWNLOAD_URL, {"format": "csv"}).status_code == 405


# --- query budget --------------------------------------------------------------------------

PAGE_QUERIES = 11  # session, user, groups, permissions, form choices, count, template lists


def build_rows(n: int) -> None:
    """n sentences in n // 10 articles, each labelled by two annotators, some gold."""
    one, two = make_user(f"q1-{n}", "annotator"), make_user(f"q2-{n}", "annotator")
    editor = make_user(f"qe-{n}", "editor")
    source = services.source_upsert(name="Kyiv city council", kind="government", side="Ukraine")
    for _ in range(n // 10):
        article = make_workspace_article(10)
        for sentence in annotatable(article):
            for user in (one, two):
                label_of(sentence, user, source=source)
            if sentence.position % 3 == 0:
                set_gold(sentence, editor, [whole_sentence(sentence, source=source)])


@pytest.mark.parametrize("n", [10, 200])
def test_export_page_queries_do_not_grow_with_the_rows(
    res_client, django_assert_max_num_queries, n
):
    build_rows(n)
    params = {"level": "annotations", "claims_only": "on", "sides": ["Ukraine"]}
    res_client.get(PAGE_URL)  # warm-up

    with django_assert_max_num_queries(PAGE_QUERIES):
        page = res_client.get(PAGE_URL, params)
    with django_assert_max_num_queries(PAGE_QUERIES):
        partial = res_client.get(PAGE_URL, params, headers=HX)

    assert page_count(page) == page_count(partial) == 2 * n


def queries_of(client, url, params, headers=None) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params, headers=headers or {})
        body_of(response)
    assert response.status_code == 200
    return len(queries)


def test_page_and_download_queries_are_the_same_for_10_and_200_rows(res_client):
    params = {"level": "annotations", "statuses": ["unverified"]}
    build_rows(10)
    res_client.get(PAGE_URL)  # warm-up
    small = [
        queries_of(res_client, PAGE_URL, params),
        queries_of(res_client, PAGE_URL, params, HX),
        queries_of(res_client, DOWNLOAD_URL, {**params, "format": "csv"}),
        queries_of(res_client, DOWNLOAD_URL, {**params, "format": "jsonl"}),
    ]
    build_rows(190)
    large = [
        queries_of(res_client, PAGE_URL, params),
        queries_of(res_client, PAGE_URL, params, HX),
        queries_of(res_client, DOWNLOAD_URL, {**params, "format": "csv"}),
        queries_of(res_client, DOWNLOAD_URL, {**params, "format": "jsonl"}),
    ]

    assert small == large


# --- the management command ----------------------------------------------------------------


def run_export(tmp_path, fmt: str, level: str = "gold", *filters: str, name="out") -> bytes:
    path = tmp_path / f"{name}.{fmt}"
    args = ["--output", str(path), "--format", fmt, "--level", level]
    for item in filters:
        args += ["--filter", item]
    out = io.StringIO()
    call_command("export_dataset", *args, stdout=out, stderr=io.StringIO(), verbosity=0)
    assert f"to {path}" in out.getvalue()
    return path.read_bytes()


@pytest.mark.parametrize("level", ["gold", "annotations"])
@pytest.mark.parametrize("fmt", ["csv", "jsonl", "claimreview"])
def test_command_writes_the_same_file_as_the_view(res_client, data, tmp_path, fmt, level):
    written = run_export(tmp_path, fmt, level, "statuses=unverified")

    viewed = body_of(download(res_client, format=fmt, level=level, statuses="unverified"))
    assert written == viewed
    if fmt != "claimreview":
        parse = parse_csv if fmt == "csv" else parse_jsonl
        rows = parse(written)
        assert rows and {r["status"] for r in rows} == {"unverified"}


def test_command_repeats_a_key_for_several_values(data, tmp_path):
    written = run_export(
        tmp_path, "csv", "annotations", "statuses=unverified", "statuses=false", "sides=Ukraine"
    )

    rows = parse_csv(written)
    expected = [
        r
        for r in expected_rows("annotations")
        if r["status"] in ("unverified", "false") and r["side"] == "Ukraine"
    ]
    assert rows == [as_csv(r) for r in expected]


def test_command_reports_the_row_count(data, tmp_path):
    out = io.StringIO()
    path = tmp_path / "x.csv"

    call_command(
        "export_dataset", "--output", str(path), "--level", "annotations", stdout=out, verbosity=0
    )

    assert out.getvalue().startswith("Wrote 14 row(s)")


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("colour=red", "unknown filter(s): colour"),
        ("statuses=no-such", "invalid filters: statuses"),
        ("date_from=yesterday", "invalid filters: date_from"),
        ("no-equals-sign", "KEY=VALUE"),
    ],
)
def test_command_refuses_bad_filters(data, tmp_path, item, message):
    with pytest.raises(CommandError, match=re.escape(message)):
        run_export(tmp_path, "csv", "gold", item)


def test_command_zip_is_a_valid_bundle(data, tmp_path):
    written = run_export(tmp_path, "zip", "annotations", "statuses=unverified")

    archive = zipfile.ZipFile(io.BytesIO(written))
    assert archive.testzip() is None
    assert archive.namelist()[:5] == BUNDLE_HEAD
    rows = parse_csv(archive.read("data.csv"))
    expected = [r for r in expected_rows("annotations") if r["status"] == "unverified"]
    assert rows == [as_csv(r) for r in expected]
    card = json.loads(archive.read("card.json"))
    assert card["counts"]["rows"] == len(rows)
    assert card["level"] == "annotations"
    assert card["filters"]["statuses"] == ["unverified"]


# --- the card's agreement figures, streamed ------------------------------------------------


def test_the_cards_agreement_streamed_by_sentence_equals_alpha_over_coders(data):
    by_coder = {"is_claim": {}, "source_id": {}, "status_id": {}}
    for row in Annotation.objects.values("annotator_id", "sentence_id", *by_coder):
        for field, labels in by_coder.items():
            labels.setdefault(row["annotator_id"], {})[row["sentence_id"]] = row[field]

    figures = dataset.agreement_figures()

    assert figures == {
        "krippendorff_alpha_is_claim": agreement.krippendorff_alpha_nominal(by_coder["is_claim"]),
        "krippendorff_alpha_source": agreement.krippendorff_alpha_nominal(by_coder["source_id"]),
        "krippendorff_alpha_status": agreement.krippendorff_alpha_nominal(by_coder["status_id"]),
        "gold_labels": 4,
    }
    assert figures["krippendorff_alpha_is_claim"] is not None


def test_no_annotations_no_agreement_figures(db):
    assert dataset.agreement_figures() is None


# --- dates and times formatted by the database ---------------------------------------------


def _rows_through_the_orm(filters) -> list[list]:
    """The export's rows as the code before read them: QuerySet.iterator() with Django's
    converters (date and datetime objects, formatted by claims.exporting in Python), then
    pseudonymised. The database-formatted export must give the same bytes."""
    queryset, columns = selectors.export_queryset(filters)
    # The expressions that format a date or time in SQL, back to the plain field.
    columns = [
        column.source_expressions[0] if isinstance(column, selectors._IsoDate) else column
        for column in columns
    ]
    pseudonymize = dataset.pseudonymizer()
    person_columns = [exporting.COLUMN_NAMES.index(n) for n in ("annotator", "reviewed_by")]
    rows = []
    for values in queryset.values_list(*columns).iterator():
        row = list(values)
        for i in person_columns:
            if isinstance(row[i], int):
                row[i] = pseudonymize(row[i])
        rows.append(row)
    return rows


@pytest.mark.parametrize("level", ["gold", "annotations"])
def test_the_database_formats_dates_and_times_as_python_did(data, level):
    # A time a microsecond before midnight of New Year's Eve: cut to the second, never
    # rounded up into the next day, month and year.
    last = datetime.datetime(2024, 12, 31, 23, 59, 59, 999_999, tzinfo=datetime.UTC)
    Annotation.objects.filter(pk=Annotation.objects.order_by("pk")[0].pk).update(updated_at=last)
    GoldLabel.objects.filter(pk=GoldLabel.objects.order_by("pk")[0].pk).update(updated_at=last)
    filters = selectors.ExportFilters(level=level)
    before = _rows_through_the_orm(filters)
    assert any(isinstance(v, datetime.datetime) and v == last for row in before for v in row)
    assert any(isinstance(row[5], datetime.date) for row in before)  # published_on

    for fmt, chunks in (("csv", exporting.csv_chunks), ("jsonl", exporting.jsonl_chunks)):
        assert "".join(dataset.data_chunks(filters, fmt)) == "".join(chunks(before))
    text = "".join(dataset.data_chunks(filters, "csv"))
    assert "2024-12-31T23:59:59Z" in text and "2025-01-01" not in text


def test_dates_and_times_reach_the_formats_as_iso_text(data):
    rows = list(
        selectors.export_rows(
            filters=selectors.ExportFilters(level="annotations"),
            pseudonymize=dataset.pseudonymizer(),
        )
    )
    published = {row[5] for row in rows}
    annotated = {row[exporting.COLUMN_NAMES.index("annotated_at")] for row in rows}
    assert published and all(re.fullmatch(r"\d{4}-\d\d-\d\d", v) for v in published)
    assert annotated and all(
        re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", v) for v in annotated
    )
