"""Migration 0015: rows made before suggestions had spans keep working, the claim-span trigger
outlives SQLite's table rebuilds, and refresh_suggestions fills what the rows lack."""

import hashlib

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("claims", "0014_sentence_kind_dateline")]
AFTER = [("claims", "0015_suggestion_spans")]

BODY = "The governor said on Monday that two drones were shot down. Nobody was hurt."
FIRST = "The governor said on Monday that two drones were shot down."

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def _leaf():
    executor = MigrationExecutor(connection)
    return [key for key in executor.loader.graph.leaf_nodes() if key[0] == "claims"]


@pytest.fixture
def at_0013(transactional_db):
    apps = _migrate(BEFORE)
    yield apps
    _migrate(_leaf())  # leave the database as the other tests expect it


def _world(apps) -> dict:
    """An article with a suggested cue and a labelled sentence, written with 0013's models."""
    User = apps.get_model("auth", "User")
    Article = apps.get_model("claims", "Article")
    Sentence = apps.get_model("claims", "Sentence")
    Annotation = apps.get_model("claims", "Annotation")
    Claim = apps.get_model("claims", "Claim")
    Status = apps.get_model("claims", "VerificationStatus")
    user = User.objects.create(username="a1")
    article = Article.objects.create(
        title="Drones", body=BODY, checksum=hashlib.sha256(BODY.encode()).hexdigest()
    )
    sentence = Sentence.objects.create(
        article=article,
        position=0,
        start=0,
        end=len(FIRST),
        text=FIRST,
        suggested_is_claim=True,
        suggested_attribution="paraphrase",
        cue_start=13,
        cue_end=17,
    )
    status = Status.objects.get(code="unverified")
    annotation = Annotation.objects.create(
        sentence=sentence, annotator=user, is_claim=True, status=status
    )
    Claim.objects.create(
        annotation=annotation, content_start=0, content_end=len(FIRST), status=status
    )
    return {"article": article.pk, "sentence": sentence.pk, "annotation": annotation.pk}


def test_rows_from_before_keep_their_values_and_get_blank_new_fields(at_0013):
    world = _world(at_0013)
    apps = _migrate(AFTER)
    Sentence = apps.get_model("claims", "Sentence")
    Annotation = apps.get_model("claims", "Annotation")
    Article = apps.get_model("claims", "Article")

    sentence = Sentence.objects.get(pk=world["sentence"])
    assert (sentence.cue_start, sentence.cue_end, sentence.text) == (13, 17, FIRST)
    assert (sentence.mention_start, sentence.content_start) == (None, None)
    assert sentence.suggested_new_source_name == sentence.suggested_new_source_kind == ""
    assert Annotation.objects.get(pk=world["annotation"]).suggested_new_source_name == ""
    assert Article.objects.get(pk=world["article"]).language == ""


def test_the_claim_span_trigger_outlives_the_rebuilt_tables(at_0013):
    world = _world(at_0013)
    apps = _migrate(AFTER)
    Claim = apps.get_model("claims", "Claim")
    status = apps.get_model("claims", "VerificationStatus").objects.get(code="unverified")

    with pytest.raises(IntegrityError), transaction.atomic():
        Claim.objects.create(
            annotation_id=world["annotation"],
            position=1,
            content_start=0,
            content_end=len(BODY) + 1,
            status=status,
        )


def test_refresh_suggestions_fills_the_rows_from_before(at_0013):
    world = _world(at_0013)
    _migrate(_leaf())
    from claims import services
    from claims.models import Article, Sentence

    services.suggestions_refresh()

    sentence = Sentence.objects.get(pk=world["sentence"])
    assert sentence.text[sentence.cue_start : sentence.cue_end] == "said"
    assert sentence.mention_start is not None and sentence.content_start is not None
    assert Article.objects.get(pk=world["article"]).language == "en"
