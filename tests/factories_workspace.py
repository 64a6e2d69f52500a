"""Builders for the annotator-workspace tests: segmented articles, assignments, labels."""

import itertools

from django.contrib.auth.models import User

from claims import services
from claims.importing import ArticleRecord
from claims.models import Annotation, Article, Assignment, Sentence, VerificationStatus
from tests.conftest import make_user

_bodies = itertools.count(1)


def numbered_body(n: int, *, tag: str = "") -> str:
    """A body of n one-line sentences; `tag` (or a counter) keeps every body unique."""
    tag = tag or f"batch {next(_bodies)}"
    return " ".join(f"Sentence number {i} of {tag} was said by Kyiv." for i in range(1, n + 1))


def make_article(n: int = 5, *, body: str | None = None, title: str = "") -> Article:
    """A segmented article (sentences and suggestions as the importer makes them)."""
    article, _ = services.article_upsert(
        record=ArticleRecord(body=body if body is not None else numbered_body(n), title=title)
    )
    return article


def annotatable(article: Article) -> list[Sentence]:
    return list(article.sentences.annotatable().order_by("position"))


def assign(article: Article, *users: User) -> None:
    for user in users:
        Assignment.objects.get_or_create(article=article, annotator=user)


def make_annotators(*names: str) -> list[User]:
    return [make_user(name, "annotator") for name in names]


def status(code: str = "unverified") -> VerificationStatus:
    return VerificationStatus.objects.get(code=code)


def claim_label(*, status_code: str = "unverified", source=None, **extra) -> dict:
    """A service-level label dict (the shape LabelForm.label() returns)."""
    return {
        "is_claim": True,
        "source_id": source.pk if source is not None else None,
        "attribution_type": "paraphrase",
        "status_id": status(status_code).pk,
        "span_start": None,
        "span_end": None,
        "note": "",
        "evidence_url": "",
        **extra,
    }


def no_claim_label(**extra) -> dict:
    return {"is_claim": False, "note": "", **extra}


def save(sentence: Sentence, user: User, label: dict, expected_version: int = 0) -> Annotation:
    return services.annotation_save(
        sentence=sentence, annotator=user, label=label, expected_version=expected_version
    )


def claim_post(*, version: int = 0, status_code: str = "unverified", **extra) -> dict:
    """POST data for the label form."""
    return {
        "is_claim": "yes",
        "source": "",
        "attribution_type": "paraphrase",
        "status": status_code,
        "span_start": "",
        "span_end": "",
        "note": "",
        "evidence_url": "",
        "version": str(version),
        **extra,
    }


def claim_fields(
    sentence: Sentence,
    *,
    content: tuple[int, int] | None = None,
    cue: tuple[int, int] | None = None,
    mention: tuple[int, int] | None = None,
    source: str = "",
    attribution_type: str = "paraphrase",
    status_code: str = "unverified",
    note: str = "",
    evidence_url: str = "",
    delete: bool = False,
) -> dict:
    """One claim of the annotate form (unprefixed); spans are body offsets, the content the
    whole sentence unless given."""
    content = content or (sentence.start, sentence.end)
    fields = {
        "content_start": content[0],
        "content_end": content[1],
        "cue_start": cue[0] if cue else "",
        "cue_end": cue[1] if cue else "",
        "mention_start": mention[0] if mention else "",
        "mention_end": mention[1] if mention else "",
        "source": source,
        "attribution_type": attribution_type,
        "status": status_code,
        "note": note,
        "evidence_url": evidence_url,
    }
    if delete:
        fields["DELETE"] = "on"
    return {k: str(v) for k, v in fields.items()}


def label_post(
    sentence: Sentence | None = None,
    claims: list[dict] | None = None,
    *,
    is_claim: str = "yes",
    version: int = 0,
    initial_forms: int = 0,
    **extra,
) -> dict:
    """POST data for the annotate form: the label and its claims formset (prefix "claims");
    one claim over the whole sentence unless `claims` are given."""
    if claims is None:
        claims = [claim_fields(sentence)] if sentence is not None else []
    data = {
        "is_claim": is_claim,
        "note": "",
        "evidence_url": "",
        "version": str(version),
        "claims-TOTAL_FORMS": str(len(claims)),
        "claims-INITIAL_FORMS": str(initial_forms),
        "claims-MIN_NUM_FORMS": "0",
        "claims-MAX_NUM_FORMS": "20",
    }
    for i, claim in enumerate(claims):
        data.update({f"claims-{i}-{k}": v for k, v in claim.items()})
    return {**data, **extra}


def claim_fields_of(claim, **changes) -> dict:
    """The annotate form's fields of a stored Claim (to post a label back as it is)."""

    def pair(role):
        start, end = getattr(claim, f"{role}_start"), getattr(claim, f"{role}_end")
        return None if start is None else (start, end)

    fields = {
        "content": pair("content"),
        "cue": pair("cue"),
        "mention": pair("mention"),
        "source": claim.source.name if claim.source else "",
        "attribution_type": claim.attribution_type,
        "status_code": claim.status.code,
        "note": claim.note,
        "evidence_url": claim.evidence_url,
    }
    fields.update(changes)
    sentence = claim.annotation.sentence if claim.annotation_id else claim.gold.sentence
    return claim_fields(sentence, **fields)
