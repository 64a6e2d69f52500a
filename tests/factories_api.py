"""Helpers for the API tests: a token client, and a small labelled world."""

from dataclasses import dataclass

from django.contrib.auth.models import User
from rest_framework.test import APIClient

from claims import services, tokens
from claims.models import Annotation, Article, GoldLabel, Sentence, Source
from tests.conftest import make_user
from tests.factories_export import annotate, set_gold, whole_sentence


def token_client(user: User, *, scheme: str = "Bearer") -> APIClient:
    """A client that sends the user's new API token (and no session)."""
    _, key = tokens.token_create(user=user, name="test")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"{scheme} {key}")
    return client


@dataclass
class World:
    annotator: User  # assigned to `article`, labelled its first sentences
    other: User  # an annotator assigned to `article` too, with labels of their own
    outsider: User  # an annotator without assignments
    editor: User
    researcher: User
    admin: User
    article: Article
    unassigned: Article
    source: Source
    mine: list[Annotation]
    theirs: list[Annotation]
    gold: list[GoldLabel]


def build_world(demo_article: Article) -> World:
    annotator, other = make_user("ann", "annotator"), make_user("other", "annotator")
    outsider, editor = make_user("outsider", "annotator"), make_user("ed", "editor")
    researcher, admin = make_user("res", "researcher"), make_user("boss", "admin")
    services.assignments_create(articles=[demo_article], annotators=[annotator, other])
    unassigned = Article.objects.create(
        title="Unassigned", body="Nobody reads this.", checksum="0" * 64, outlet="Other Daily"
    )
    Sentence.objects.create(article=unassigned, position=0, start=0, end=18, text=unassigned.body)
    source = services.source_upsert(
        name="Test Ministry", kind="government", side="Testland", aliases=["the ministry"]
    )
    services.source_upsert(name="Test Agency", kind="media", aliases=["the agency"])
    sentences = list(demo_article.sentences.annotatable().order_by("position")[:6])
    mine = [annotate(s, annotator, [whole_sentence(s, source=source)]) for s in sentences[:3]]
    theirs = [annotate(s, other, [whole_sentence(s, source=None)]) for s in sentences[:4]]
    gold = [
        set_gold(s, editor, [whole_sentence(s, source=source, status_code=code)])
        for s, code in zip(sentences[:3], ["unverified", "unverified", "false"], strict=True)
    ]
    gold.append(set_gold(sentences[3], editor, []))
    return World(
        annotator,
        other,
        outsider,
        editor,
        researcher,
        admin,
        demo_article,
        unassigned,
        source,
        mine,
        theirs,
        gold,
    )
