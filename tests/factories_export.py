"""Builders for the export tests: a small labelled dataset and the rows it should export.

The expected rows are computed here from model instances, independently of
`claims.selectors.export_rows`, so that the tests compare the download with the database and
not the implementation with itself.
"""

import csv
import datetime
import io
import json
from dataclasses import dataclass, field

from django.contrib.auth.models import Group, User

from claims import dataset, exporting, services
from claims.importing import ArticleRecord, body_checksum
from claims.models import Annotation, Article, GoldLabel, Sentence, Source, VerificationStatus

# Users get ids and names that cannot occur anywhere else in an export, so a test can look for
# them in the whole file.
ANNOTATOR_IDS = (987_650_001, 987_650_002)
EDITOR_ID = 987_650_009

ARTICLE_A_BODY = (
    'The Russian Ministry of Defence said its forces "repelled 3 attacks", near Київ.\n'
    "Ukraine's army denied it.\n"
    "It was not possible to verify the claims. Witnesses said smoke rose over the port."
)
ARTICLE_B_BODY = (
    'Officials said two ships were hit, "both badly". '
    "A spokesman for the army said the strike failed. Nothing else happened."
)


def make_person(username: str, role: str, pk: int) -> User:
    user = User.objects.create_user(id=pk, username=username, password=f"{username}-pw")
    user.groups.add(Group.objects.get(name=role))
    return user


def status(code: str) -> VerificationStatus:
    return VerificationStatus.objects.get(code=code)


def label(
    *,
    is_claim: bool = True,
    source: Source | None = None,
    attribution: str = "paraphrase",
    status_code: str | None = "unverified",
    span: tuple[int, int] | None = None,
    note: str = "",
) -> dict:
    if not is_claim:
        return {"is_claim": False, "note": note}
    return {
        "is_claim": True,
        "source_id": source.pk if source else None,
        "attribution_type": attribution,
        "status_id": status(status_code).pk,
        "span_start": span[0] if span else None,
        "span_end": span[1] if span else None,
        "note": note,
        "evidence_url": "",
    }


def annotate(sentence: Sentence, user: User, values: dict) -> Annotation:
    return services.annotation_save(
        sentence=sentence, annotator=user, label=values, expected_version=0
    )


def span_of(sentence: Sentence, words: str) -> tuple[int, int]:
    start = sentence.text.index(words)
    return start, start + len(words)


@dataclass
class Dataset:
    articles: list[Article]
    sentences: dict[str, Sentence]  # "A0", "A1", … "B2": article letter + position
    annotators: list[User]
    editor: User
    sources: dict[str, Source]
    annotations: dict[tuple[str, int], Annotation] = field(default_factory=dict)
    gold: dict[str, GoldLabel] = field(default_factory=dict)


def build_dataset() -> Dataset:
    """Two articles (7 sentences), two annotators who disagree, gold on four sentences.

    A0: ann. 1 claim (MoD, unverified, span, note), ann. 2 claim (MoD, disputed); gold
        accepts ann. 1.
    A1: ann. 1 claim (army, disputed), ann. 2 no claim; gold corrected (army, false, unnamed).
    A2: both no claim; gold accepts ann. 2.
    A3: ann. 1 claim (witness, unverified, span); no gold.
    B0: both claim (army, unverified, different spans); gold accepts ann. 2.
    B1: ann. 1 claim (army, verified), ann. 2 claim (army, false); no gold.
    B2: unlabelled.
    """
    mod = services.source_upsert(
        name="Russian Ministry of Defence",
        kind="government",
        side="Russia",
        description="The Russian MoD.",
        aliases=["Russian MoD", "Russia's Defence Ministry"],
    )
    army = services.source_upsert(
        name="Armed Forces of Ukraine", kind="military", side="Ukraine", aliases=["ZSU"]
    )
    witness = services.source_upsert(name="Local witness", kind="individual", side="")
    annotators = [
        make_person("zq-annotator-one", "annotator", ANNOTATOR_IDS[0]),
        make_person("zq-annotator-two", "annotator", ANNOTATOR_IDS[1]),
    ]
    editor = make_person("zq-editor-one", "editor", EDITOR_ID)
    article_a, _ = services.article_upsert(
        record=ArticleRecord(
            body=ARTICLE_A_BODY,
            title="Drone attack on Odesa port, officials say",
            published_on=datetime.date(2024, 3, 2),
            outlet="Reuters",
            url="https://example.com/news/odesa?id=1&lang=en",
            external_id="rtr-001",
        )
    )
    article_b, _ = services.article_upsert(
        record=ArticleRecord(
            body=ARTICLE_B_BODY,
            title="Two ships hit",
            published_on=datetime.date(2024, 5, 10),
            outlet="Kyiv Independent",
            url="https://example.org/ships",
            external_id="kyi-002",
        )
    )
    sentences = {}
    for letter, article in (("A", article_a), ("B", article_b)):
        for sentence in article.sentences.annotatable().order_by("position"):
            sentences[f"{letter}{sentence.position}"] = sentence
    assert list(sentences) == ["A0", "A1", "A2", "A3", "B0", "B1", "B2"], list(sentences)
    data = Dataset(
        articles=[article_a, article_b],
        sentences=sentences,
        annotators=annotators,
        editor=editor,
        sources={"mod": mod, "army": army, "witness": witness},
    )
    s = sentences
    plan = {
        ("A0", 0): label(
            source=mod,
            span=span_of(s["A0"], "repelled 3 attacks"),
            note="Checked the wire, twice.",
        ),
        ("A0", 1): label(source=mod, attribution="direct_quote", status_code="disputed"),
        ("A1", 0): label(source=army, status_code="disputed"),
        ("A1", 1): label(is_claim=False, note="Just a denial."),
        ("A2", 0): label(is_claim=False),
        ("A2", 1): label(is_claim=False),
        ("A3", 0): label(source=witness, span=span_of(s["A3"], "smoke rose over the port")),
        ("B0", 0): label(source=army, span=span_of(s["B0"], "two ships were hit")),
        ("B0", 1): label(source=army, span=span_of(s["B0"], 'two ships were hit, "both badly"')),
        ("B1", 0): label(source=army, status_code="verified"),
        ("B1", 1): label(source=army, status_code="false"),
    }
    for (key, who), values in plan.items():
        data.annotations[key, who] = annotate(s[key], annotators[who], values)
    for key, who in (("A0", 0), ("A2", 1), ("B0", 1)):
        data.gold[key] = services.gold_label_accept(
            annotation=data.annotations[key, who], editor=editor, expected_version=0
        )
    data.gold["A1"] = services.gold_label_set(
        sentence=s["A1"],
        editor=editor,
        label=label(source=army, attribution="unnamed", status_code="false"),
        expected_version=0,
        comment="It is false.",
    )
    return data


def make_raw_article(
    *, texts: list[str], title: str, outlet: str = "", url: str = "", external_id=None
) -> tuple[Article, list[Sentence]]:
    """An article whose sentences are exactly `texts` (no segmentation): for texts the
    segmenter would never produce, such as ones starting with a tab or a line break."""
    body = " ".join(texts)
    article = Article.objects.create(
        title=title,
        body=body,
        outlet=outlet,
        url=url,
        external_id=external_id,
        checksum=body_checksum(body),
        published_on=datetime.date(2024, 1, 15),
    )
    sentences, start = [], 0
    for position, text in enumerate(texts):
        sentences.append(
            Sentence.objects.create(
                article=article, position=position, start=start, end=start + len(text), text=text
            )
        )
        start += len(text) + 1
    return article, sentences


# --- expected rows ---------------------------------------------------------------------------


def _span(text, start, end):
    return None if start is None else text[start:end]


def _label_columns(label_obj, text: str) -> dict:
    if label_obj is None:
        return dict.fromkeys(
            (
                "is_claim",
                "claim_span_start",
                "claim_span_end",
                "claim_span_text",
                "source",
                "source_kind",
                "side",
                "attribution_type",
                "status",
            )
        )
    source = label_obj.source
    return {
        "is_claim": label_obj.is_claim,
        "claim_span_start": label_obj.span_start,
        "claim_span_end": label_obj.span_end,
        "claim_span_text": _span(text, label_obj.span_start, label_obj.span_end),
        "source": source.name if source else None,
        "source_kind": source.kind if source else None,
        "side": source.side if source else None,
        "attribution_type": label_obj.attribution_type,
        "status": label_obj.status.code if label_obj.status else None,
    }


def _article_columns(sentence: Sentence) -> dict:
    article = sentence.article
    return {
        "article_id": article.pk,
        "external_id": article.external_id,
        "title": article.title,
        "outlet": article.outlet,
        "url": article.url,
        "published_on": article.published_on,
        "sentence_id": sentence.pk,
        "position": sentence.position,
        "char_start": sentence.start,
        "char_end": sentence.end,
        "text": sentence.text,
    }


def expected_rows(level: str) -> list[dict]:
    """Every row of an unfiltered export at `level`, as Python values keyed by column name.

    Keys starting with "_" are not columns: they let tests filter the rows in Python.
    Pseudonym columns hold the user id (None when empty); `pseudonymize` turns them into names.
    """
    rows = []
    if level == "gold":
        sentences = Sentence.objects.annotatable().select_related(
            "article", "gold__source", "gold__status"
        )
        for sentence in sentences:
            gold = getattr(sentence, "gold", None)
            rows.append(
                {
                    **_article_columns(sentence),
                    **_label_columns(gold, sentence.text),
                    "annotator": None,
                    "annotated_at": None,
                    "gold_origin": gold.origin if gold else None,
                    "reviewed_by": gold.editor_id if gold else None,
                    "reviewed_at": gold.updated_at if gold else None,
                    "_annotator_id": None,
                    "_has_gold": gold is not None,
                    "_source_id": gold.source_id if gold else None,
                }
            )
    else:
        annotations = Annotation.objects.select_related(
            "sentence__article", "source", "status", "sentence__gold"
        )
        for annotation in annotations:
            sentence = annotation.sentence
            rows.append(
                {
                    **_article_columns(sentence),
                    **_label_columns(annotation, sentence.text),
                    "annotator": annotation.annotator_id,
                    "annotated_at": annotation.updated_at,
                    "gold_origin": None,
                    "reviewed_by": None,
                    "reviewed_at": None,
                    "_annotator_id": annotation.annotator_id,
                    "_has_gold": hasattr(sentence, "gold"),
                    "_source_id": annotation.source_id,
                }
            )
    rows.sort(key=lambda r: (r["article_id"], r["position"], r["_annotator_id"] or 0))
    return rows


def key_of(row: dict) -> tuple:
    """(sentence id, annotator pseudonym or "") for an expected or a downloaded row."""
    return (int(row["sentence_id"]), row["annotator"] or "")


def expected_keys(rows: list[dict]) -> list[tuple]:
    p = dataset.pseudonymizer()
    return [(r["sentence_id"], p(r["_annotator_id"])) for r in rows]


# --- cell values -------------------------------------------------------------------------------


def utc_text(value: datetime.datetime) -> str:
    return value.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


PSEUDONYM_COLUMNS = ("annotator", "reviewed_by")


def as_json(row: dict) -> dict:
    """The JSONL object for an expected row (pseudonym columns left as "" or a name)."""
    p = dataset.pseudonymizer()
    out = {}
    for column in exporting.COLUMNS:
        value = row[column.name]
        if column.name in PSEUDONYM_COLUMNS:
            value = p(value)
        elif isinstance(value, datetime.datetime):
            value = utc_text(value)
        elif isinstance(value, datetime.date):
            value = value.isoformat()
        out[column.name] = value
    return out


def as_csv(row: dict) -> dict:
    """The CSV cells (as csv.DictReader gives them) of an expected row."""
    out = {}
    for name, value in as_json(row).items():
        if value is None:
            value = ""
        elif value is True or value is False:
            value = "true" if value else "false"
        elif isinstance(value, int):
            value = str(value)
        elif exporting.COLUMNS[exporting.COLUMN_NAMES.index(name)].type == "string":
            value = exporting.csv_safe(value)
        out[name] = value
    return out


def parse_csv(content: bytes) -> list[dict]:
    text = content.decode("utf-8")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    assert reader.fieldnames == list(exporting.COLUMN_NAMES)
    return list(reader)


def parse_jsonl(content: bytes) -> list[dict]:
    text = content.decode("utf-8")
    assert text == "" or text.endswith("\n")
    rows = [json.loads(line) for line in text.split("\n")[:-1]]
    for row in rows:
        assert list(row) == list(exporting.COLUMN_NAMES)
    return rows
