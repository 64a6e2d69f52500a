"""The bundle's structure formats: brat standoff (written, then read back) and PARC-style JSONL.

The round trip exports a ZIP bundle, reads every .ann back with `exporting.read_brat_ann`,
and checks that each T line's offsets give exactly its text in the .txt, and that every claim
of the database (content, cue, mention; source, status, type) is there.
"""

import io
import json
import zipfile

import pytest
from django.urls import reverse

from claims import dataset, exporting
from claims.exporting import (
    BratClaim,
    brat_ann,
    brat_annotation_conf,
    brat_fragments,
    read_brat_ann,
)
from claims.models import Annotation, Article, Claim, GoldLabel
from tests.conftest import make_user
from tests.factories_export import build_dataset

DOWNLOAD_URL = reverse("claims:export_download")

# --- pure functions ----------------------------------------------------------------------------

TEXT = 'Kyiv said: "Two drones\nwere downed.\r\n\nNo damage," the mayor wrote.'


def test_fragments_split_at_every_line_break_and_drop_empty_runs():
    start, end = TEXT.index('"Two'), TEXT.index(" the mayor")
    fragments = brat_fragments(TEXT, start, end)

    assert [TEXT[s:e] for s, e in fragments] == ['"Two drones', "were downed.", 'No damage,"']
    assert brat_fragments(TEXT, 0, 4) == [(0, 4)]
    assert brat_fragments("a\u2028b\x85c", 0, 5) == [(0, 1), (2, 3), (4, 5)]
    assert brat_fragments("\n\n", 0, 2) == []


def test_ann_lines_spell_out_the_standoff():
    said, mayor = TEXT.index("said"), TEXT.index("the mayor")
    content = (TEXT.index('"Two'), TEXT.index(" the mayor"))
    claims = [
        BratClaim(
            content=content,
            cue=(said, said + 4),
            mention=(0, 4),
            source="Kyiv City Military Administration",
            status="unverified",
            attribution_type="direct_quote",
            note="Two lines\nof note",
            evidence_url="https://example.org/e",
        ),
        # A second claim with the same cue and mention: they are written once.
        BratClaim(
            content=(mayor, mayor + 9), cue=(said, said + 4), mention=(0, 4), status="false"
        ),
    ]

    ann = brat_ann(TEXT, claims)

    s, e = content
    assert ann.splitlines() == [
        f"T1\tContent {s} {s + 11};{s + 12} {s + 24};{s + 27} {e}\t"
        '"Two drones were downed. No damage,"',
        f"T2\tCue {said} {said + 4}\tsaid",
        "T3\tSource 0 4\tKyiv",
        f"T4\tContent {mayor} {mayor + 9}\tthe mayor",
        "R1\tCueOf Arg1:T2 Arg2:T1",
        "R2\tSourceOf Arg1:T3 Arg2:T1",
        "A1\tStatus T1 unverified",
        "A2\tAttributionType T1 direct_quote",
        "#1\tAnnotatorNotes T1\tsource: Kyiv City Military Administration",
        "#2\tAnnotatorNotes T1\tnote: Two lines of note",
        "#3\tAnnotatorNotes T1\tevidence: https://example.org/e",
        "R3\tCueOf Arg1:T2 Arg2:T4",
        "R4\tSourceOf Arg1:T3 Arg2:T4",
        "A3\tStatus T4 false",
        "#4\tAnnotatorNotes T4\tsource: unattributed",
    ]
    assert ann.endswith("\n")
    read = read_brat_ann(ann)
    assert read["T"]["T1"].type == "Content"
    assert len(read["T"]["T1"].fragments) == 3
    assert read["R"]["R2"] == ("SourceOf", "T3", "T1")
    assert read["A"]["A2"] == ("AttributionType", "T1", "direct_quote")
    assert read["#"][0] == ("T1", "source: Kyiv City Military Administration")


def test_a_span_of_line_breaks_only_is_left_out():
    ann = brat_ann("a\n\nb", [BratClaim(content=(1, 3), status="x"), BratClaim((0, 1), "y")])

    assert read_brat_ann(ann)["T"] == {"T1": exporting.BratSpan("Content", ((0, 1),), "a")}


def test_empty_ann_and_unreadable_lines():
    assert brat_ann("text", []) == ""
    assert read_brat_ann("") == {"T": {}, "R": {}, "A": {}, "#": []}
    with pytest.raises(ValueError, match="line 1"):
        read_brat_ann("T1\tContent x y\tz\n")
    with pytest.raises(ValueError, match="unknown"):
        read_brat_ann("E1\tEvent:T1\n")


def test_annotation_conf_declares_what_the_ann_files_use():
    conf = brat_annotation_conf(["verified", "unverified", "false"])
    sections = {}
    current = None
    for line in conf.splitlines():
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line.strip("[]"), [])
        elif line and not line.startswith("#") and current is not None:
            current.append(line)

    assert list(sections) == ["entities", "relations", "events", "attributes"]
    assert sections["entities"] == ["Content", "Cue", "Source"]
    assert "SourceOf\tArg1:Source, Arg2:Content" in sections["relations"]
    assert "CueOf\tArg1:Cue, Arg2:Content" in sections["relations"]
    assert "Status\tArg:Content, Value:verified|unverified|false" in sections["attributes"]
    assert (
        "AttributionType\tArg:Content, Value:direct_quote|paraphrase|unnamed|none"
        in sections["attributes"]
    )


# --- the bundle, end to end --------------------------------------------------------------------


@pytest.fixture
def data(db):
    return build_dataset()


@pytest.fixture
def res_client(client, db):
    client.force_login(make_user("res", "researcher"))
    return client


def bundle(client, **params) -> zipfile.ZipFile:
    response = client.get(DOWNLOAD_URL, {"format": "zip", **params})
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert archive.testzip() is None
    return archive


def labels_by_who(level: str) -> dict[str, list]:
    """Every label of the level, by brat folder name ("gold" or the annotator's pseudonym)."""
    if level == "gold":
        return {"gold": list(GoldLabel.objects.select_related("sentence"))}
    p = dataset.pseudonymizer()
    out: dict[str, list] = {}
    for annotation in Annotation.objects.select_related("sentence"):
        out.setdefault(p(annotation.annotator_id), []).append(annotation)
    return out


def read_back(archive: zipfile.ZipFile, who: str, article: Article) -> tuple[str, dict]:
    text = archive.read(f"brat/{who}/{article.pk}.txt").decode("utf-8")
    return text, read_brat_ann(archive.read(f"brat/{who}/{article.pk}.ann").decode("utf-8"))


@pytest.mark.django_db
@pytest.mark.parametrize("level", ["gold", "annotations"])
def test_brat_round_trip_finds_every_span_where_it_was_marked(res_client, data, level):
    archive = bundle(res_client, level=level)
    names = archive.namelist()
    assert "brat/annotation.conf" in names
    ann_files = [n for n in names if n.endswith(".ann")]
    assert ann_files and all(n.removesuffix(".ann") + ".txt" in names for n in ann_files)

    # 1. Every T line's fragments give back exactly its text, in the .txt = the body.
    for name in ann_files:
        who, article_id = name.removeprefix("brat/").removesuffix(".ann").split("/")
        article = Article.objects.get(pk=int(article_id))
        text, ann = read_back(archive, who, article)
        assert text == article.body
        for span in ann["T"].values():
            assert span.text == " ".join(text[s:e] for s, e in span.fragments)
            assert all("\n" not in text[s:e] for s, e in span.fragments)
        for kind, arg1, arg2 in ann["R"].values():
            assert (ann["T"][arg1].type, ann["T"][arg2].type) == {
                "CueOf": ("Cue", "Content"),
                "SourceOf": ("Source", "Content"),
            }[kind]

    # 2. Every claim of the database is there: its spans, relations and labels.
    found = 0
    for who, labels in labels_by_who(level).items():
        for label in labels:
            article = label.sentence.article
            text, ann = read_back(archive, who, article)
            by_fragments = {(t.type, t.fragments): tid for tid, t in ann["T"].items()}
            for claim in Claim.objects.filter(
                **{"gold" if level == "gold" else "annotation": label}
            ):
                content = by_fragments[
                    "Content", tuple(brat_fragments(text, claim.content_start, claim.content_end))
                ]
                relations = {(k, a1) for k, a1, a2 in ann["R"].values() if a2 == content}
                for kind, relation, start, end in (
                    ("Cue", "CueOf", claim.cue_start, claim.cue_end),
                    ("Source", "SourceOf", claim.mention_start, claim.mention_end),
                ):
                    if start is None:
                        assert relation not in {k for k, _ in relations}
                        continue
                    tid = by_fragments[kind, tuple(brat_fragments(text, start, end))]
                    assert (relation, tid) in relations
                    assert ann["T"][tid].text == text[start:end].replace("\n", " ")
                attributes = {(n, v) for n, t, v in ann["A"].values() if t == content}
                assert ("Status", claim.status.code) in attributes
                if claim.attribution_type:
                    assert ("AttributionType", claim.attribution_type) in attributes
                notes = [note for target, note in ann["#"] if target == content]
                source = claim.source.name if claim.source else "unattributed"
                assert f"source: {source}" in notes
                found += 1
    assert found == (4 if level == "gold" else 11)
    # No more Content spans than claims: nothing invented.
    contents = sum(
        1
        for name in ann_files
        for span in read_brat_ann(archive.read(name).decode())["T"].values()
        if span.type == "Content"
    )
    assert contents == found


@pytest.mark.django_db
def test_a_quote_over_a_line_break_is_written_as_two_fragments(res_client, data):
    archive = bundle(res_client, level="gold")
    text, ann = read_back(archive, "gold", data.articles[0])

    quote = [
        t for t in ann["T"].values() if t.text == "The enemy retreated. Our losses are minimal,"
    ]
    assert len(quote) == 1
    [(s1, e1), (s2, e2)] = quote[0].fragments
    assert text[s1:e1] == "The enemy retreated." and text[s2:e2] == "Our losses are minimal,"
    assert text[e1:s2] == "\n"


@pytest.mark.django_db
def test_every_label_set_gets_its_files_even_without_claims(res_client, data):
    names = bundle(res_client, level="annotations").namelist()
    p = dataset.pseudonymizer()
    a, b = data.articles

    for user in data.annotators:
        for article in (a, b):
            assert f"brat/{p(user.pk)}/{article.pk}.ann" in names
    assert not any(n.startswith("brat/gold/") for n in names)
    gold = bundle(res_client, level="gold").namelist()
    assert f"brat/gold/{b.pk}.ann" in gold and f"brat/gold/{b.pk}.txt" in gold


@pytest.mark.django_db
def test_brat_follows_the_filters(res_client, data):
    a, b = data.articles
    names = bundle(res_client, level="gold", articles=[b.pk]).namelist()

    assert f"brat/gold/{b.pk}.ann" in names
    assert not any(n.startswith(f"brat/gold/{a.pk}.") for n in names)


@pytest.mark.django_db
@pytest.mark.parametrize("level", ["gold", "annotations"])
def test_attributions_jsonl_has_one_line_per_claim(res_client, data, level):
    archive = bundle(res_client, level=level)
    lines = archive.read("attributions.jsonl").decode("utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    data_rows = [
        json.loads(line)
        for line in b"".join(
            res_client.get(DOWNLOAD_URL, {"format": "jsonl", "level": level}).streaming_content
        )
        .decode()
        .splitlines()
    ]
    claims = [r for r in data_rows if r["claim_position"] is not None]

    assert len(records) == len(claims) == (4 if level == "gold" else 11)
    for record, row in zip(records, claims, strict=True):
        body = Article.objects.get(pk=record["article_id"]).body
        assert list(record) == [
            "article_id",
            "sentence_id",
            "sentence_ids",
            "annotator",
            "claim_position",
            "source",
            "cue",
            "content",
            "resolved_source",
            "attribution_type",
            "status",
            "note",
            "evidence_url",
        ]
        for role, column in (("source", "mention"), ("cue", "cue"), ("content", "content")):
            span = record[role]
            if row[f"{column}_start"] is None:
                assert span is None
            else:
                assert body[span["start"] : span["end"]] == span["text"] == row[f"{column}_text"]
        assert record["sentence_ids"] == [int(x) for x in row["content_sentence_ids"].split()]
        assert record["status"] == row["status"] and record["annotator"] == row["annotator"]
        if row["source"]:
            assert record["resolved_source"] == {
                "name": row["source"],
                "kind": row["source_kind"],
                "side": row["side"],
            }
        else:
            assert record["resolved_source"] is None
    over_two = [r for r in records if len(r["sentence_ids"]) == 2]
    assert over_two and all("\n" in r["content"]["text"] for r in over_two)


@pytest.mark.django_db
def test_gold_bundle_holds_claim_review_annotations_bundle_does_not(res_client, data):
    gold = bundle(res_client, level="gold")
    annotations = bundle(res_client, level="annotations")

    reviews = json.loads(gold.read("claimreview.jsonld"))
    assert [r["claimReviewed"] for r in reviews] == [
        '"repelled 3 attacks"',
        "near Kupiansk, Київ region",
        "The enemy retreated.\nOur losses are minimal,",
        'two ships were hit, "both badly"',
    ]
    assert "claimreview.jsonld" not in annotations.namelist()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_bundle_reads_one_snapshot_on_postgresql():
    """Its passes (data, attributions, brat, ClaimReview) read the database of one moment."""
    from django.db import connection

    from claims import selectors

    if connection.vendor != "postgresql":
        pytest.skip("SQLite changes by whole transactions; no snapshot is taken there")
    with selectors.bundle_snapshot(), connection.cursor() as cursor:
        cursor.execute("SHOW transaction_isolation")
        isolation = cursor.fetchone()[0]
        cursor.execute("SHOW transaction_read_only")
        read_only = cursor.fetchone()[0]
    assert (isolation, read_only) == ("repeatable read", "on")
