"""Builders for the export tests: a small labelled dataset of claims and the rows it should export.

Labels and claims are created with the ORM directly (not through the services), with the old
single-claim fields of Annotation/GoldLabel mirroring the first claim so that their
constraints hold. The expected rows are computed here from model instances, independently of
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
from claims.importing import body_checksum
from claims.models import (
    Annotation,
    Article,
    Claim,
    GoldLabel,
    Sentence,
    Source,
    VerificationStatus,
)

# Users get ids and names that cannot occur anywhere else in an export, so a test can look for
# them in the whole file.
ANNOTATOR_IDS = (987_650_001, 987_650_002)
EDITOR_ID = 987_650_009

# (text, separator after it): a quote runs over A1 and A2 across a line break.
ARTICLE_A = (
    (
        'The Russian Ministry of Defence said its forces "repelled 3 attacks" near Kupiansk, '
        "Київ region.",
        "\n",
    ),
    ('"The enemy retreated.', "\n"),
    ('Our losses are minimal," the ministry wrote on Telegram.', "\n"),
    ("Ukraine's army denied the report.", " "),
    ("It was not possible to verify the claims.", ""),
)
ARTICLE_B = (
    ('Officials said two ships were hit, "both badly".', " "),
    ("A spokesman for the army said the strike failed.", " "),
    ("Nothing else happened.", ""),
)


def make_person(username: str, role: str, pk: int) -> User:
    user = User.objects.create_user(id=pk, username=username, password=f"{username}-pw")
    user.groups.add(Group.objects.get(name=role))
    return user


def status(code: str) -> VerificationStatus:
    return VerificationStatus.objects.get(code=code)


def make_article(
    parts, *, title: str, outlet: str = "", url: str = "", external_id=None, published_on=None
) -> tuple[Article, list[Sentence]]:
    """An article made of exactly these sentences and separators (no segmentation)."""
    body = "".join(text + sep for text, sep in parts)
    article = Article.objects.create(
        title=title,
        body=body,
        outlet=outlet,
        url=url,
        external_id=external_id,
        checksum=body_checksum(body),
        published_on=published_on,
    )
    sentences, start = [], 0
    for position, (text, sep) in enumerate(parts):
        sentences.append(
            Sentence.objects.create(
                article=article, position=position, start=start, end=start + len(text), text=text
            )
        )
        start += len(text) + len(sep)
    return article, sentences


def make_raw_article(
    *, texts: list[str], title: str, outlet: str = "", url: str = "", external_id=None
) -> tuple[Article, list[Sentence]]:
    """Sentences exactly `texts`, joined by spaces: for texts the segmenter would never make."""
    parts = [(text, " " if i < len(texts) - 1 else "") for i, text in enumerate(texts)]
    return make_article(
        parts,
        title=title,
        outlet=outlet,
        url=url,
        external_id=external_id,
        published_on=datetime.date(2024, 1, 15),
    )


def at(article: Article, words: str, nth: int = 0) -> tuple[int, int]:
    """The body offsets of the nth occurrence of `words` in the article."""
    start = -1
    for _ in range(nth + 1):
        start = article.body.index(words, start + 1)
    return start, start + len(words)


Words = str | tuple[str, int]  # words, or (words, n): their nth occurrence (from 0)


def claim(
    article: Article,
    content: Words,
    *,
    cue: Words | None = None,
    mention: Words | None = None,
    source: Source | None = None,
    attribution: str = "paraphrase",
    status_code: str = "unverified",
    note: str = "",
    evidence_url: str = "",
) -> dict:
    """A claim as the label dict holds it, spans given by their words in the body."""
    spans = {}
    for name, words in (("content", content), ("cue", cue), ("mention", mention)):
        if isinstance(words, str):
            words = (words, 0)
        start, end = at(article, *words) if words else (None, None)
        spans[f"{name}_start"], spans[f"{name}_end"] = start, end
    return {
        **spans,
        "source_id": source.pk if source else None,
        "attribution_type": attribution,
        "status_id": status(status_code).pk,
        "note": note,
        "evidence_url": evidence_url,
    }


def _mirror(sentence: Sentence, claims: list[dict]) -> dict:
    """The old single-claim fields, mirroring the first claim (their constraints must hold)."""
    if not claims:
        return {"is_claim": False, "source_id": None, "status_id": None, "attribution_type": ""}
    first = claims[0]
    start, end = first["content_start"] - sentence.start, first["content_end"] - sentence.start
    inside = start >= 0 and end <= len(sentence.text)
    return {
        "is_claim": True,
        "source_id": first["source_id"],
        "status_id": first["status_id"],
        "attribution_type": first.get("attribution_type", ""),
        "span_start": start if inside else None,
        "span_end": end if inside else None,
    }


def _claims_of(claims: list[dict], **owner) -> None:
    Claim.objects.bulk_create(
        [Claim(position=i, **values, **owner) for i, values in enumerate(claims)]
    )


def annotate(sentence: Sentence, user: User, claims: list[dict], note: str = "") -> Annotation:
    annotation = Annotation.objects.create(
        sentence=sentence, annotator=user, note=note, **_mirror(sentence, claims)
    )
    _claims_of(claims, annotation=annotation)
    return annotation


def set_gold(
    sentence: Sentence,
    editor: User,
    claims: list[dict],
    *,
    accepted: Annotation | None = None,
    comment: str = "",
) -> GoldLabel:
    gold = GoldLabel.objects.create(
        sentence=sentence,
        editor=editor,
        origin="accepted" if accepted else "corrected",
        accepted_annotation=accepted,
        comment=comment,
        claims_snapshot=claims,
        **_mirror(sentence, claims),
    )
    _claims_of(claims, gold=gold)
    return gold


def accept(annotation: Annotation, editor: User) -> GoldLabel:
    claims = list(
        annotation.claims.order_by("position").values(
            "content_start",
            "content_end",
            "cue_start",
            "cue_end",
            "mention_start",
            "mention_end",
            "source_id",
            "attribution_type",
            "status_id",
            "note",
            "evidence_url",
        )
    )
    return set_gold(annotation.sentence, editor, claims, accepted=annotation)


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
    """Two articles (8 sentences), two annotators who disagree, gold on four sentences.

    A0: ann. 1 one claim (MoD: mention, cue, content, note, evidence URL); ann. 2 two claims
        (a direct quote, disputed; an unattributed place claim); gold accepts ann. 2.
    A1: both "not a claim" (ann. 2 with a note); gold "not a claim" (corrected).
    A2: a quote over A1 and A2 (across a line break): ann. 1 with the mention "the ministry"
        in A2; ann. 2 with the mention in A0 (an earlier sentence); gold corrected (false).
    A3: ann. 1 claim (army, disputed); ann. 2 not a claim; no gold.
    A4: ann. 1 unattributed claim, the whole sentence; no gold.
    B0: both claim (army, unverified, different content spans); gold accepts ann. 2.
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
    a, a_sentences = make_article(
        ARTICLE_A,
        title="Drone attack near Kupiansk, officials say",
        published_on=datetime.date(2024, 3, 2),
        outlet="Reuters",
        url="https://example.com/news/kupiansk?id=1&lang=en",
        external_id="rtr-001",
    )
    b, b_sentences = make_article(
        ARTICLE_B,
        title="Two ships hit",
        published_on=datetime.date(2024, 5, 10),
        outlet="Kyiv Independent",
        url="https://example.org/ships",
        external_id="kyi-002",
    )
    sentences = {f"A{s.position}": s for s in a_sentences} | {
        f"B{s.position}": s for s in b_sentences
    }
    data = Dataset(
        articles=[a, b],
        sentences=sentences,
        annotators=annotators,
        editor=editor,
        sources={"mod": mod, "army": army, "witness": witness},
    )
    quote = "The enemy retreated.\nOur losses are minimal,"
    plan = {
        ("A0", 0): [
            claim(
                a,
                'its forces "repelled 3 attacks" near Kupiansk',
                cue="said",
                mention="The Russian Ministry of Defence",
                source=mod,
                note="Checked the wire, twice.",
                evidence_url="https://example.org/wire",
            )
        ],
        ("A0", 1): [
            claim(
                a,
                '"repelled 3 attacks"',
                cue="said",
                mention="The Russian Ministry of Defence",
                source=mod,
                attribution="direct_quote",
                status_code="disputed",
            ),
            claim(a, "near Kupiansk, Київ region", attribution="none"),
        ],
        ("A1", 0): [],
        ("A1", 1): [],
        ("A2", 0): [
            claim(
                a,
                quote,
                cue="wrote on Telegram",
                mention="the ministry",
                source=mod,
                attribution="direct_quote",
            )
        ],
        ("A2", 1): [
            claim(
                a,
                '"' + quote + '"',
                cue="wrote on Telegram",
                mention="The Russian Ministry of Defence",
                source=mod,
                attribution="direct_quote",
                status_code="disputed",
            )
        ],
        ("A3", 0): [
            claim(
                a,
                "the report",
                cue="denied",
                mention="Ukraine's army",
                source=army,
                status_code="disputed",
            )
        ],
        ("A3", 1): [],
        ("A4", 0): [claim(a, "It was not possible to verify the claims.", attribution="none")],
        ("B0", 0): [claim(b, "two ships were hit", cue="said", mention="Officials", source=army)],
        ("B0", 1): [claim(b, 'two ships were hit, "both badly"', source=army)],
        ("B1", 0): [
            claim(
                b,
                "the strike failed",
                cue=("said", 1),
                mention="A spokesman for the army",
                source=army,
                status_code="verified",
            )
        ],
        ("B1", 1): [claim(b, "the strike failed", source=army, status_code="false")],
    }
    notes = {("A1", 1): "Half a quote."}
    for (key, who), claims in plan.items():
        data.annotations[key, who] = annotate(
            sentences[key], annotators[who], claims, note=notes.get((key, who), "")
        )
    data.gold["A0"] = accept(data.annotations["A0", 1], editor)
    data.gold["B0"] = accept(data.annotations["B0", 1], editor)
    data.gold["A1"] = set_gold(sentences["A1"], editor, [], comment="Half a quote only.")
    data.gold["A2"] = set_gold(
        sentences["A2"],
        editor,
        [
            claim(
                a,
                quote,
                cue="wrote on Telegram",
                mention="The Russian Ministry of Defence",
                source=mod,
                attribution="direct_quote",
                status_code="false",
            )
        ],
        comment="It is false.",
    )
    return data


def whole_sentence(
    sentence: Sentence, *, source: Source | None, status_code: str = "unverified"
) -> dict:
    """A claim whose content is the whole sentence."""
    return {
        "content_start": sentence.start,
        "content_end": sentence.end,
        "source_id": source.pk if source else None,
        "attribution_type": "paraphrase",
        "status_id": status(status_code).pk,
    }


def label_of(
    sentence: Sentence, user: User, *, source: Source | None, status_code: str = "unverified"
) -> Annotation:
    """One annotator's label with one claim, the whole sentence as its content."""
    return annotate(
        sentence, user, [whole_sentence(sentence, source=source, status_code=status_code)]
    )


# --- expected rows ---------------------------------------------------------------------------


def _text(body: str, start, end):
    return None if start is None else body[start:end]


def _content_sentence_ids(sentences: list[Sentence], c: Claim) -> str:
    return " ".join(
        str(s.pk) for s in sentences if s.start < c.content_end and s.end > c.content_start
    )


CLAIM_COLUMNS = (
    "claim_position",
    "content_sentence_ids",
    "content_start",
    "content_end",
    "content_text",
    "cue_start",
    "cue_end",
    "cue_text",
    "mention_start",
    "mention_end",
    "mention_text",
    "source",
    "source_kind",
    "side",
    "attribution_type",
    "status",
    "note",
    "evidence_url",
)


def _claim_columns(c: Claim | None, article: Article, sentences: list[Sentence]) -> dict:
    if c is None:
        return dict.fromkeys(CLAIM_COLUMNS)
    body, source = article.body, c.source
    return {
        "claim_position": c.position,
        "content_sentence_ids": _content_sentence_ids(sentences, c),
        "content_start": c.content_start,
        "content_end": c.content_end,
        "content_text": body[c.content_start : c.content_end],
        "cue_start": c.cue_start,
        "cue_end": c.cue_end,
        "cue_text": _text(body, c.cue_start, c.cue_end),
        "mention_start": c.mention_start,
        "mention_end": c.mention_end,
        "mention_text": _text(body, c.mention_start, c.mention_end),
        "source": source.name if source else None,
        "source_kind": source.kind if source else None,
        "side": source.side if source else None,
        "attribution_type": c.attribution_type,
        "status": c.status.code,
        "note": c.note,
        "evidence_url": c.evidence_url,
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
        "sentence_position": sentence.position,
        "sentence_start": sentence.start,
        "sentence_end": sentence.end,
        "sentence_text": sentence.text,
    }


def _label_rows(sentence: Sentence, label_obj, extra: dict) -> list[dict]:
    """One row per claim of the label; one row with empty claim columns if it has none."""
    article = sentence.article
    sentences = list(article.sentences.order_by("position"))
    claims = list(label_obj.claims.order_by("position")) if label_obj is not None else []
    rows = []
    for c in claims or [None]:
        rows.append(
            {
                **_article_columns(sentence),
                "is_claim": label_obj.is_claim if label_obj is not None else None,
                **_claim_columns(c, article, sentences),
                **extra,
                "_source_id": c.source_id if c else None,
            }
        )
    return rows


def expected_rows(level: str) -> list[dict]:
    """Every row of an unfiltered export at `level`, as Python values keyed by column name.

    Keys starting with "_" are not columns: they let tests filter the rows in Python.
    Pseudonym columns hold the user id (None when empty); `pseudonymize` turns them into names.
    """
    rows = []
    if level == "gold":
        sentences = Sentence.objects.annotatable().select_related("article", "gold")
        for sentence in sentences:
            gold = getattr(sentence, "gold", None)
            rows += _label_rows(
                sentence,
                gold,
                {
                    "label_note": gold.comment if gold else None,
                    "label_evidence_url": None,
                    "annotator": "gold",
                    "annotated_at": None,
                    "gold_origin": gold.origin if gold else None,
                    "reviewed_by": gold.editor_id if gold else None,
                    "reviewed_at": gold.updated_at if gold else None,
                    "_annotator_id": None,
                    "_has_gold": gold is not None,
                },
            )
    else:
        annotations = Annotation.objects.select_related("sentence__article", "sentence__gold")
        for annotation in annotations:
            sentence = annotation.sentence
            rows += _label_rows(
                sentence,
                annotation,
                {
                    "label_note": annotation.note,
                    "label_evidence_url": annotation.evidence_url,
                    "annotator": annotation.annotator_id,
                    "annotated_at": annotation.updated_at,
                    "gold_origin": None,
                    "reviewed_by": None,
                    "reviewed_at": None,
                    "_annotator_id": annotation.annotator_id,
                    "_has_gold": hasattr(sentence, "gold"),
                },
            )
    rows.sort(
        key=lambda r: (
            r["article_id"],
            r["sentence_position"],
            r["_annotator_id"] or 0,
            r["claim_position"] or 0,
        )
    )
    return rows


def key_of(row: dict) -> tuple:
    """(sentence id, annotator pseudonym or "gold", claim position) of a downloaded row."""
    position = row["claim_position"]
    return (
        int(row["sentence_id"]),
        row["annotator"],
        None if position in (None, "") else int(position),
    )


def expected_keys(rows: list[dict]) -> list[tuple]:
    p = dataset.pseudonymizer()
    return [(r["sentence_id"], p(r["_annotator_id"]) or "gold", r["claim_position"]) for r in rows]


# --- cell values -------------------------------------------------------------------------------


def utc_text(value: datetime.datetime) -> str:
    return value.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def as_json(row: dict) -> dict:
    """The JSONL object for an expected row."""
    p = dataset.pseudonymizer()
    out = {}
    for column in exporting.COLUMNS:
        value = row[column.name]
        if column.name == "reviewed_by" or (column.name == "annotator" and value != "gold"):
            value = p(value) or None
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
