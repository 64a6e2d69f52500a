"""Query budgets of the hot views: the count must not grow with the data.

Each test builds a small and a larger world and holds both to the same budget, the count
measured for the small one (SQLite and PostgreSQL alike). The budgets count the whole request:
the session, the user, the roles and permissions, then the view's own queries.

Already covered elsewhere, so not repeated here:
- the annotate page: tests/test_views_annotate.py,
  test_annotate_page_queries_do_not_grow_with_the_article (10 vs 200 sentences);
- the review queue's first page: tests/test_views_review.py,
  test_queue_page_queries_do_not_grow_with_data_or_page_size (10 vs 60 rows, page sizes);
- the export page and its htmx row count: tests/test_export.py,
  test_export_page_queries_do_not_grow_with_the_rows (10 vs 200 rows);
- annotation_save itself (the service): tests/test_workspace_services.py and
  tests/test_review_services.py (SAVE_UPDATE_QUERIES).

Timings are measured by bench/pages.py, never here.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from claims import selectors, services
from claims.models import Annotation, ReviewItem
from tests.factories_review import make_item
from tests.factories_workspace import (
    annotatable,
    assign,
    claim_fields,
    claim_label,
    label_post,
    make_annotators,
    make_article,
    no_claim_label,
    save,
)

HX = {"HX-Request": "true"}
SIZES = [5, 50]


@pytest.fixture
def pair(db):
    return make_annotators("a1", "a2")


# --- my queue (home for an annotator) ------------------------------------------------------

# Session, user, roles (read once: the view and the context processor share them), user and
# group permissions (the navigation's export link), the assignments with their done / total /
# sent-back counts as subqueries: 6.
MY_QUEUE_QUERIES = 6


@pytest.mark.parametrize("articles", SIZES)
def test_my_queue_queries_do_not_grow_with_the_assignments(
    client, pair, editor, django_assert_max_num_queries, articles
):
    ann, other = pair
    for i in range(articles):
        article = make_article(4)
        assign(article, ann, other)
        first, second = annotatable(article)[:2]
        save(first, ann, claim_label())
        save(first, other, no_claim_label())  # a disagreement
        if i % 2 == 0:
            save(second, ann, no_claim_label())
        if i % 3 == 0:
            services.sentence_send_back(sentence=first, editor=editor, comment="Which source?")
    client.force_login(ann)
    client.get(reverse("claims:home"))  # warm-up

    with django_assert_max_num_queries(MY_QUEUE_QUERIES):
        response = client.get(reverse("claims:home"))

    assert response.status_code == 200
    assert response.content.decode().count("/annotate/") >= articles


def _queue_world(annotator, other, *, assignments: int, sentences: int = 20) -> None:
    """Assigned articles whose every sentence the annotator labelled (not a claim), the other
    annotator one sentence in each: the labels grow with the assignments."""
    labels = []
    for _ in range(assignments):
        article = make_article(sentences)
        assign(article, annotator, other)
        labels += [
            Annotation(sentence=s, annotator=annotator, is_claim=False)
            for s in annotatable(article)
        ]
        labels.append(
            Annotation(sentence=annotatable(article)[0], annotator=other, is_claim=False)
        )
    Annotation.objects.bulk_create(labels)


def _queue_queries(client, user) -> int:
    client.force_login(user)
    client.get(reverse("claims:home"))  # warm-up
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("claims:home"))
    assert response.status_code == 200
    return len(queries)


def test_my_queue_costs_as_many_queries_for_one_assignment_as_for_five(client, db):
    small, large = make_annotators("s1", "s2"), make_annotators("l1", "l2")
    _queue_world(*small, assignments=1)
    _queue_world(*large, assignments=5)

    assert _queue_queries(client, small[0]) == _queue_queries(client, large[0]) == MY_QUEUE_QUERIES


def _sqlite_steps(fn) -> int:
    """SQLite virtual machine instructions (in hundreds) that fn makes the database run: the
    work of its queries, exact and the same on every machine."""
    steps = 0

    def tick():
        nonlocal steps
        steps += 1
        return 0

    connection.ensure_connection()
    connection.connection.set_progress_handler(tick, 100)
    try:
        fn()
    finally:
        connection.connection.set_progress_handler(None, 100)
    return steps


@pytest.mark.skipif(connection.vendor != "sqlite", reason="counts SQLite's instructions")
def test_my_queue_work_grows_with_the_assignments_not_with_their_square(db):
    """Each assignment's progress is read from its own article's sentences. Counted through the
    annotator's labels, each assignment read all of them: 4 times the assignments, 16 times the
    work."""
    small, large = make_annotators("s1", "s2"), make_annotators("l1", "l2")
    _queue_world(*small, assignments=5)
    _queue_world(*large, assignments=20)

    work_small = _sqlite_steps(lambda: selectors.annotator_queue(user=small[0]))
    work_large = _sqlite_steps(lambda: selectors.annotator_queue(user=large[0]))

    assert work_large < 6 * work_small, (work_small, work_large)


# --- the article list (home for editors and researchers) -----------------------------------

# Session, user, roles, permissions (2), the page of articles with sentence counts, the
# paginator's count: 7.
ARTICLE_LIST_QUERIES = 7


@pytest.mark.parametrize("articles", SIZES)
def test_article_list_queries_do_not_grow_with_the_articles(
    client, editor, django_assert_max_num_queries, articles
):
    for _ in range(articles):
        make_article(3)
    client.force_login(editor)
    client.get(reverse("claims:home"))

    with django_assert_max_num_queries(ARTICLE_LIST_QUERIES):
        response = client.get(reverse("claims:home"))

    assert response.status_code == 200


# --- saving a label (the htmx POST) --------------------------------------------------------

# The whole request, as measured (a test transaction: the service's atomic() is a SAVEPOINT):
# session, user; the sentence with its article, review row and gold label, joined to the
# user's assignment (one query for both); the active statuses (read once: the form validates
# against them and the editor shows them); the service: SAVEPOINT, the sentence lock (SELECT …
# FOR UPDATE), SELECT … FOR UPDATE of the label, INSERT or UPDATE, INSERT event, review-row
# upsert, RELEASE (and after the lock, the read of the open send-back and accepted annotation);
# then the next sentence to edit (one query: the next one this user has not
# labelled, so there is no label to read); progress. The saved label takes its source and
# status from the form; the navigation's role flags are lazy (no groups query for partials):
# 14. The sentence lock and its read are two queries more than before (issue 11, item 2: they
# serialize the writers of a sentence so that the review queue row is computed from committed
# labels).
# Issue 12: a label's claims are written in one INSERT however many there are (new: 15), and an
# update first deletes the label's previous claims (16). The count does not grow with the
# number of claims (test_save_three_claims_costs_what_one_costs).
# Issue 13: when the next sentence's suggestion names a new source (a speaker the taxonomy
# lacks, as in these worlds: "… was said by Kyiv"), one query looks it up among the sources
# the annotator can use, to offer it for proposal or select it once proposed (16, 17).
SAVE_NEW_QUERIES = 16
SAVE_UPDATE_QUERIES = 17


def test_save_when_the_rest_is_labelled_reads_the_next_label_too(
    client, pair, django_assert_max_num_queries
):
    """Past the last unlabelled sentence the editor moves to the next one with its label:
    one query more to find it, one for the label, one for its claims."""
    article, sentences = _save_world(6, pair)
    save(sentences[-1], pair[0], claim_label())
    client.force_login(pair[0])

    with django_assert_max_num_queries(SAVE_NEW_QUERIES + 3):
        response = client.post(
            _save_url(article, sentences[-2]), label_post(sentences[-2]), headers=HX
        )

    assert response.status_code == 200
    assert (
        f'id="editor" class="editor" data-sentence="{sentences[-1].pk}"'
        in response.content.decode()
    )


def _save_world(n: int, pair):
    """An article of n sentences assigned to pair[0], most of them labelled by both."""
    ann, other = pair
    article = make_article(n)
    assign(article, ann, other)
    sentences = annotatable(article)
    for sentence in sentences[: n - 2]:
        save(sentence, ann, claim_label())
        save(sentence, other, no_claim_label())
    return article, sentences


def _save_url(article, sentence) -> str:
    return reverse("claims:sentence_save", args=[article.pk, sentence.pk])


@pytest.mark.parametrize("length", SIZES)
def test_save_new_label_queries_do_not_grow_with_the_article(
    client, pair, django_assert_max_num_queries, length
):
    article, sentences = _save_world(length, pair)
    client.force_login(pair[0])
    client.get(reverse("claims:annotate", args=[article.pk]))  # warm-up

    with django_assert_max_num_queries(SAVE_NEW_QUERIES):
        response = client.post(
            _save_url(article, sentences[-2]), label_post(sentences[-2]), headers=HX
        )

    assert response.status_code == 200


@pytest.mark.parametrize("length", SIZES)
def test_save_update_queries_do_not_grow_with_the_article(
    client, pair, django_assert_max_num_queries, length
):
    article, sentences = _save_world(length, pair)
    client.force_login(pair[0])
    client.get(reverse("claims:annotate", args=[article.pk]))  # warm-up
    sentence = sentences[length // 2]
    data = label_post(sentence, version=1, note="changed")

    with django_assert_max_num_queries(SAVE_UPDATE_QUERIES):
        response = client.post(_save_url(article, sentence), data, headers=HX)

    assert response.status_code == 200


def test_save_three_claims_costs_what_one_costs(client, pair, django_assert_max_num_queries):
    article, sentences = _save_world(6, pair)
    sentence = sentences[-2]
    words = [(sentence.start, sentence.start + 8), (sentence.start + 9, sentence.end)]
    claims = [
        claim_fields(sentence),
        claim_fields(sentence, content=words[1], cue=words[0], status_code="disputed"),
        claim_fields(sentence, content=words[0], mention=words[1]),
    ]
    client.force_login(pair[0])

    with django_assert_max_num_queries(SAVE_NEW_QUERIES):
        response = client.post(
            _save_url(article, sentence), label_post(sentence, claims), headers=HX
        )

    assert response.status_code == 200
    assert response.content.decode().count('class="span-content') >= 2


# --- the review queue, a later page (keyset cursor) ----------------------------------------

# As the first page (tests/test_views_review.py, QUEUE_PAGE_QUERIES = 13): the cursor only
# adds a condition to the page's query.
QUEUE_LATER_PAGE_QUERIES = 13


@pytest.mark.parametrize("rows", [30, 120])
def test_later_queue_page_queries_do_not_grow_with_the_queue(
    client, pair, editor, django_assert_max_num_queries, rows
):
    for i, sentence in enumerate(annotatable(make_article(rows))):
        make_item(sentence, (0, 1, 2)[i % 3], pair)
    order = ("bucket", "first_annotated_at", "sentence_id")
    last = ReviewItem.objects.order_by(*order)[rows - 6]  # the last page holds 5 rows
    client.force_login(editor)
    client.get(reverse("claims:review_queue"))

    with django_assert_max_num_queries(QUEUE_LATER_PAGE_QUERIES):
        response = client.get(
            reverse("claims:review_queue"), {"after": selectors.encode_cursor(last)}
        )

    assert response.status_code == 200
