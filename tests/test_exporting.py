"""Dataset export formats: formula-safe CSV, exact JSONL, pseudonyms, ClaimReview, card, ZIP."""

import ast
import csv
import datetime as dt
import io
import json
import random
import zipfile
from pathlib import Path

import pytest

from claims import exporting
from claims.exporting import (
    COLUMN_NAMES,
    COLUMNS,
    TEXT_COLUMNS,
    Pseudonymizer,
    claim_review,
    csv_chunks,
    csv_safe,
    dataset_card,
    jsonl_chunks,
    pseudonym,
    row_from_mapping,
    taxonomy_csv,
    write_bundle,
)

SECRET = b"installation-secret"
REVIEWED = dt.datetime(2024, 3, 6, 16, 40, 0, 123456, tzinfo=dt.UTC)
TRICKY = 'Він сказав: "так, ні",\r\nŁódź 🚀 Київ\nend'


def base() -> dict:
    return {
        "article_id": 7,
        "external_id": "rb-1",
        "title": "Port hit",
        "outlet": "Reuters",
        "url": "https://example.com/a",
        "published_on": dt.date(2024, 3, 2),
        "sentence_id": 91,
        "sentence_position": 3,
        "sentence_start": 120,
        "sentence_end": 154,
        "sentence_text": "Officials said two ships were hit.",
        "is_claim": True,
        "claim_position": 0,
        "content_sentence_ids": "91",
        "content_start": 135,
        "content_end": 153,
        "content_text": "two ships were hit",
        "cue_start": 130,
        "cue_end": 134,
        "cue_text": "said",
        "mention_start": 120,
        "mention_end": 129,
        "mention_text": "Officials",
        "source": "Ministry of Defence",
        "source_kind": "military",
        "side": "Russia",
        "attribution_type": "paraphrase",
        "status": "unverified",
        "note": "",
        "evidence_url": "",
        "label_note": "Settled by the wire copy.",
        "label_evidence_url": "",
        "annotator": "gold",
        "annotated_at": None,
        "gold_origin": "accepted",
        "reviewed_by": "a-0123456789ab",
        "reviewed_at": REVIEWED,
    }


def row(**changes) -> tuple:
    return row_from_mapping(base() | changes)


def read_csv(chunks) -> list[list[str]]:
    text = "".join(chunks)
    return list(csv.reader(io.StringIO(text, newline="")))


def read_jsonl(chunks) -> list[dict]:
    text = "".join(chunks)
    assert text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]


def test_columns_are_described_and_unique():
    assert len(set(COLUMN_NAMES)) == len(COLUMNS) == 37
    assert COLUMN_NAMES[0] == "article_id" and COLUMN_NAMES[-1] == "reviewed_at"
    assert all(c.description and c.example for c in COLUMNS)
    assert {"title", "sentence_text", "content_text", "cue_text", "source", "url"} <= TEXT_COLUMNS
    assert not {"sentence_start", "content_start", "is_claim", "reviewed_at"} & TEXT_COLUMNS


# --- CSV injection -------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", ["=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff20"])
def test_formula_prefix_is_neutralised_in_csv_and_kept_in_jsonl(prefix):
    formula = prefix + 'HYPERLINK("http://evil.example","x")'
    values = {name: formula for name in TEXT_COLUMNS}
    [header, cells] = read_csv(csv_chunks([row(**values)]))
    got = dict(zip(header, cells, strict=True))
    for name in TEXT_COLUMNS:
        assert got[name] == "'" + formula
    [obj] = read_jsonl(jsonl_chunks([row(**values)]))
    for name in TEXT_COLUMNS:
        assert obj[name] == formula


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("-5", "'-5"),
        ("", ""),
        ("Київ = capital", "Київ = capital"),
        ("a=b", "a=b"),
        ("'quoted", "'quoted"),
    ],
)
def test_csv_safe(value, expected):
    assert csv_safe(value) == expected


def test_numbers_are_not_sanitised():
    [_, cells] = read_csv(csv_chunks([row(sentence_start=0, content_start=0, article_id=1)]))
    got = dict(zip(COLUMN_NAMES, cells, strict=True))
    assert (got["sentence_start"], got["content_start"], got["article_id"]) == ("0", "0", "1")


# --- CSV format ----------------------------------------------------------------------------


def test_csv_round_trip_of_tricky_text():
    values = {"content_text": TRICKY, "title": "Łódź, 'a' \"b\"", "source": "😀, ok"}
    [header, cells] = read_csv(csv_chunks([row(**values)]))
    assert header == list(COLUMN_NAMES)
    got = dict(zip(header, cells, strict=True))
    assert got["content_text"] == TRICKY
    assert got["title"] == "Łódź, 'a' \"b\""
    assert got["source"] == "😀, ok"


def test_csv_header_crlf_and_formatting():
    rows = [
        row(),
        row(is_claim=False, content_start=None, content_end=None, content_text=None),
        row(is_claim=None, published_on=None, reviewed_at=None, external_id=None),
    ]
    text = "".join(csv_chunks(rows))
    assert text.startswith(",".join(COLUMN_NAMES) + "\r\n")
    assert text.count("\r\n") == 4 and text.endswith("\r\n")
    assert "\n" not in text.replace("\r\n", "")
    header, first, second, third = read_csv([text])
    first, second, third = (dict(zip(header, r, strict=True)) for r in (first, second, third))
    assert first["is_claim"] == "true" and second["is_claim"] == "false"
    assert third["is_claim"] == ""
    assert first["published_on"] == "2024-03-02"
    assert first["reviewed_at"] == "2024-03-06T16:40:00Z"
    assert first["annotator"] == "gold" and first["annotated_at"] == ""
    assert second["content_start"] == second["content_text"] == ""
    assert third["published_on"] == third["reviewed_at"] == third["external_id"] == ""


def test_csv_without_header_and_chunking():
    rows = [row(sentence_id=i) for i in range(2500)]
    chunks = list(csv_chunks(rows, header=False, rows_per_chunk=1000))
    assert len(chunks) == 3
    parsed = read_csv(chunks)
    assert len(parsed) == 2500
    assert [int(r[6]) for r in parsed] == list(range(2500))


def test_datetimes_are_converted_to_utc():
    kyiv = dt.timezone(dt.timedelta(hours=2))
    local = dt.datetime(2024, 3, 6, 18, 40, 0, tzinfo=kyiv)
    naive = dt.datetime(2024, 3, 6, 16, 40, 0)
    for value in (local, naive):
        [_, cells] = read_csv(csv_chunks([row(reviewed_at=value)]))
        assert cells[-1] == "2024-03-06T16:40:00Z"
        [obj] = read_jsonl(jsonl_chunks([row(reviewed_at=value)]))
        assert obj["reviewed_at"] == "2024-03-06T16:40:00Z"


def test_preformatted_strings_pass_through():
    [_, cells] = read_csv(csv_chunks([row(published_on="2024-03-02", reviewed_at="2024-x")]))
    assert (cells[5], cells[-1]) == ("2024-03-02", "2024-x")


def test_chunks_stream_from_a_generator():
    # Rows come from a generator and chunks are consumed one at a time: nothing is listed.
    produced = 0

    def rows():
        nonlocal produced
        for i in range(100_000):
            produced += 1
            yield row(sentence_id=i)

    stream = csv_chunks(rows(), rows_per_chunk=1000)
    first = next(stream)
    assert produced == 1000 and first.count("\r\n") == 1001
    assert sum(chunk.count("\r\n") for chunk in stream) == 99_000
    stream = jsonl_chunks(rows(), rows_per_chunk=1000)
    next(stream)
    assert produced == 101_000


# --- JSONL ---------------------------------------------------------------------------------


def test_jsonl_round_trip_exact_values_in_column_order():
    rows = [
        row(sentence_text=TRICKY, title="=SUM(A1)"),
        row(is_claim=None, status=None, published_on=None, reviewed_at=None),
    ]
    text = "".join(jsonl_chunks(rows))
    assert "Київ" in text and "\\u" not in text  # ensure_ascii=False
    first, second = read_jsonl([text])
    assert list(first) == list(COLUMN_NAMES)
    expected = base() | {
        "sentence_text": TRICKY,
        "title": "=SUM(A1)",
        "published_on": "2024-03-02",
        "reviewed_at": "2024-03-06T16:40:00Z",
    }
    assert first == expected
    assert first["is_claim"] is True and first["sentence_start"] == 120
    assert second["is_claim"] is None and second["status"] is None
    assert second["published_on"] is None and second["reviewed_at"] is None


@pytest.mark.parametrize("chunks", [csv_chunks, jsonl_chunks])
def test_rows_of_the_wrong_length_are_refused(chunks):
    with pytest.raises(ValueError):
        list(chunks([row()[:-1]]))


# --- Pseudonyms ----------------------------------------------------------------------------


def test_pseudonym_is_stable_keyed_and_anonymous():
    name = pseudonym("olena.kovalenko", SECRET)
    assert name == pseudonym("olena.kovalenko", SECRET)
    assert name.startswith("a-") and len(name) == 14
    int(name[2:], 16)
    assert "olena" not in name and "kovalenko" not in name
    assert name != pseudonym("olena.kovalenko", b"other-secret")
    assert name != pseudonym("taras", SECRET)
    assert pseudonym(42, SECRET) == pseudonym("42", SECRET)
    with pytest.raises(ValueError):
        pseudonym(1, b"")


def test_pseudonymizer_memoises_and_maps_none_to_empty():
    p = Pseudonymizer(SECRET)
    assert p(None) == ""
    assert p(5) == pseudonym(5, SECRET) == p(5)
    assert p(5) is p(5)
    assert Pseudonymizer(b"other")(5) != p(5)


# --- ClaimReview ---------------------------------------------------------------------------


def test_claim_review_has_google_required_and_recommended_fields():
    review = claim_review(
        base(),
        publisher="claimdesk team",
        status_label="Unverified",
        review_url="https://claimdesk.example/s/91",
    )
    assert review["@context"] == "https://schema.org"
    assert review["@type"] == "ClaimReview"
    assert review["url"] == "https://claimdesk.example/s/91"
    assert review["claimReviewed"] == "two ships were hit"
    assert review["reviewRating"] == {"@type": "Rating", "alternateName": "Unverified"}
    assert review["author"] == {"@type": "Organization", "name": "claimdesk team"}
    assert review["datePublished"] == "2024-03-06"
    claim = review["itemReviewed"]
    assert claim["@type"] == "Claim"
    assert claim["author"] == {"@type": "Organization", "name": "Ministry of Defence"}
    assert claim["datePublished"] == "2024-03-02"
    assert claim["appearance"] == {
        "@type": "NewsArticle",
        "url": "https://example.com/a",
        "headline": "Port hit",
        "datePublished": "2024-03-02",
        "publisher": {"@type": "Organization", "name": "Reuters"},
    }
    json.dumps(review)  # plain JSON values only


def test_claim_review_person_sentence_fallback_and_defaults():
    review = claim_review(
        base() | {"source_kind": "individual", "content_text": None, "reviewed_at": None},
        publisher="P",
    )
    assert review["itemReviewed"]["author"]["@type"] == "Person"
    assert review["claimReviewed"] == "Officials said two ships were hit."
    assert review["url"] == "https://example.com/a"
    assert review["reviewRating"]["alternateName"] == "unverified"
    assert "datePublished" not in review


@pytest.mark.parametrize("changes", [{"is_claim": False}, {"status": None}, {"url": ""}])
def test_claim_review_refuses_non_claims(changes):
    with pytest.raises(ValueError):
        claim_review(base() | changes, publisher="P")


# --- Dataset card --------------------------------------------------------------------------

STATUSES = [
    {"code": "confirmed", "label": "Confirmed", "guideline": "Independent evidence agrees."},
    {"code": "unverified", "label": "Unverified", "guideline": "No evidence\neither way."},
]


def make_card(agreement=None):
    return dataset_card(
        filters={"outlet": "Reuters", "published": [dt.date(2024, 1, 1), dt.date(2024, 3, 31)]},
        counts={
            "rows": 1234,
            "claims": 400,
            "by_status": {"unverified": 300, "confirmed": 100},
            "by_source": {"Ministry | MoD": 250, "": 150},
            "by_source_kind": {"military": 250},
        },
        agreement=agreement,
        statuses=STATUSES,
        exported_at=dt.datetime(2024, 4, 1, 12, 0, 5, tzinfo=dt.UTC),
        app_version="0.1.0",
        level="gold",
        fmt="csv",
    )


def test_dataset_card_markdown_and_json():
    md, card = make_card(agreement={"krippendorff_alpha_status": 0.71, "units": 120})
    assert card["level"] == "gold" and card["format"] == "csv"
    assert card["data_file"] == "data.csv"
    assert card["exported_at"] == "2024-04-01T12:00:05Z"
    assert card["app_version"] == "0.1.0"
    assert card["filters"] == {"outlet": "Reuters", "published": ["2024-01-01", "2024-03-31"]}
    assert card["counts"]["rows"] == 1234
    assert card["counts"]["by_status"] == {"unverified": 300, "confirmed": 100}
    assert card["agreement"]["krippendorff_alpha_status"] == 0.71
    assert [s["code"] for s in card["statuses"]] == ["confirmed", "unverified"]
    assert [c["name"] for c in card["columns"]] == list(COLUMN_NAMES)
    assert "LICENCE" in card["licence"]
    json.dumps(card)

    assert md.startswith("# claimdesk dataset: gold level (CSV)")
    assert "- rows: 1234" in md and "- claims: 400" in md
    assert "| unverified | 300 |" in md and "| confirmed | 100 |" in md
    assert md.index("| unverified | 300 |") < md.index("| confirmed | 100 |")
    assert "| Ministry \\| MoD | 250 |" in md and "| (none) | 150 |" in md
    assert "| military | 250 |" in md
    assert "krippendorff_alpha_status: 0.71" in md
    assert "`unverified` (Unverified): No evidence either way." in md
    assert "- outlet: Reuters" in md and "2024-01-01, 2024-03-31" in md
    for column in COLUMNS:
        assert f"| `{column.name}` | {column.type} |" in md
    assert "2024-04-01T12:00:05Z" in md and "0.1.0" in md
    assert "Licence and usage" in md


def test_dataset_card_without_agreement_and_bad_arguments():
    md, card = make_card()
    assert card["agreement"] is None
    assert "not computed" in md
    with pytest.raises(ValueError):
        dataset_card(
            filters={},
            counts={},
            agreement=None,
            statuses=[],
            exported_at=REVIEWED,
            app_version="x",
            level="everything",
            fmt="csv",
        )


# --- Taxonomy ------------------------------------------------------------------------------


def test_taxonomy_csv_joins_aliases_and_sanitises():
    text = taxonomy_csv(
        [
            {
                "name": "Ministry of Defence of Russia",
                "kind": "military",
                "side": "Russia",
                "status": "active",
                "aliases": ["Russian MoD", "Минобороны"],
                "description": 'Official, "daily" briefings.\nAlso Telegram.',
            },
            {"name": "=cmd|' /C calc'!A0", "kind": "unknown", "aliases": []},
        ]
    )
    assert text.endswith("\r\n")
    header, first, second = read_csv([text])
    assert header == ["name", "kind", "side", "status", "aliases", "description"]
    assert first[4] == "Russian MoD; Минобороны"
    assert first[5] == 'Official, "daily" briefings.\nAlso Telegram.'
    assert second == ["'=cmd|' /C calc'!A0", "unknown", "", "", "", ""]


# --- ZIP bundle ----------------------------------------------------------------------------


@pytest.mark.parametrize(("fmt", "chunks"), [("csv", csv_chunks), ("jsonl", jsonl_chunks)])
def test_bundle_holds_four_members(fmt, chunks):
    rows = [row(sentence_id=i, sentence_text=f"=sentence {i} Київ") for i in range(2500)]
    md, card = make_card()
    taxonomy = taxonomy_csv([{"name": "UN", "kind": "international", "aliases": ["OON"]}])
    out = io.BytesIO()
    write_bundle(
        out,
        data_name=f"data.{fmt}",
        data_chunks=chunks(rows),
        card_md=md,
        card_json=card,
        taxonomy_csv=taxonomy,
    )
    with zipfile.ZipFile(io.BytesIO(out.getvalue())) as archive:
        assert archive.namelist() == [f"data.{fmt}", "README.md", "card.json", "taxonomy.csv"]
        assert all(i.compress_type == zipfile.ZIP_DEFLATED for i in archive.infolist())
        assert archive.testzip() is None
        data = archive.read(f"data.{fmt}").decode()
        assert data == "".join(chunks(rows))
        assert archive.read("README.md").decode() == md
        assert json.loads(archive.read("card.json")) == card
        assert archive.read("taxonomy.csv").decode() == taxonomy


class Unseekable(io.RawIOBase):
    def __init__(self):
        self.buffer = bytearray()

    def writable(self):
        return True

    def write(self, data):
        self.buffer += data
        return len(data)


def test_bundle_to_unseekable_stream_with_late_card():
    counted = {"rows": 0}

    def rows():
        for i in range(10):
            counted["rows"] += 1
            yield row(sentence_id=i)

    out = Unseekable()
    write_bundle(
        out,
        data_name="data.jsonl",
        data_chunks=jsonl_chunks(rows()),
        card_md=lambda: f"rows: {counted['rows']}",
        card_json=lambda: {"counts": dict(counted)},
        taxonomy_csv="name\r\n",
    )
    with zipfile.ZipFile(io.BytesIO(bytes(out.buffer))) as archive:
        assert archive.read("README.md") == b"rows: 10"
        assert json.loads(archive.read("card.json")) == {"counts": {"rows": 10}}
        assert len(archive.read("data.jsonl").decode().splitlines()) == 10


def test_bundle_rejects_unknown_data_name():
    with pytest.raises(ValueError):
        write_bundle(
            io.BytesIO(),
            data_name="data.xlsx",
            data_chunks=[],
            card_md="",
            card_json={},
            taxonomy_csv="",
        )


def test_schema_doc_lists_every_column_in_order():
    doc = (Path(exporting.__file__).parent.parent / "docs" / "dataset-schema.md").read_text(
        encoding="utf-8"
    )
    rows = [line for line in doc.splitlines() if line.startswith("| `")]
    documented = [line.split("`")[1] for line in rows if line.split("`")[1] in COLUMN_NAMES]
    assert documented[: len(COLUMNS)] == list(COLUMN_NAMES)
    for column in COLUMNS:
        assert f"| `{column.name}` | {column.type} |" in doc


def test_module_has_no_django_imports():
    tree = ast.parse(Path(exporting.__file__).read_text(encoding="utf-8"))
    modules = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    modules |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not any(m.split(".")[0] == "django" for m in modules)


def test_csv_lines_are_byte_for_byte_what_csv_writer_writes():
    rng = random.Random(7)
    pieces = [
        "plain",
        "comma, here",
        'a "quote"',
        "line\nbreak",
        "cr\rhere",
        "crlf\r\n",
        "",
        " padded ",
        "Київ",
        "emoji 🙂",
        "tab\there",
        "'quoted'",
        ",",
        '"',
    ]
    rows = []
    for _ in range(300):
        row = []
        for column in COLUMNS:
            if column.type == "string":
                row.append(rng.choice([None, *pieces]) if rng.random() < 0.9 else "=1+1")
            elif column.type == "integer":
                row.append(rng.choice([None, 0, 7, 123456789]))
            elif column.type == "boolean":
                row.append(rng.choice([None, True, False]))
            else:
                row.append(None)
        rows.append(row)

    ours = "".join(csv_chunks(rows, rows_per_chunk=7))

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([c.name for c in COLUMNS])
    for row in rows:
        cells = []
        for value in row:
            if isinstance(value, bool):
                value = "true" if value else "false"
            elif isinstance(value, str):
                value = csv_safe(value)
            cells.append(value)
        writer.writerow(cells)
    assert ours == buffer.getvalue()


def test_bundle_members_follow_in_order_streamed_or_whole():
    produced = []

    def chunks():
        for i in range(3):
            produced.append(i)
            yield f"line {i}\n"

    def members():
        yield "attributions.jsonl", chunks()
        assert produced == [0, 1, 2]  # the previous member was written before this one is asked
        yield "brat/annotation.conf", "[entities]\n"

    md, card = make_card()
    out = io.BytesIO()
    write_bundle(
        out,
        data_name="data.csv",
        data_chunks=csv_chunks([row()]),
        card_md=md,
        card_json=card,
        taxonomy_csv="name\r\n",
        members=members(),
    )
    with zipfile.ZipFile(io.BytesIO(out.getvalue())) as archive:
        assert archive.namelist() == [
            "data.csv",
            "README.md",
            "card.json",
            "taxonomy.csv",
            "attributions.jsonl",
            "brat/annotation.conf",
        ]
        assert archive.read("attributions.jsonl") == b"line 0\nline 1\nline 2\n"
        assert archive.read("brat/annotation.conf") == b"[entities]\n"


def test_attribution_record_from_a_row():
    record = exporting.attribution_record(row(content_sentence_ids="91 92", note="n"))

    assert record == {
        "article_id": 7,
        "sentence_id": 91,
        "sentence_ids": [91, 92],
        "annotator": "gold",
        "claim_position": 0,
        "source": {"start": 120, "end": 129, "text": "Officials"},
        "cue": {"start": 130, "end": 134, "text": "said"},
        "content": {"start": 135, "end": 153, "text": "two ships were hit"},
        "resolved_source": {"name": "Ministry of Defence", "kind": "military", "side": "Russia"},
        "attribution_type": "paraphrase",
        "status": "unverified",
        "note": "n",
        "evidence_url": "",
    }
    not_a_claim = row(is_claim=False, claim_position=None, content_start=None, status=None)
    assert exporting.attribution_record(not_a_claim) is None
    lines = "".join(exporting.attributions_jsonl_chunks([row(), not_a_claim, row()])).split("\n")
    assert len(lines) == 3 and lines[-1] == ""
    unattributed = exporting.attribution_record(
        row(source=None, cue_start=None, mention_start=None)
    )
    assert unattributed["resolved_source"] is None
    assert unattributed["cue"] is None and unattributed["source"] is None
