"""The review queue under real concurrency: many annotators saving first labels at once
(real PostgreSQL connections, one per thread), and bulk accept against a stale queue row."""

import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections, transaction
from django.db.models import Min

from claims import selectors, services
from claims.models import Annotation, GoldLabel, ReviewItem, SendBack, Sentence
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


def holder_then_waiter(holder, waiter, *, hold: float = 1.0) -> list[BaseException]:
    """Run `holder` (which keeps its transaction open for `hold` seconds) and, while it holds
    its locks, `waiter`, each on a connection of its own; return what they raised."""
    errors: list[BaseException] = []
    started = threading.Event()

    def run(job, wait_for_start: bool):
        try:
            if wait_for_start:
                started.wait(10)
            job(started)
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=run, args=(holder, False)),
        threading.Thread(target=run, args=(lambda _: (time.sleep(0.2), waiter()), True)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return errors


@postgres_concurrency
def test_two_editors_sending_back_at_once_make_one_send_back_and_no_error():
    first, second = make_user("sb-ed1", "editor"), make_user("sb-ed2", "editor")
    a, b = make_annotators("sb-a", "sb-b")
    sentence = annotatable(make_article(2))[0]
    save(sentence, a, claim_label())
    save(sentence, b, no_claim_label())

    def holder(started):
        with transaction.atomic():
            services.sentence_send_back(sentence=sentence, editor=first, comment="look again")
            started.set()
            time.sleep(1.0)

    errors = holder_then_waiter(
        holder,
        lambda: services.sentence_send_back(sentence=sentence, editor=second, comment="me too"),
    )

    # The second editor is told (a form message), never an IntegrityError (a 500).
    assert [type(e) for e in errors] == [ValidationError]
    assert SendBack.objects.filter(sentence=sentence).count() == 1


@postgres_concurrency
def test_a_label_changed_while_an_editor_accepts_it_is_recorded_in_the_gold_history():
    editor = make_user("acc-ed", "editor")
    a, b = make_annotators("acc-a", "acc-b")
    sentence = annotatable(make_article(2))[0]
    accepted = save(sentence, a, claim_label())
    save(sentence, b, claim_label())

    def holder(started):
        with transaction.atomic():
            services.gold_label_accept(
                annotation=accepted, editor=editor, expected_version=0, expected_label_version=1
            )
            started.set()
            time.sleep(1.0)

    errors = holder_then_waiter(
        holder, lambda: save(Sentence.objects.get(pk=sentence.pk), a, no_claim_label(), 1)
    )

    assert errors == []
    gold = GoldLabel.objects.get(sentence=sentence)
    assert gold.is_claim  # the accepted label as the editor saw it
    reasons = list(gold.history.values_list("history_change_reason", flat=True))
    assert any(reason and "after acceptance" in reason for reason in reasons), reasons


@postgres_concurrency
def test_an_accept_waiting_for_a_save_of_that_label_is_refused_not_applied_stale():
    editor = make_user("acc2-ed", "editor")
    a, b = make_annotators("acc2-a", "acc2-b")
    sentence = annotatable(make_article(2))[0]
    shown = save(sentence, a, claim_label())  # the editor's page shows version 1
    save(sentence, b, claim_label())

    def holder(started):
        with transaction.atomic():
            save(Sentence.objects.get(pk=sentence.pk), a, no_claim_label(), 1)
            started.set()
            time.sleep(1.0)

    def accept():
        services.gold_label_accept(
            annotation=shown, editor=editor, expected_version=0, expected_label_version=1
        )

    errors = holder_then_waiter(holder, accept)

    assert len(errors) == 1 and isinstance(errors[0], services.GoldConflict)
    assert errors[0].label_changed
    assert not GoldLabel.objects.filter(sentence=sentence).exists()
