"""The review side's services and selectors: queue rows, filters, paging, adjudication, history."""

import importlib
import re
import threading

import pytest
from django.apps import apps as django_apps
from django.core.exceptions import ValidationError
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from claims import selectors, services
from claims.models import (
    Annotation,
    AnnotationEvent,
    Article,
    GoldLabel,
    ReviewItem,
    SendBack,
    SendBackResponse,
    Sentence,
    VerificationStatus,
)
from tests.conftest import make_user
from tests.factories_review import (
    accept_first,
    at,
    expected_order,
    make_item,
    queue_ids,
)
from tests.factories_workspace import (
    annotatable,
    claim_label,
    make_annotators,
    make_article,
    no_claim_label,
    numbered_body,
    save,
    status,
)

DISAGREEMENT, SINGLE, UNANIMOUS = ReviewItem.Bucket.values
ALL = selectors.ReviewFilters(state="all")


@pytest.fixture
def pair(db):
    return make_annotators("a1", "a2")


@pytest.fixture
def article(db):
    return make_article(6)


@pytest.fixture
def sentences(article):
    return annotatable(article)


@pytest.fixture
def sentence(sentences):
    return sentences[0]


@pytest.fixture
def kyiv(db):
    return services.source_upsert(name="Kyiv city administration", kind="government")


@pytest.fixture
def moscow(db):
    return services.source_upsert(name="Moscow mayor's office", kind="government")


def item(sentence) -> ReviewItem:
    return ReviewItem.objects.get(pk=sentence.pk)


# --- review_item_refresh: buckets and first_annotated_at ----------------------------------


def test_one_annotation_is_a_single_open_row(sentence, pair):
    save(sentence, pair[0], claim_label())

    row = item(sentence)
    assert (row.bucket, row.annotation_count, row.state) == (SINGLE, 1, "open")
    assert row.article_id == sentence.article_id


def test_two_agreeing_annotations_are_unanimous(sentence, pair, kyiv):
    save(sentence, pair[0], claim_label(source=kyiv))
    save(sentence, pair[1], claim_label(source=kyiv))

    row = item(sentence)
    assert (row.bucket, row.annotation_count) == (UNANIMOUS, 2)


def test_two_agreeing_non_claims_are_unanimous(sentence, pair):
    save(sentence, pair[0], no_claim_label())
    save(sentence, pair[1], no_claim_label())

    assert item(sentence).bucket == UNANIMOUS


@pytest.mark.parametrize(
    "first, second",
    [
        pytest.param({}, {"claim": False}, id="claim"),
        pytest.param({"source": "kyiv"}, {"source": "moscow"}, id="source"),
        pytest.param({"source": "kyiv"}, {"source": None}, id="source-vs-none"),
        pytest.param({"status": "unverified"}, {"status": "verified"}, id="status"),
    ],
)
def test_differing_on_claim_source_or_status_is_a_disagreement(
    sentence, pair, kyiv, moscow, first, second
):
    sources = {"kyiv": kyiv, "moscow": moscow, None: None}

    def label(spec):
        if spec.get("claim") is False:
            return no_claim_label()
        return claim_label(
            source=sources[spec.get("source")], status_code=spec.get("status", "unverified")
        )

    save(sentence, pair[0], label(first))
    save(sentence, pair[1], label(second))

    assert item(sentence).bucket == DISAGREEMENT


@pytest.mark.parametrize(
    "second",
    [
        pytest.param({"note": "I am not sure"}, id="note"),
        pytest.param({"evidence_url": "https://example.org/a"}, id="evidence"),
    ],
)
def test_differing_only_on_note_or_evidence_is_unanimous(sentence, pair, kyiv, second):
    save(sentence, pair[0], claim_label(source=kyiv, attribution_type="paraphrase"))
    other = {"attribution_type": "paraphrase", **second}
    save(sentence, pair[1], claim_label(source=kyiv, **other))

    assert item(sentence).bucket == UNANIMOUS


@pytest.mark.parametrize(
    ("second", "bucket"),
    [
        pytest.param({"attribution_type": "direct_quote"}, DISAGREEMENT, id="attribution-type"),
        pytest.param({"span_start": 0, "span_end": 8}, DISAGREEMENT, id="content-span"),
    ],
)
def test_claims_compare_attribution_type_and_spans(sentence, pair, kyiv, second, bucket):
    """Claim by claim (claims.spans): the type and the content span count, not only the
    source and status as before spans."""
    save(sentence, pair[0], claim_label(source=kyiv, attribution_type="paraphrase"))
    other = {"attribution_type": "paraphrase", **second}
    save(sentence, pair[1], claim_label(source=kyiv, **other))

    assert item(sentence).bucket == bucket


def _claim(sentence, start, end, *, source=None, status=None, **spans):
    return {
        "content_start": sentence.start + start,
        "content_end": sentence.start + end,
        "source_id": source.pk if source else None,
        "attribution_type": "paraphrase",
        "status_id": (status or VerificationStatus.objects.get(code="unverified")).pk,
        **{k: sentence.start + v for k, v in spans.items()},
    }


def test_two_claims_each_matched_are_unanimous_within_the_tolerance(sentence, pair, kyiv):
    """Two claims in one sentence, found by both annotators in another order and with spans a
    character or two apart (a quotation mark more or less): the same label."""
    first = [_claim(sentence, 0, 10, source=kyiv), _claim(sentence, 12, 20)]
    second = [_claim(sentence, 13, 20), _claim(sentence, 1, 9, source=kyiv)]
    save(sentence, pair[0], {"is_claim": True, "claims": first})
    save(sentence, pair[1], {"is_claim": True, "claims": second})

    assert item(sentence).bucket == UNANIMOUS


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"content_end": 17}, id="content-beyond-tolerance"),
        pytest.param({"cue_start": 12, "cue_end": 14}, id="cue-only-one-side"),
        pytest.param({"source_id": None}, id="unattributed"),
    ],
)
def test_one_claim_differing_is_a_disagreement(sentence, pair, kyiv, change):
    claims = [_claim(sentence, 0, 10, source=kyiv), _claim(sentence, 12, 20, source=kyiv)]
    changed = [
        claims[0],
        {
            **claims[1],
            **{
                k: v if v is None or k == "source_id" else sentence.start + v
                for k, v in change.items()
            },
        },
    ]
    save(sentence, pair[0], {"is_claim": True, "claims": claims})
    save(sentence, pair[1], {"is_claim": True, "claims": changed})

    assert item(sentence).bucket == DISAGREEMENT


def test_a_claim_found_by_one_annotator_only_is_a_disagreement(sentence, pair, kyiv):
    both = _claim(sentence, 0, 10, source=kyiv)
    save(sentence, pair[0], {"is_claim": True, "claims": [both]})
    save(sentence, pair[1], {"is_claim": True, "claims": [both, _claim(sentence, 12, 20)]})

    assert item(sentence).bucket == DISAGREEMENT


def test_a_changed_label_moves_the_row_between_buckets(sentence, pair):
    save(sentence, pair[0], claim_label())
    save(sentence, pair[1], no_claim_label())
    assert item(sentence).bucket == DISAGREEMENT

    save(sentence, pair[1], claim_label(), 1)

    assert item(sentence).bucket == UNANIMOUS


def test_first_annotated_at_is_the_earliest_annotation(sentence, pair):
    first = save(sentence, pair[0], claim_label())
    second = save(sentence, pair[1], claim_label())
    Annotation.objects.filter(pk=first.pk).update(created_at=at(50))
    Annotation.objects.filter(pk=second.pk).update(created_at=at(10))

    services.review_item_refresh(sentence_id=sentence.pk)

    assert item(sentence).first_annotated_at == at(10)


def test_undoing_the_only_annotation_removes_the_row(sentence, pair):
    save(sentence, pair[0], claim_label())
    assert ReviewItem.objects.filter(pk=sentence.pk).exists()

    services.annotation_undo(annotator=pair[0])

    assert not ReviewItem.objects.filter(pk=sentence.pk).exists()


def test_undoing_one_of_two_annotations_leaves_a_single(sentence, pair):
    save(sentence, pair[0], claim_label())
    save(sentence, pair[1], no_claim_label())

    services.annotation_undo(annotator=pair[1])

    row = item(sentence)
    assert (row.bucket, row.annotation_count) == (SINGLE, 1)


def test_refresh_without_annotations_is_a_no_op(sentence):
    services.review_item_refresh(sentence_id=sentence.pk)

    assert not ReviewItem.objects.exists()


def _send_back(sentence, pair, editor):
    save(sentence, pair[0], claim_label())
    save(sentence, pair[1], no_claim_label())
    services.sentence_send_back(sentence=sentence, editor=editor, comment="Is this a claim?")
    assert item(sentence).state == ReviewItem.State.SENT_BACK


def awaiting(user, article) -> set[int]:
    """The sentences whose send-back still waits for this annotator's answer."""
    return set(selectors.open_send_backs(user=user, article=article))


def test_one_annotator_answering_a_send_back_does_not_answer_for_the_others(
    article, sentence, pair, editor
):
    _send_back(sentence, pair, editor)
    # As the workspace loads it (selectors.sentence_for_edit: review selected).
    loaded = selectors.sentence_for_edit(user=pair[1], article=article, sentence_id=sentence.pk)

    save(loaded, pair[1], claim_label(), 1)

    row = item(sentence)
    assert (row.state, row.bucket) == (ReviewItem.State.SENT_BACK, UNANIMOUS)
    assert SendBack.objects.get().resolved_at is None
    assert awaiting(pair[1], article) == set()  # left a2's queue…
    assert awaiting(pair[0], article) == {sentence.pk}  # …not a1's
    assert (
        selectors.sentence_for_edit(
            user=pair[0], article=article, sentence_id=sentence.pk
        ).send_back
        == SendBack.objects.get()
    )


def test_a_send_back_resolves_when_every_annotator_has_answered(article, sentence, pair, editor):
    _send_back(sentence, pair, editor)

    save(Sentence.objects.get(pk=sentence.pk), pair[1], claim_label(), 1)  # changed
    save(Sentence.objects.get(pk=sentence.pk), pair[0], claim_label(), 1)  # confirmed

    assert item(sentence).state == ReviewItem.State.OPEN
    send_back = SendBack.objects.get()
    assert send_back.resolved_at is not None
    assert sorted(send_back.responses.values_list("annotator__username", "kind")) == [
        ("a1", "confirmed"),
        ("a2", "changed"),
    ]
    assert awaiting(pair[0], article) == awaiting(pair[1], article) == set()


def test_confirming_the_same_label_after_a_send_back_answers_it(article, sentence, pair, editor):
    _send_back(sentence, pair, editor)
    loaded = selectors.sentence_for_edit(user=pair[0], article=article, sentence_id=sentence.pk)
    events = AnnotationEvent.objects.count()

    save(loaded, pair[0], claim_label(), 1)  # the same label again: "I stand by it"
    save(loaded, pair[0], claim_label(), 1)  # twice: still one answer

    assert AnnotationEvent.objects.count() == events
    assert SendBack.objects.get().responses.get().kind == "confirmed"
    assert item(sentence).state == ReviewItem.State.SENT_BACK  # a2 has not answered yet
    assert awaiting(pair[0], article) == set()


def test_an_annotator_who_labels_during_a_send_back_answers_by_labelling(
    article, sentence, pair, editor
):
    _send_back(sentence, pair, editor)
    third = make_user("a3", "annotator")

    save(Sentence.objects.get(pk=sentence.pk), third, claim_label())
    save(Sentence.objects.get(pk=sentence.pk), pair[0], claim_label(), 1)
    assert SendBack.objects.get().resolved_at is None
    save(Sentence.objects.get(pk=sentence.pk), pair[1], claim_label(), 1)

    assert SendBack.objects.get().resolved_at is not None
    assert item(sentence).state == ReviewItem.State.OPEN


def test_the_history_shows_who_answered_a_send_back(sentence, pair, editor):
    _send_back(sentence, pair, editor)
    save(Sentence.objects.get(pk=sentence.pk), pair[0], claim_label(), 1)

    entry = next(e for e in selectors.sentence_history(sentence=sentence) if e.what == "sent back")

    assert entry.detail == "“Is this a claim?”; answered: a1 confirmed the label"


def test_the_data_migration_carries_answers_of_earlier_send_backs_over(sentence, pair, editor):
    """0008 records, for send-backs made before answers were per annotator, the annotators
    whose label changes fall inside them."""
    migration = importlib.import_module("claims.migrations.0008_sendback_responses")
    _send_back(sentence, pair, editor)
    save(Sentence.objects.get(pk=sentence.pk), pair[1], claim_label(), 1)
    SendBackResponse.objects.all().delete()  # as before the migration
    SendBack.objects.update(resolved_at=timezone.now())

    migration.carry_over(django_apps, None)

    response = SendBackResponse.objects.get()
    assert (response.annotator, response.kind) == (pair[1], "changed")


def test_undoing_the_last_unanswered_label_resolves_the_send_back(article, sentence, pair, editor):
    save(sentence, pair[0], claim_label())
    other = make_user("a3", "annotator")
    save(sentence, other, claim_label())
    save(sentence, pair[1], no_claim_label())  # a2's first label: undoable
    services.sentence_send_back(sentence=sentence, editor=editor, comment="Look again")
    save(Sentence.objects.get(pk=sentence.pk), pair[0], claim_label(), 1)
    save(Sentence.objects.get(pk=sentence.pk), other, claim_label(), 1)

    services.annotation_undo(annotator=pair[1])  # a2 withdraws the label instead

    assert SendBack.objects.get().resolved_at is not None
    row = item(sentence)
    assert (row.state, row.bucket, row.annotation_count) == ("open", UNANIMOUS, 2)


def test_a_reviewed_item_stays_reviewed_when_an_annotator_changes_the_label(
    sentence, pair, editor
):
    save(sentence, pair[0], claim_label())
    accept_first(sentence, editor)

    save(sentence, pair[0], no_claim_label(), 1)

    assert item(sentence).state == ReviewItem.State.REVIEWED


# --- queue order ---------------------------------------------------------------------------


def test_queue_orders_disagreements_then_single_then_unanimous_each_oldest_first(sentences, pair):
    # (bucket, seconds after T0) per sentence, deliberately not in the expected order.
    plan = [
        (UNANIMOUS, 5),
        (SINGLE, 30),
        (DISAGREEMENT, 40),
        (UNANIMOUS, 1),
        (DISAGREEMENT, 2),
        (SINGLE, 10),
    ]
    for s, (bucket, seconds) in zip(sentences, plan, strict=True):
        make_item(s, bucket, pair, when=at(seconds))

    items, cursor = selectors.review_queue(filters=ALL)

    got = [(i.bucket, i.first_annotated_at) for i in items]
    assert got == sorted((bucket, at(seconds)) for bucket, seconds in plan)
    assert [i.bucket for i in items] == [0, 0, 1, 1, 2, 2]
    assert cursor == ""


def test_queue_ties_in_time_are_ordered_by_sentence(sentences, pair):
    for s in reversed(sentences):
        make_item(s, SINGLE, pair, when=at(0))

    items, _ = selectors.review_queue(filters=ALL)

    assert [i.sentence_id for i in items] == sorted(s.pk for s in sentences)


def test_queue_items_carry_everything_the_page_shows(sentences, pair, kyiv, editor):
    make_item(sentences[0], DISAGREEMENT, pair)
    save(sentences[1], pair[0], claim_label(source=kyiv))
    accept_first(sentences[1], editor)

    items, _ = selectors.review_queue(filters=ALL)

    with CaptureQueriesContext(connection) as queries:
        for row in items:
            s = row.sentence
            _ = (s.article.title, s.suggested_source, getattr(s, "gold", None))
            for label in s.annotations.all():
                _ = (label.annotator.username, label.source, label.status)
            gold = getattr(s, "gold", None)
            if gold:
                _ = (gold.source, gold.status)
    assert queries.captured_queries == []


# --- filters -------------------------------------------------------------------------------


@pytest.fixture
def world(db, pair, editor, kyiv, moscow):
    """Two articles in two outlets, rows in every state; returns names -> ids."""
    a1, a2 = pair
    art1 = make_article(body=numbered_body(4, tag="alpha"))
    art2 = make_article(body=numbered_body(2, tag="beta"))
    Article.objects.filter(pk=art1.pk).update(outlet="Kyiv Post")
    Article.objects.filter(pk=art2.pk).update(outlet="Daily Planet")
    s = annotatable(art1)
    t = annotatable(art2)
    # s0: unanimous on kyiv, open
    save(s[0], a1, claim_label(source=kyiv))
    save(s[0], a2, claim_label(source=kyiv))
    # s1: single "verified", open
    save(s[1], a1, claim_label(status_code="verified"))
    # s2: disagreement, corrected by the editor to moscow: only the gold names moscow
    save(s[2], a1, claim_label())
    save(s[2], a2, no_claim_label())
    services.gold_label_set(
        sentence=s[2], editor=editor, label=claim_label(source=moscow), expected_version=0
    )
    # s3: single on moscow, sent back
    save(s[3], a2, claim_label(source=moscow))
    services.sentence_send_back(sentence=s[3], editor=editor, comment="Who says so?")
    # t0: single non-claim; t1: single on kyiv
    save(t[0], a2, no_claim_label())
    save(t[1], a1, claim_label(source=kyiv))
    names = {f"s{i}": x.pk for i, x in enumerate(s)} | {f"t{i}": x.pk for i, x in enumerate(t)}
    refs = {
        "art1": art1.pk,
        "art2": art2.pk,
        "kyiv": kyiv.pk,
        "moscow": moscow.pk,
        "a1": a1.pk,
        "a2": a2.pk,
    }
    return names, refs


FILTER_CASES = [
    pytest.param({"state": "all"}, "s0 s1 s2 s3 t0 t1", id="all"),
    pytest.param({"state": "open"}, "s0 s1 t0 t1", id="state-open"),
    pytest.param({"state": "sent_back"}, "s3", id="state-sent-back"),
    pytest.param({"state": "reviewed"}, "s2", id="state-reviewed"),
    pytest.param({"state": "all", "article": "@art1"}, "s0 s1 s2 s3", id="article"),
    pytest.param({"state": "all", "article": "@art2"}, "t0 t1", id="article-2"),
    pytest.param({"state": "all", "outlet": "Kyiv Post"}, "s0 s1 s2 s3", id="outlet"),
    pytest.param({"state": "all", "outlet": "Nowhere"}, "", id="outlet-unknown"),
    pytest.param({"state": "all", "source": "@kyiv"}, "s0 t1", id="source-annotation"),
    pytest.param({"state": "all", "source": "@moscow"}, "s2 s3", id="source-gold-or-annotation"),
    pytest.param({"state": "all", "status": "verified"}, "s1", id="status"),
    pytest.param({"state": "all", "status": "unverified"}, "s0 s2 s3 t1", id="status-2"),
    pytest.param({"state": "all", "status": "no-such-status"}, "", id="status-unknown"),
    pytest.param({"state": "all", "annotator": "@a1"}, "s0 s1 s2 t1", id="annotator"),
    pytest.param({"state": "all", "annotator": "@a2"}, "s0 s2 s3 t0", id="annotator-2"),
    pytest.param({"state": "all", "q": "number 2 of alpha"}, "s1", id="text"),
    pytest.param({"state": "all", "q": "ALPHA"}, "s0 s1 s2 s3", id="text-any-case"),
    pytest.param(
        {"state": "open", "article": "@art1", "annotator": "@a1"}, "s0 s1", id="combined"
    ),
]


@pytest.mark.parametrize("kwargs, expected", FILTER_CASES)
def test_review_filters(world, kwargs, expected):
    names, refs = world
    filters = selectors.ReviewFilters(
        **{k: refs[v[1:]] if str(v).startswith("@") else v for k, v in kwargs.items()}
    )

    got = queue_ids(filters)

    assert sorted(got) == sorted(names[n] for n in expected.split())
    assert got == expected_order(ReviewItem.objects.filter(pk__in=got))


def test_review_state_counts_follow_every_filter_but_the_state(world):
    _, refs = world

    counts = selectors.review_state_counts(
        filters=selectors.ReviewFilters(state="reviewed", article=refs["art1"])
    )

    assert counts == {"open": 2, "sent_back": 1, "reviewed": 1, "all": 4}


def _queue_sentence_ids(html: str) -> set[int]:
    return {int(x) for x in re.findall(r'href="/review/(\d+)/\?', html)}


@pytest.mark.parametrize(
    "query",
    [
        "state=bogus",
        "state=ALL",
        "article=abc",
        "article=0",
        "source=-3",
        "annotator=1.5",
        "status=not a slug!",
        "status=%27%3B DROP TABLE claims_reviewitem;--",
        "q=" + "x" * 500,
        "after=%01%02",  # (NUL itself is refused with 400 by a middleware: test_hostile_input)
        "after=" + "9" * 200,
    ],
)
def test_an_invalid_filter_value_through_the_view_is_ignored(client, world, editor, query):
    names, _ = world
    client.force_login(editor)

    response = client.get(f"{reverse('claims:review_queue')}?{query}")

    assert response.status_code == 200
    # the value is ignored: the default (open) queue, from its first page
    assert _queue_sentence_ids(response.content.decode()) == {
        names[n] for n in ("s0", "s1", "t0", "t1")
    }
    assert ReviewItem.objects.count() == 6


@pytest.mark.parametrize(
    "query",
    [
        "state=all&sentence__text__regex=.*",
        "state=all&article__title=x&order_by=-pk",
        "state=all&bucket=9&__class__=x",
    ],
)
def test_unknown_filter_keys_are_ignored_and_known_ones_still_apply(client, world, editor, query):
    names, _ = world
    client.force_login(editor)

    response = client.get(f"{reverse('claims:review_queue')}?{query}")

    assert response.status_code == 200
    assert _queue_sentence_ids(response.content.decode()) == set(names.values())


@pytest.mark.parametrize("key", ["article", "source", "annotator"])
def test_an_out_of_range_id_filter_through_the_view_is_ignored(client, world, editor, key):
    client.force_login(editor)

    response = client.get(f"{reverse('claims:review_queue')}?{key}=99999999999999999999999")

    assert response.status_code == 200


def test_an_invalid_value_drops_only_its_own_filter(client, world, editor):
    names, refs = world
    client.force_login(editor)

    response = client.get(
        f"{reverse('claims:review_queue')}?state=all&article={refs['art2']}&status=bad slug!"
    )

    assert _queue_sentence_ids(response.content.decode()) == {names["t0"], names["t1"]}


# --- keyset pagination ---------------------------------------------------------------------


@pytest.fixture
def sixty(db, pair):
    """60 rows over the three buckets, 4 to a (bucket, first_annotated_at): many ties."""
    article = make_article(60)
    sentences = annotatable(article)
    assert len(sentences) == 60
    for i, s in enumerate(sentences):
        # whole seconds and fractions of one, so that cursors must round-trip microseconds
        when = at((0, 0.123457, 0.999999, 1, 2.5)[i % 5])
        make_item(s, (DISAGREEMENT, SINGLE, UNANIMOUS)[i % 3], pair, when=when)
    return article


@pytest.mark.parametrize("size", [1, 7, 25, 59, 60, 61])
def test_keyset_pages_concatenate_to_the_whole_queue(sixty, size):
    expected = expected_order()
    assert len(expected) == 60
    assert len({(i.bucket, i.first_annotated_at) for i in ReviewItem.objects.all()}) == 15

    got = queue_ids(ALL, size=size)

    assert got == expected
    assert len(set(got)) == len(got)


@pytest.mark.parametrize("size", [4, 25])
def test_keyset_pages_with_a_filter(sixty, pair, size):
    # make a third of them reviewed: the open queue skips them on every page
    for row in ReviewItem.objects.filter(bucket=SINGLE):
        accept_first(row.sentence, make_user("ed-" + str(row.pk), "editor"))
    filters = selectors.ReviewFilters(state="open", article=sixty.pk)

    got = queue_ids(filters, size=size)

    assert got == expected_order(ReviewItem.objects.filter(state="open"))
    assert len(got) == 40


def test_cursor_round_trips(sixty):
    for row in ReviewItem.objects.all():
        assert selectors.decode_cursor(selectors.encode_cursor(row)) == (
            row.bucket,
            row.first_annotated_at,
            row.sentence_id,
        )


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "1_2",
        "a_b_c",
        "1_2_3_4",
        "0_nan_1",
        "0_inf_1",
        "1_1e400_3",
        "0_-1e15_1",
        "x" * 80,
    ],
)
def test_a_garbage_cursor_is_the_first_page(sixty, cursor):
    first, _ = selectors.review_queue(filters=ALL, size=10)

    items, _ = selectors.review_queue(filters=ALL, after=cursor, size=10)

    assert [i.pk for i in items] == [i.pk for i in first]


def test_a_cursor_with_an_out_of_range_id_does_not_crash(sixty):
    # (bucket 0, T0, beyond any id): every row after the disagreements made at T0
    after = f"0_{at(0).timestamp():.6f}_99999999999999999999999"

    items, _ = selectors.review_queue(filters=ALL, after=after, size=100)

    # Either reading is fine (a position past every id, or a cursor refused: the first
    # page); a crash is not.
    beyond = expected_order(
        ReviewItem.objects.exclude(bucket=DISAGREEMENT, first_annotated_at=at(0))
    )
    assert [i.pk for i in items] in (beyond, expected_order())


# --- adjudication --------------------------------------------------------------------------


def test_accept_makes_the_annotation_gold(sentence, pair, editor, kyiv):
    save(sentence, pair[0], claim_label(source=kyiv, status_code="verified"))
    chosen = save(sentence, pair[1], no_claim_label())
    services.sentence_send_back(sentence=sentence, editor=editor, comment="Look again")

    gold = services.gold_label_accept(
        annotation=chosen, editor=editor, expected_version=0, comment=" fine "
    )

    gold.refresh_from_db()
    assert gold.origin == GoldLabel.Origin.ACCEPTED
    assert (gold.editor, gold.accepted_annotation, gold.version) == (editor, chosen, 1)
    assert (gold.is_claim, gold.source_id, gold.status_id) == (False, None, None)
    assert gold.comment == "fine"
    assert item(sentence).state == ReviewItem.State.REVIEWED
    assert SendBack.objects.get().resolved_at is not None
    assert not SendBack.objects.filter(resolved_at=None).exists()


def test_accept_copies_the_claim_fields(sentence, pair, editor, kyiv):
    chosen = save(
        sentence,
        pair[0],
        claim_label(source=kyiv, status_code="verified", span_start=0, span_end=8, note="n"),
    )

    gold = services.gold_label_accept(annotation=chosen, editor=editor, expected_version=0)

    assert (gold.is_claim, gold.source, gold.status.code) == (True, kyiv, "verified")
    assert (gold.attribution_type, gold.span_start, gold.span_end) == ("paraphrase", 0, 8)


def test_correct_records_the_editors_values_and_comment(sentence, pair, editor, moscow):
    save(sentence, pair[0], claim_label())
    save(sentence, pair[1], no_claim_label())

    gold = services.gold_label_set(
        sentence=sentence,
        editor=editor,
        label=claim_label(source=moscow, status_code="disputed", attribution_type="unnamed"),
        expected_version=0,
        comment="  The mayor's office said it.  ",
    )

    gold.refresh_from_db()
    assert gold.origin == GoldLabel.Origin.CORRECTED
    assert gold.accepted_annotation is None
    assert (gold.source, gold.status.code, gold.attribution_type) == (
        moscow,
        "disputed",
        "unnamed",
    )
    assert gold.comment == "The mayor's office said it."
    assert item(sentence).state == ReviewItem.State.REVIEWED


def test_correcting_an_accepted_gold_bumps_its_version(sentence, pair, editor):
    save(sentence, pair[0], claim_label())
    accept_first(sentence, editor)

    gold = services.gold_label_set(
        sentence=sentence, editor=editor, label=no_claim_label(), expected_version=1
    )

    assert (gold.version, gold.origin, gold.is_claim) == (2, "corrected", False)
    assert GoldLabel.objects.count() == 1


def test_correct_refuses_a_claim_without_status(sentence, pair, editor):
    save(sentence, pair[0], claim_label())

    with pytest.raises(ValidationError):
        services.gold_label_set(
            sentence=sentence,
            editor=editor,
            label=claim_label(status_id=None),
            expected_version=0,
        )
    assert not GoldLabel.objects.exists()


def test_send_back_opens_a_send_back(sentence, pair, editor):
    save(sentence, pair[0], claim_label())

    send_back = services.sentence_send_back(
        sentence=sentence, editor=editor, comment="  Who is the source?  "
    )

    assert (send_back.editor, send_back.comment, send_back.resolved_at) == (
        editor,
        "Who is the source?",
        None,
    )
    assert item(sentence).state == ReviewItem.State.SENT_BACK


def test_a_second_send_back_while_one_is_open_is_refused(sentence, pair, editor):
    save(sentence, pair[0], claim_label())
    services.sentence_send_back(sentence=sentence, editor=editor, comment="first")

    with pytest.raises(ValidationError, match="already sent back"):
        services.sentence_send_back(sentence=sentence, editor=editor, comment="second")
    assert SendBack.objects.count() == 1


def test_a_send_back_after_the_first_was_resolved_is_allowed(sentence, pair, editor):
    save(sentence, pair[0], claim_label())
    services.sentence_send_back(sentence=sentence, editor=editor, comment="first")
    accept_first(sentence, editor)

    services.sentence_send_back(sentence=sentence, editor=editor, comment="second")

    assert SendBack.objects.filter(resolved_at=None).get().comment == "second"


@pytest.mark.parametrize("comment", ["", "   ", "\n\t"])
def test_a_send_back_needs_a_comment(sentence, pair, editor, comment):
    save(sentence, pair[0], claim_label())

    with pytest.raises(ValidationError):
        services.sentence_send_back(sentence=sentence, editor=editor, comment=comment)
    assert not SendBack.objects.exists()
    assert item(sentence).state == ReviewItem.State.OPEN


@pytest.fixture
def bulk_world(db, pair, editor):
    """Article A: 3 open unanimous, 1 disagreement, 1 reviewed unanimous, 1 single, 1 sent-back
    unanimous; article B: 2 open unanimous."""
    art_a = make_article(7)
    art_b = make_article(2)
    a = annotatable(art_a)
    b = annotatable(art_b)
    for s in a[:3] + b:
        make_item(s, UNANIMOUS, pair)
    make_item(a[3], DISAGREEMENT, pair)
    make_item(a[4], UNANIMOUS, pair)
    accept_first(a[4], editor)
    make_item(a[5], SINGLE, pair)
    make_item(a[6], UNANIMOUS, pair)
    services.sentence_send_back(sentence=a[6], editor=editor, comment="again")
    return art_a, art_b, a, b


def test_bulk_accept_takes_exactly_the_open_unanimous_rows_of_the_article(bulk_world, editor):
    art_a, _, a, _ = bulk_world
    items = selectors.unanimous_open_items(filters=selectors.ReviewFilters(article=art_a.pk))
    assert items.count() == 3
    before = set(GoldLabel.objects.values_list("sentence_id", "version"))

    count = services.gold_labels_bulk_accept(items=items, editor=editor)

    assert count == 3
    new = set(GoldLabel.objects.values_list("sentence_id", "version")) - before
    assert new == {(s.pk, 1) for s in a[:3]}
    for gold in GoldLabel.objects.filter(sentence__in=a[:3]):
        assert gold.origin == "accepted" and gold.editor == editor
        assert gold.accepted_annotation.sentence_id == gold.sentence_id
        assert gold.is_claim and gold.status == status("unverified")
    states = dict(ReviewItem.objects.values_list("sentence_id", "state"))
    assert [states[s.pk] for s in a] == [
        "reviewed",
        "reviewed",
        "reviewed",
        "open",  # the disagreement
        "reviewed",  # was already
        "open",  # the single
        "sent_back",
    ]


def test_bulk_accept_without_filter_takes_every_article(bulk_world, editor):
    _, _, a, b = bulk_world
    items = selectors.unanimous_open_items(filters=selectors.ReviewFilters(state="reviewed"))

    count = services.gold_labels_bulk_accept(items=items, editor=editor)

    assert count == 5
    assert set(
        GoldLabel.objects.filter(editor=editor, version=1).values_list("sentence_id", flat=True)
    ) == {s.pk for s in [*a[:3], a[4], *b]}


def test_bulk_accept_twice_accepts_nothing_more(bulk_world, editor):
    items = selectors.unanimous_open_items(filters=selectors.ReviewFilters())
    services.gold_labels_bulk_accept(items=items, editor=editor)
    golds = GoldLabel.objects.count()

    assert services.gold_labels_bulk_accept(items=items, editor=editor) == 0
    assert GoldLabel.objects.count() == golds


def test_bulk_accept_count_matches_after_a_send_back_of_a_reviewed_sentence(
    article, sentence, pair, editor
):
    make_item(sentence, UNANIMOUS, pair)
    accept_first(sentence, editor)
    services.sentence_send_back(sentence=sentence, editor=editor, comment="Status?")
    for annotator in pair:
        loaded = selectors.sentence_for_edit(
            user=annotator, article=article, sentence_id=sentence.pk
        )
        save(loaded, annotator, claim_label(status_code="verified"), 1)
    items = selectors.unanimous_open_items(filters=selectors.ReviewFilters())
    promised = items.count()
    assert promised == 1

    accepted = services.gold_labels_bulk_accept(items=items, editor=editor)

    assert accepted == promised
    assert item(sentence).state == ReviewItem.State.REVIEWED


# --- concurrency ---------------------------------------------------------------------------


def test_a_stale_gold_version_is_a_conflict_carrying_the_winner(sentence, pair, editor):
    rival = make_user("ed2", "editor")
    save(sentence, pair[0], claim_label())
    winner = accept_first(sentence, rival)

    with pytest.raises(services.GoldConflict) as caught:
        services.gold_label_set(
            sentence=sentence, editor=editor, label=no_claim_label(), expected_version=0
        )

    assert caught.value.current.pk == winner.pk
    assert (caught.value.current.editor, caught.value.current.version) == (rival, 1)
    gold = GoldLabel.objects.get()
    assert (gold.is_claim, gold.editor, gold.version) == (True, rival, 1)
    assert gold.history.count() == 1


def test_a_stale_gold_version_on_accept_is_a_conflict_too(sentence, pair, editor):
    rival = make_user("ed2", "editor")
    save(sentence, pair[0], claim_label())
    other = save(sentence, pair[1], no_claim_label())
    services.gold_label_set(
        sentence=sentence, editor=rival, label=claim_label(), expected_version=0
    )
    services.gold_label_set(
        sentence=sentence, editor=rival, label=claim_label(), expected_version=1
    )

    with pytest.raises(services.GoldConflict) as caught:
        services.gold_label_accept(annotation=other, editor=editor, expected_version=1)

    assert caught.value.current.version == 2
    assert GoldLabel.objects.get().is_claim


def test_a_save_after_adjudication_is_saved_and_the_sentence_stays_adjudicated(
    sentence, pair, editor
):
    """The annotator is not told about the gold label (blind): their label is saved as usual
    (their own version check only); the sentence stays reviewed and the gold label stands,
    its history recording that the label it accepted changed."""
    save(sentence, pair[0], claim_label(note="mine"))
    gold = accept_first(sentence, editor)

    saved = save(Sentence.objects.get(pk=sentence.pk), pair[0], no_claim_label(), 1)

    assert (saved.is_claim, saved.version) == (False, 2)
    assert item(sentence).state == ReviewItem.State.REVIEWED
    gold.refresh_from_db()
    assert (gold.is_claim, gold.version, gold.accepted_annotation) == (True, 1, saved)
    latest = gold.history.order_by("-history_id").first()
    assert latest.history_user == pair[0]
    assert "accepted annotation changed by its annotator" in latest.history_change_reason
    assert gold.history.count() == 2


def test_a_first_label_after_adjudication_leaves_the_sentence_reviewed(sentence, pair, editor):
    save(sentence, pair[0], claim_label())
    accept_first(sentence, editor)

    save(Sentence.objects.get(pk=sentence.pk), pair[1], no_claim_label())

    row = item(sentence)
    assert (row.state, row.bucket, row.annotation_count) == ("reviewed", DISAGREEMENT, 2)
    assert GoldLabel.objects.get().history.count() == 1  # not the accepted label: no record


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks")
def test_two_editors_deciding_at_once_on_postgresql():
    """Two real connections race on the first gold label: one wins, the other is told."""
    editors = [make_user("race-ed1", "editor"), make_user("race-ed2", "editor")]
    annotator = make_user("race-ann", "annotator")
    target = annotatable(make_article(3))[1]
    save(target, annotator, claim_label())
    labels = [claim_label(), no_claim_label()]
    barrier = threading.Barrier(2)
    results: dict[int, object] = {}

    def decide(index: int) -> None:
        try:
            sentence = Sentence.objects.get(pk=target.pk)
            barrier.wait(timeout=10)
            results[index] = services.gold_label_set(
                sentence=sentence, editor=editors[index], label=labels[index], expected_version=0
            )
        except BaseException as error:  # reported by the main thread
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=decide, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)

    won = [i for i, r in results.items() if isinstance(r, GoldLabel)]
    lost = [i for i, r in results.items() if isinstance(r, services.GoldConflict)]
    assert (len(won), len(lost)) == (1, 1), results
    gold = GoldLabel.objects.get()
    assert gold.editor == editors[won[0]]
    assert gold.version == 1
    assert gold.is_claim == labels[won[0]]["is_claim"]
    loser = results[lost[0]]
    assert loser.current is not None and loser.current.pk == gold.pk
    assert gold.history.count() == 1
    assert ReviewItem.objects.get(pk=target.pk).state == ReviewItem.State.REVIEWED


# --- history -------------------------------------------------------------------------------


def test_annotation_create_update_undo_leave_events(sentence, pair, kyiv):
    save(sentence, pair[0], claim_label(source=kyiv))
    save(sentence, pair[0], no_claim_label(), 1)
    services.annotation_undo(annotator=pair[0])

    events = list(AnnotationEvent.objects.filter(sentence=sentence).order_by("id"))

    assert [(e.action, e.undone) for e in events] == [
        ("created", False),
        ("updated", True),
        ("undone", False),
    ]
    assert all(e.actor == pair[0] and e.annotator == pair[0] for e in events)
    assert events[0].before is None and events[0].after["claims"][0]["source_id"] == kyiv.pk
    assert events[1].before == events[0].after and events[1].after["is_claim"] is False
    assert (events[2].before, events[2].after) == (events[1].after, events[1].before)


def test_gold_label_create_and_update_are_in_its_history(sentence, pair, editor):
    rival = make_user("ed2", "editor")
    save(sentence, pair[0], claim_label())
    gold = accept_first(sentence, editor)
    services.gold_label_set(
        sentence=sentence,
        editor=rival,
        label=no_claim_label(),
        expected_version=1,
        comment="not a claim",
    )

    records = list(gold.history.order_by("history_date", "history_id"))

    assert [(r.history_type, r.version, r.origin) for r in records] == [
        ("+", 1, "accepted"),
        ("~", 2, "corrected"),
    ]
    assert [r.history_user for r in records] == [editor, rival]
    assert records[1].comment == "not a claim" and records[1].is_claim is False


def test_source_changes_are_in_its_history(db, editor):
    source = services.source_upsert(name="Kharkiv police", kind="emergency")
    services.source_upsert(name="Kharkiv police", kind="government", side="Ukraine")
    source.refresh_from_db()
    source.description = "Regional police"
    source._history_user = editor
    source.save()
    proposed = services.source_propose(
        name="Kharkiv mayor", kind="government", side="", proposed_by=editor
    )
    services.source_approve(source=proposed)

    records = list(source.history.order_by("history_date", "history_id"))
    assert [(r.history_type, r.kind, r.description) for r in records] == [
        ("+", "emergency", ""),
        ("~", "government", ""),
        ("~", "government", "Regional police"),
    ]
    assert records[-1].history_user == editor
    assert list(
        proposed.history.order_by("history_date", "history_id").values_list("status", flat=True)
    ) == ["pending", "active"]


def test_status_changes_are_in_its_history(db, editor):
    verified = VerificationStatus.objects.get(code="verified")
    before = verified.history.count()
    verified.guideline = "Confirmed by two independent sources."
    verified._history_user = editor
    verified.save()

    latest = verified.history.order_by("-history_date", "-history_id").first()
    assert verified.history.count() == before + 1
    assert (latest.history_type, latest.history_user) == ("~", editor)
    assert latest.guideline == "Confirmed by two independent sources."


def test_source_merge_repoints_annotations_and_gold_and_keeps_every_label(
    sentences, pair, editor, kyiv, moscow
):
    duplicate = services.source_upsert(name="Kyiv city admin", kind="government")
    save(sentences[0], pair[0], claim_label(source=kyiv))
    save(sentences[0], pair[1], claim_label(source=duplicate))
    save(sentences[1], pair[0], claim_label(source=duplicate))
    save(sentences[2], pair[0], claim_label(source=moscow))
    services.gold_label_set(
        sentence=sentences[1],
        editor=editor,
        label=claim_label(source=duplicate),
        expected_version=0,
    )
    services.gold_label_set(
        sentence=sentences[2],
        editor=editor,
        label=claim_label(source=duplicate),
        expected_version=0,
    )
    assert item(sentences[0]).bucket == DISAGREEMENT
    counts = (
        Annotation.objects.count(),
        GoldLabel.objects.count(),
        AnnotationEvent.objects.count(),
    )

    moved = services.source_merge(source=duplicate, into=kyiv)

    assert moved == 2
    assert (
        Annotation.objects.count(),
        GoldLabel.objects.count(),
        AnnotationEvent.objects.count(),
    ) == counts
    assert not Annotation.objects.filter(source=duplicate).exists()
    for gold in GoldLabel.objects.all():  # each gold label's history records the merge
        latest = gold.history.latest()
        assert (latest.source_id, latest.history_type) == (kyiv.pk, "~")
        assert latest.history_change_reason == "source 'Kyiv city admin' merged into " + repr(
            kyiv.name
        )
        assert gold.history.count() == 2
    assert not GoldLabel.objects.filter(source=duplicate).exists()
    assert Annotation.objects.filter(source=kyiv).count() == 3
    assert GoldLabel.objects.filter(source=kyiv).count() == 2
    assert Annotation.objects.filter(source=moscow).count() == 1
    assert item(sentences[0]).bucket == UNANIMOUS  # the merge made them agree
    duplicate.refresh_from_db()
    assert duplicate.merged_into == kyiv
    assert duplicate.history.order_by("-history_date").first().merged_into_id == kyiv.pk
    assert kyiv.aliases.filter(alias="Kyiv city admin").exists()


def test_sentence_history_lists_annotators_and_editor_in_time_order(sentence, pair, editor):
    save(sentence, pair[0], claim_label())
    save(sentence, pair[1], no_claim_label())
    save(sentence, pair[0], claim_label(status_code="verified"), 1)
    services.sentence_send_back(sentence=sentence, editor=editor, comment="Which status?")
    accept_first(sentence, editor)

    history = selectors.sentence_history(sentence=sentence)

    assert [(e.who, e.what) for e in history] == [
        ("ed", "gold label created (accepted)"),
        ("ed", "sent back"),
        ("a1", "annotation updated"),
        ("a2", "annotation created"),
        ("a1", "annotation created"),
    ]
    assert [e.at for e in history] == sorted((e.at for e in history), reverse=True)
    assert history[0].detail.startswith("claim: Verified")
    assert history[1].detail == "“Which status?” (resolved)"
    assert history[2].detail == "claim: Unverified, paraphrase → claim: Verified, paraphrase"
    assert history[3].detail == "no label → not a claim"


# --- query budget --------------------------------------------------------------------------

# An update from the workspace (the sentence loaded with its review row, as
# selectors.sentence_for_edit does): SAVEPOINT, the sentence lock (SELECT … FOR UPDATE, with
# then, in a statement of its own, the open send-back, the gold label's accepted annotation and
# the article's length), one read of the sentence's labels with their claims (a LEFT JOIN), the
# UPDATE, the DELETE of its claims and one INSERT of the new ones, INSERT (event), the
# review-row upsert, RELEASE = 10 (8 in production, BEGIN/COMMIT instead of the savepoint).
# The lock and its read serialize the writers of a sentence (issue 11, item 2); the read must
# follow the lock to see what the previous holder committed.
SAVE_UPDATE_QUERIES = 10


@pytest.mark.parametrize("length", [5, 200])
def test_annotation_update_in_review_stays_within_budget(
    db, pair, editor, django_assert_max_num_queries, length
):
    article = make_article(length)
    target = annotatable(article)[length // 2]
    save(target, pair[0], claim_label(note="one"))
    save(target, pair[1], claim_label(note="one"))
    accept_first(target, editor)
    loaded = selectors.sentence_for_edit(user=pair[0], article=article, sentence_id=target.pk)
    label = claim_label(note="two")

    # a2: not the label the editor accepted (changing that one also writes a record to the
    # gold label's history: three queries more, on a rare path).
    with django_assert_max_num_queries(SAVE_UPDATE_QUERIES):
        annotation = services.annotation_save(
            sentence=loaded, annotator=pair[1], label=label, expected_version=1
        )

    assert annotation.version == 2


def test_annotation_update_of_a_plain_sentence_costs_no_more_queries(db, pair):
    """The service reads what it needs of the sentence (open send-back, accepted label)
    under its lock, not from pre-selected relations: a plain sentence costs the same."""
    article = make_article(5)
    target = annotatable(article)[2]
    save(target, pair[0], claim_label(note="one"))
    plain = Sentence.objects.get(pk=target.pk)
    label = claim_label(note="two")

    with CaptureQueriesContext(connection) as queries:
        save(plain, pair[0], label, 1)

    assert len(queries.captured_queries) == SAVE_UPDATE_QUERIES
