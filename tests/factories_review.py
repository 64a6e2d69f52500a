"""Builders for the review tests: queue rows in a chosen bucket and order, pages, gold labels."""

import datetime

from django.contrib.auth.models import User
from django.utils import timezone

from claims import selectors, services
from claims.models import Annotation, ReviewItem, Sentence, Source
from tests.factories_workspace import claim_label, no_claim_label, save

# A fixed moment, so that the order of queue rows is the order the tests give them.
T0 = datetime.datetime(2026, 1, 5, 9, 0, 0, tzinfo=datetime.UTC)


def at(seconds: float) -> datetime.datetime:
    return T0 + datetime.timedelta(seconds=seconds)


def backdate(sentence: Sentence, when: datetime.datetime) -> ReviewItem:
    """Pretend the sentence's annotations were made at `when`; returns its refreshed row."""
    Annotation.objects.filter(sentence=sentence).update(created_at=when)
    services.review_item_refresh(sentence_id=sentence.pk)
    return ReviewItem.objects.get(pk=sentence.pk)


def make_item(
    sentence: Sentence,
    bucket: int,
    annotators: list[User],
    *,
    when: datetime.datetime | None = None,
    source: Source | None = None,
) -> ReviewItem:
    """Label the sentence so that its queue row falls in `bucket` (needs two annotators)."""
    first, second = annotators[:2]
    save(sentence, first, claim_label(source=source))
    if bucket == ReviewItem.Bucket.UNANIMOUS:
        save(sentence, second, claim_label(source=source))
    elif bucket == ReviewItem.Bucket.DISAGREEMENT:
        save(sentence, second, no_claim_label())
    item = ReviewItem.objects.get(pk=sentence.pk)
    assert item.bucket == bucket
    return backdate(sentence, when) if when is not None else item


def queue_ids(filters=None, *, size: int = selectors.REVIEW_PAGE_SIZE) -> list[int]:
    """Every sentence id of the queue, page after page through the keyset cursor."""
    filters = filters or selectors.ReviewFilters(state="all")
    ids, cursor = [], ""
    for _ in range(10_000):
        items, cursor = selectors.review_queue(filters=filters, after=cursor, size=size)
        assert len(items) <= size
        ids += [item.sentence_id for item in items]
        if not cursor:
            return ids
    raise AssertionError("the queue never ended")


def expected_order(queryset=None) -> list[int]:
    """The queue order computed in Python from the stored rows (the specification)."""
    rows = (queryset if queryset is not None else ReviewItem.objects.all()).values_list(
        "bucket", "first_annotated_at", "sentence_id"
    )
    return [sentence_id for *_, sentence_id in sorted(rows)]


def accept_first(sentence: Sentence, editor: User, *, expected_version: int = 0):
    """The editor accepts the sentence's first annotation (by annotator username)."""
    annotation = (
        Annotation.objects.filter(sentence=sentence).order_by("annotator__username").first()
    )
    return services.gold_label_accept(
        annotation=annotation, editor=editor, expected_version=expected_version
    )


def now() -> datetime.datetime:
    return timezone.now()


def gold_post(
    sentence: Sentence,
    *,
    version: int = 0,
    status_code: str = "unverified",
    source: str = "",
    comment: str = "x",
    claims: list[dict] | None = None,
    is_claim: str = "yes",
) -> dict:
    """POST data for the review page's correction form: the label, its claims formset (one
    claim over the whole sentence unless `claims` are given: dicts of body offsets and
    fields, as in the form) and the comment."""
    if claims is None:
        claims = [{"content_start": sentence.start, "content_end": sentence.end}]
    data = {
        "is_claim": is_claim,
        "version": str(version),
        "comment": comment,
        "claims-TOTAL_FORMS": str(len(claims)),
        "claims-INITIAL_FORMS": "0",
        "claims-MIN_NUM_FORMS": "0",
        "claims-MAX_NUM_FORMS": "20",
    }
    for i, claim in enumerate(claims):
        fields = {"attribution_type": "paraphrase", "status": status_code, "source": source}
        fields.update(claim)
        data.update({f"claims-{i}-{k}": "" if v is None else str(v) for k, v in fields.items()})
    return data
