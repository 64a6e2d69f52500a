"""The review queue under real concurrency: many annotators saving first labels at once
(real PostgreSQL connections, one per thread), and bulk accept against a stale queue row."""

import threading

import pytest
from django.db import connection, connections
from django.db.models import Min

from claims import selectors, services
from claims.models import Annotation, GoldLabel, ReviewItem, Sentence
from claims.selectors import ReviewFilters
from tests.conftest import make_user
from tests.factories_workspace import (
    annotatable,
    claim_label,
    make_annotators,
    make_article,
    no_claim_label,
    save,
    status,
)


def postgres_concurrency(test):
    """Real connections in threads: committed data (transaction=True), PostgreSQL row locks."""
    for mark in (
        pytest.mark.postgres,
        pytest.mark.django_db(transaction=True, serialized_rollback=True),
        pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
    ):
        test = mark(test)
    return test


ANNOTATORS = 5
SENTENCES = 12
ROUNDS = 3


def expected_row(sentence_id: int) -> tuple | None:
    """What the queue row of a sentence must be, recomputed from its committed annotations."""
    annotations = list(Annotation.objects.filter(sentence_id=sentence_id))
    if not annotations:
        return None
    labels = {(a.is_claim, a.source_id, a.status_id) for a in annotations}
    if len(annotations) == 1:
        bucket = ReviewItem.Bucket.SINGLE
    elif len(labels) == 1:
        bucket = ReviewItem.Bucket.UNANIMOUS
    else:
        bucket = ReviewItem.Bucket.DISAGREEMENT
    first = Annotation.objects.filter(sentence_id=sentence_id).aggregate(m=Min("created_at"))["m"]
    return (bucket, len(annotations), first)


def wrong_rows(sentence_ids) -> list[tuple]:
    rows = {
        item.sentence_id: (item.bucket, item.annotation_count, item.first_annotated_at)
        for item in ReviewItem.objects.filter(sentence_id__in=sentence_ids)
    }
    return [
        (sid, rows.get(sid), expected_row(sid))
        for sid in sentence_ids
        if rows.get(sid) != expected_row(sid)
    ]


def run_at_once(jobs) -> list:
    """Run each job in its own thread (its own database connection), all released together
    by a barrier; returns what each raised, if anything."""
    barrier = threading.Barrier(len(jobs))
    errors: list = []

    def run(job) -> None:
        try:
            barrier.wait(timeout=30)
            job()
        except BaseException as error:  # reported by the main thread
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    return errors


@pytest.mark.parametrize("round_", range(ROUNDS))
@postgres_concurrency
def test_first_labels_saved_at_once_leave_every_queue_row_exact(round_):
    """Five annotators save the first labels of a dozen sentences at the same instant (one
    connection each); half the sentences get a dissenting label. Every queue row must equal a
    fresh recomputation from the annotations: no wrong row, no disagreement filed unanimous."""
    annotators = make_annotators(*(f"race{round_}-{i}" for i in range(ANNOTATORS)))
    sentences = annotatable(make_article(SENTENCES))
    dissent = {s.pk for s in sentences[::2]}

    def label_for(sentence, index):
        if sentence.pk in dissent and index == ANNOTATORS - 1:
            return no_claim_label()
        return claim_label()

    def annotator_job(index):
        def job():
            for sentence in sentences:
                fresh = Sentence.objects.select_related("review").get(pk=sentence.pk)
                save(fresh, annotators[index], label_for(sentence, index))

        return job

    # All annotators label sentence by sentence in the same order: each sentence is saved by
    # five connections at nearly the same instant.
    errors = run_at_once([annotator_job(i) for i in range(ANNOTATORS)])

    assert errors == []
    ids = [s.pk for s in sentences]
    assert Annotation.objects.filter(sentence_id__in=ids).count() == ANNOTATORS * SENTENCES
    wrong = wrong_rows(ids)
    assert wrong == [], f"{len(wrong)} of {len(ids)} queue rows wrong: {wrong}"
    unanimous = set(
        ReviewItem.objects.filter(
            sentence_id__in=ids, bucket=ReviewItem.Bucket.UNANIMOUS
        ).values_list("sentence_id", flat=True)
    )
    assert unanimous & dissent == set()


@postgres_concurrency
def test_bulk_accept_racing_a_dissenting_label_makes_no_gold_of_a_disagreement():
    """A dissenting label saved while bulk accept runs: either it lands first (no gold, the
    row says disagreement) or after (gold of the then-unanimous labels); never gold of a
    sentence whose annotations disagree at the end of the accept."""
    editor = make_user("race-bulk-ed", "editor")
    a, b, c = make_annotators("race-bulk-a", "race-bulk-b", "race-bulk-c")
    sentences = annotatable(make_article(SENTENCES))
    for sentence in sentences:
        save(sentence, a, claim_label())
        save(sentence, b, claim_label())

    def accept():
        services.gold_labels_bulk_accept(
            items=selectors.unanimous_open_items(filters=ReviewFilters()), editor=editor
        )

    def dissent():
        for sentence in sentences:
            save(Sentence.objects.get(pk=sentence.pk), c, no_claim_label())

    assert run_at_once([accept, dissent]) == []

    for gold in GoldLabel.objects.filter(sentence__in=sentences):
        annotations = Annotation.objects.filter(
            sentence=gold.sentence, created_at__lte=gold.created_at
        )
        assert {(x.is_claim, x.status_id) for x in annotations} == {(True, status().pk)}
    assert wrong_rows([s.pk for s in sentences]) == []


@pytest.mark.django_db
def test_bulk_accept_rechecks_unanimity_from_the_annotations(editor):
    """A queue row that says unanimous while the annotations disagree (a stale row, however it
    came about) is not made gold: bulk accept reads the labels themselves, and fixes the row."""
    a, b = make_annotators("stale-a", "stale-b")
    first, second = annotatable(make_article(3))[:2]
    for sentence in (first, second):
        save(sentence, a, claim_label())
        save(sentence, b, no_claim_label())
    ReviewItem.objects.filter(sentence=first).update(bucket=ReviewItem.Bucket.UNANIMOUS)
    save(second, b, claim_label(), 1)  # really unanimous now

    count = services.gold_labels_bulk_accept(
        items=selectors.unanimous_open_items(filters=ReviewFilters()), editor=editor
    )

    assert count == 1
    assert list(GoldLabel.objects.values_list("sentence_id", flat=True)) == [second.pk]
    row = ReviewItem.objects.get(sentence=first)
    assert (row.bucket, row.state) == (ReviewItem.Bucket.DISAGREEMENT, ReviewItem.State.OPEN)
