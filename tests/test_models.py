"""The database itself refuses what the model forbids (constraints, not just form validation)."""

import pytest
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from claims import importing, services
from claims.importing import ArticleRecord
from claims.models import (
    Annotation,
    Article,
    Sentence,
    Source,
    SourceAlias,
    VerificationStatus,
)
from tests.factories import annotate

pytestmark = pytest.mark.django_db


@pytest.fixture
def article() -> Article:
    article, _ = services.article_upsert(record=ArticleRecord(body="First sentence. Second one."))
    return article


@pytest.fixture
def sentence(article) -> Sentence:
    return article.sentences.get(position=0)


def new_article(body: str, **fields) -> Article:
    return Article.objects.create(
        title=body[:20], body=body, checksum=importing.body_checksum(body), **fields
    )


def assert_refused(create) -> None:
    """The database raises IntegrityError; the transaction stays usable afterwards."""
    with pytest.raises(IntegrityError), transaction.atomic():
        create()


# --- annotations -----------------------------------------------------------------------------


def test_claim_without_status_is_refused(sentence, annotator):
    assert_refused(
        lambda: Annotation.objects.create(sentence=sentence, annotator=annotator, is_claim=True)
    )
    assert Annotation.objects.count() == 0


def test_claim_with_status_is_accepted(sentence, annotator, unverified, mod_source):
    annotation = annotate(sentence, annotator, source=mod_source, attribution_type="paraphrase")

    assert annotation.status == unverified


def test_non_claim_with_a_source_is_refused(sentence, annotator, mod_source):
    assert_refused(
        lambda: Annotation.objects.create(
            sentence=sentence, annotator=annotator, is_claim=False, source=mod_source
        )
    )


def test_non_claim_with_a_status_is_refused(sentence, annotator, unverified):
    assert_refused(
        lambda: Annotation.objects.create(
            sentence=sentence, annotator=annotator, is_claim=False, status=unverified
        )
    )


def test_non_claim_with_an_attribution_type_is_refused(sentence, annotator):
    assert_refused(
        lambda: Annotation.objects.create(
            sentence=sentence, annotator=annotator, is_claim=False, attribution_type="unnamed"
        )
    )


def test_plain_non_claim_is_accepted(sentence, annotator):
    Annotation.objects.create(sentence=sentence, annotator=annotator, is_claim=False)

    assert Annotation.objects.count() == 1


def test_two_annotations_for_the_same_sentence_and_annotator_are_refused(sentence, annotator):
    annotate(sentence, annotator)

    assert_refused(
        lambda: Annotation.objects.create(sentence=sentence, annotator=annotator, is_claim=False)
    )


def test_two_annotators_may_label_the_same_sentence(sentence, annotator, annotator2):
    annotate(sentence, annotator)
    annotate(sentence, annotator2)

    assert sentence.annotations.count() == 2


def test_span_must_end_after_it_starts(sentence, annotator):
    assert_refused(lambda: annotate(sentence, annotator, span_start=5, span_end=5))
    assert_refused(lambda: annotate(sentence, annotator, span_start=None, span_end=5))


# --- sentences -------------------------------------------------------------------------------


def test_sentence_whose_text_length_is_not_end_minus_start_is_refused(article):
    assert_refused(
        lambda: Sentence.objects.create(article=article, position=9, start=0, end=5, text="abc")
    )


def test_sentence_with_matching_length_is_accepted(article):
    Sentence.objects.create(article=article, position=9, start=0, end=3, text="abc")


def test_sentence_length_counts_characters_not_bytes(article):
    Sentence.objects.create(article=article, position=9, start=0, end=4, text="Київ")


def test_sentence_ending_before_it_starts_is_refused(article):
    assert_refused(
        lambda: Sentence.objects.create(article=article, position=9, start=3, end=3, text="")
    )


def test_two_sentences_at_one_position_are_refused(article):
    assert_refused(
        lambda: Sentence.objects.create(article=article, position=0, start=0, end=1, text="F")
    )


def test_unknown_sentence_kind_is_refused(article):
    assert_refused(
        lambda: Sentence.objects.create(
            article=article, position=9, start=0, end=1, text="F", kind="caption"
        )
    )


def test_dateline_kind_is_stored_and_never_annotatable(article):
    dateline = Sentence.objects.create(
        article=article, position=9, start=0, end=4, text="KYIV", kind=Sentence.Kind.DATELINE
    )
    assert not dateline.is_annotatable
    assert dateline not in Sentence.objects.annotatable()


# --- articles --------------------------------------------------------------------------------


def test_duplicate_external_id_is_refused():
    new_article("One.", external_id="same")

    assert_refused(lambda: new_article("Two.", external_id="same"))


def test_two_articles_without_external_id_are_fine():
    new_article("One.")
    new_article("Two.")

    assert Article.objects.filter(external_id__isnull=True).count() == 2


def test_blank_external_id_is_refused():
    assert_refused(lambda: new_article("One.", external_id=""))


def test_duplicate_checksum_is_refused():
    new_article("Same body.")

    assert_refused(lambda: new_article("Same body.", external_id="other"))


def test_checksum_must_be_a_sha256_hex_digest():
    assert_refused(lambda: Article.objects.create(title="t", body="b", checksum="not-a-checksum"))


def test_deleting_an_article_with_annotations_is_refused(article, sentence, annotator):
    annotate(sentence, annotator)

    with pytest.raises(ProtectedError):
        article.delete()

    assert Article.objects.filter(pk=article.pk).exists()
    assert article.sentences.count() == 2
    assert Annotation.objects.count() == 1


def test_deleting_an_article_without_annotations_deletes_its_sentences(article):
    article.delete()

    assert Sentence.objects.count() == 0


# --- sources, aliases, statuses --------------------------------------------------------------


def test_alias_is_unique_case_insensitively(mod_source):
    other = Source.objects.create(name="Ukrainian Air Force", kind="military")

    assert_refused(lambda: SourceAlias.objects.create(source=other, alias="RUSSIAN mod"))
    assert_refused(lambda: SourceAlias.objects.create(source=mod_source, alias="russian MoD"))


def test_source_name_is_unique_case_insensitively(mod_source):
    assert_refused(lambda: Source.objects.create(name="russian ministry of defence"))


def test_blank_alias_is_refused(mod_source):
    assert_refused(lambda: SourceAlias.objects.create(source=mod_source, alias=""))


@pytest.mark.parametrize("key", ["0", "a", "#"])
def test_status_key_outside_1_to_9_is_refused(key):
    assert_refused(
        lambda: VerificationStatus.objects.create(code="k", label="K", key=key, colour="#000000")
    )


@pytest.mark.parametrize("key", ["9", None])
def test_status_key_1_to_9_or_none_is_accepted(key):
    VerificationStatus.objects.create(code="k", label="K", key=key, colour="#a0B1c2")


def test_status_key_is_unique():
    assert_refused(
        lambda: VerificationStatus.objects.create(code="k", label="K", key="1", colour="#000000")
    )


@pytest.mark.parametrize("colour", ["red", "#12345", "1234567", "123456", "#12345g"])
def test_status_colour_must_be_hex_rrggbb(colour):
    assert_refused(lambda: VerificationStatus.objects.create(code="c", label="C", colour=colour))
