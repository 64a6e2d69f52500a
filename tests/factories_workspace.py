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
