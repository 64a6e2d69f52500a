"""The editors' pages through the test client: queue, adjudication, bulk accept, quality."""

import html as html_lib
import io
import re
from collections import defaultdict
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.template.defaultfilters import floatformat
from django.test import override_settings
from django.urls import reverse
from django.utils.html import escape

from claims import agreement, selectors, services
from claims.models import (
    Annotation,
    Article,
    Assignment,
    GoldLabel,
    ReviewItem,
    SendBack,
    Sentence,
    Source,
)
from tests.conftest import make_user
from tests.factories_review import T0, accept_first, gold_post, make_item
from tests.factories_workspace import (
    annotatable,
    assign,
    claim_fields_of,
    claim_label,
    label_post,
    make_annotators,
    make_article,
    no_claim_label,
    save,
)

HX = {"HX-Request": "true"}
DISAGREEMENT, SINGLE, UNANIMOUS = ReviewItem.Bucket.values
XSS = "<script>alert(1)</script>"


def text_of(response) -> str:
    return response.content.decode()


def queue_url(query: str = "") -> str:
    return reverse("claims:review_queue") + (f"?{query}" if query else "")


def detail_url(sentence_id: int) -> str:
    return reverse("claims:review_detail", args=[sentence_id])


def action_url(name: str, sentence_id: int) -> str:
    return reverse(f"claims:review_{name}", args=[sentence_id])


def queue_items(html: str) -> list[tuple[int, int]]:
    """(bucket, sentence id) of each queue row, in page order."""
    return [
        (int(bucket), int(sentence_id))
        for bucket, sentence_id in re.findall(
            r'<li class="review-item bucket-(\d)">.*?href="/review/(\d+)/', html, re.S
        )
    ]


def tab_counts(html: str) -> dict[str, int]:
    return {
        value: int(count)
        for value, count in re.findall(
            r'<input type="radio" name="state" value="(\w+)"[^>]*>[^<]*<span class="count">'
            r"(\d+)</span>",
            html,
        )
    }


def visible_text(fragment: str) -> str:
    return html_lib.unescape(re.sub(r"<[^>]+>", "", fragment))


@pytest.fixture
def demo(db):
    with override_settings(DEBUG=True):  # load_demo runs only in development
        call_command("load_demo", stdout=io.StringIO())
    english = Article.objects.order_by("pk").first()  # the English demo article, labelled
    Article.objects.exclude(pk=english.pk).delete()  # these tests read its queue alone
    return english


def demo_user(username: str) -> User:
    return User.objects.get(username=username)


@pytest.fixture
def editor_client(client, editor):
    client.force_login(editor)
    return client


@pytest.fixture
def pair(db):
    return make_annotators("a1", "a2")


@pytest.fixture
def small(db, pair):
    """One article with a disagreement and a unanimous row; returns its sentences."""
    sentences = annotatable(make_article(4, title="Small article"))
    make_item(sentences[0], DISAGREEMENT, pair)
    make_item(sentences[1], UNANIMOUS, pair)
    return sentences


# --- permissions ---------------------------------------------------------------------------


def _pages(sentence_id: int) -> list[tuple[str, str]]:
    return [
        ("get", queue_url()),
        ("get", detail_url(sentence_id)),
        ("get", reverse("claims:review_bulk_accept")),
        ("get", reverse("claims:quality")),
    ]


def _actions(sentence_id: int, annotation_id: int) -> list[tuple[str, str, dict]]:
    return [
        ("accept", action_url("accept", sentence_id), {"annotation": annotation_id, "version": 0}),
        ("correct", action_url("correct", sentence_id), gold_post(Sentence(start=0, end=3))),
        ("send_back", action_url("send_back", sentence_id), {"comment": "look again"}),
        ("bulk_accept", reverse("claims:review_bulk_accept"), {}),
    ]


def _nothing_decided() -> bool:
    return not GoldLabel.objects.exists() and not SendBack.objects.exists()


@pytest.mark.parametrize("role", ["annotator", "researcher"])
def test_annotators_and_researchers_get_403_on_every_review_page(client, small, role):
    client.force_login(make_user(f"someone-{role}", role))
    sentence = small[0]
    annotation = sentence.annotations.first()

    for _, url in _pages(sentence.pk):
        assert client.get(url).status_code == 403, url
    for name, url, data in _actions(sentence.pk, annotation.pk):
        assert client.post(url, data).status_code == 403, name
    assert _nothing_decided()


def test_anonymous_users_are_sent_to_the_login_page(client, small):
    sentence = small[0]
    annotation = sentence.annotations.first()
    login = reverse("login")

    for _, url in _pages(sentence.pk):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.url.startswith(f"{login}?next="), url
    for name, url, data in _actions(sentence.pk, annotation.pk):
        response = client.post(url, data)
        assert response.status_code == 302, name
        assert response.url.startswith(f"{login}?next="), name
    assert _nothing_decided()


@pytest.mark.parametrize("role", ["editor", "admin"])
def test_editors_and_superusers_may_use_every_review_page(client, small, role):
    client.force_login(make_user(f"someone-{role}", role))
    sentence = small[0]
    annotation = sentence.annotations.order_by("annotator__username").first()

    for _, url in _pages(sentence.pk):
        assert client.get(url).status_code == 200, url
    actions = [
        (action_url("send_back", sentence.pk), {"comment": "look again"}),
        (action_url("correct", sentence.pk), gold_post(sentence)),
        (action_url("accept", sentence.pk), {"annotation": annotation.pk, "version": 1}),
        (reverse("claims:review_bulk_accept"), {}),
    ]
    for url, data in actions:
        assert client.post(url, data).status_code == 302, url
    gold = GoldLabel.objects.get(sentence=sentence)
    assert (gold.version, gold.origin) == (2, "accepted")
    assert GoldLabel.objects.filter(sentence=small[1]).exists()  # the bulk accept


def test_review_actions_refuse_get(editor_client, small):
    for name in ("accept", "correct", "send_back"):
        assert editor_client.get(action_url(name, small[0].pk)).status_code == 405


def test_unknown_or_unannotatable_sentences_are_404(editor_client, small):
    credit = Sentence.objects.create(
        article=small[0].article, position=99, start=0, end=3, text="Sen", kind="credit"
    )
    assert editor_client.get(detail_url(999_999)).status_code == 404
    assert editor_client.get(detail_url(credit.pk)).status_code == 404


def test_accepting_an_annotation_of_another_sentence_is_404(editor_client, small):
    other = small[1].annotations.first()

    response = editor_client.post(
        action_url("accept", small[0].pk), {"annotation": other.pk, "version": 0}
    )

    assert response.status_code == 404
    assert not GoldLabel.objects.exists()


def test_accepting_a_non_numeric_annotation_is_404(editor_client, small):
    response = editor_client.post(
        action_url("accept", small[0].pk), {"annotation": "abc", "version": 0}
    )

    assert response.status_code == 404


# --- the queue page ------------------------------------------------------------------------


def test_queue_full_page_and_htmx_partial(client, demo):
    client.force_login(demo_user("editor"))

    full = text_of(client.get(queue_url()))
    partial = text_of(client.get(queue_url(), headers=HX))

    assert "<html" in full and 'id="review-list"' in full and 'id="review-filters"' in full
    assert 'id="review-list"' in partial
    assert "<html" not in partial and 'id="review-filters"' not in partial
    assert queue_items(partial) == queue_items(full)


def test_queue_on_the_demo_opens_on_a_disagreement_and_counts_each_state(client, demo):
    client.force_login(demo_user("editor"))
    first = ReviewItem.objects.filter(bucket=UNANIMOUS).first().sentence
    services.sentence_send_back(sentence=first, editor=demo_user("editor"), comment="Why?")
    second = ReviewItem.objects.filter(bucket=UNANIMOUS, state="open").first().sentence
    accept_first(second, demo_user("editor"))

    html = text_of(client.get(queue_url()))

    assert tab_counts(html) == {"open": 20, "sent_back": 1, "reviewed": 1, "all": 22}
    items = queue_items(html)
    assert items[0][0] == DISAGREEMENT
    assert [bucket for bucket, _ in items] == [0] * 4 + [2] * 16
    assert "Disagreement" in html.split('class="bucket-tag">', 1)[1][:20]


def test_queue_state_tab_shows_that_state(editor_client, small, editor):
    services.sentence_send_back(sentence=small[0], editor=editor, comment="Look")

    html = text_of(editor_client.get(queue_url("state=sent_back")))

    assert [sid for _, sid in queue_items(html)] == [small[0].pk]
    assert '<span class="badge">Sent back</span>' in html


def test_queue_shows_names_labels_suggestion_and_gold(editor_client, small, editor):
    accept_first(small[1], editor)

    html = text_of(editor_client.get(queue_url("state=all")))

    assert "<th>a1</th>" in html and "<th>a2</th>" in html
    assert "not a claim" in html and "Unverified" in html
    assert "<th>gold</th>" in html


def test_queue_outlet_filter_lists_each_outlet_once(editor_client, pair):
    for _ in range(3):
        sentence = annotatable(make_article(2))[0]
        Article.objects.filter(pk=sentence.article_id).update(outlet="Kyiv Post")
        make_item(sentence, SINGLE, pair)

    html = text_of(editor_client.get(queue_url()))

    select = re.search(r'<select name="outlet">(.*?)</select>', html, re.S).group(1)
    assert re.findall(r"<option[^>]*>([^<]*)</option>", select) == ["All", "Kyiv Post"]


def test_queue_outlet_filter_selects_the_outlet(editor_client, pair):
    sentences = [annotatable(make_article(2))[0] for _ in range(2)]
    Article.objects.filter(pk=sentences[0].article_id).update(outlet="Kyiv Post")
    Article.objects.filter(pk=sentences[1].article_id).update(outlet="Daily Planet")
    for sentence in sentences:
        make_item(sentence, SINGLE, pair)

    html = text_of(editor_client.get(queue_url("outlet=Daily+Planet")))

    assert [sid for _, sid in queue_items(html)] == [sentences[1].pk]
    assert "<option selected>Daily Planet</option>" in html


def _queue_budget_world(n: int, pair, editor) -> None:
    sentences = annotatable(make_article(n))
    for i, sentence in enumerate(sentences):
        make_item(sentence, (DISAGREEMENT, SINGLE, UNANIMOUS)[i % 3], pair)
        if i % 5 == 0:
            accept_first(sentence, editor)  # gold with source and status on the page


# Session, user, roles (context processor and decorator share one), the page of rows, its
# annotations (one prefetch), the state counts, the filter choices (articles, outlets,
# sources, statuses, annotators).
# +2 since the navigation shows the export link by permission (user and group permissions).
QUEUE_PAGE_QUERIES = 13


@pytest.mark.parametrize(
    "rows, page_size",
    [(10, selectors.REVIEW_PAGE_SIZE), (60, selectors.REVIEW_PAGE_SIZE), (60, 60)],
)
def test_queue_page_queries_do_not_grow_with_data_or_page_size(
    client, pair, editor, monkeypatch, django_assert_max_num_queries, rows, page_size
):
    _queue_budget_world(rows, pair, editor)
    defaults = selectors.review_queue.__kwdefaults__
    monkeypatch.setattr(selectors.review_queue, "__kwdefaults__", {**defaults, "size": page_size})
    client.force_login(editor)

    with django_assert_max_num_queries(QUEUE_PAGE_QUERIES):
        response = client.get(queue_url("state=all"))

    assert len(queue_items(text_of(response))) == min(rows, page_size)


def test_queue_next_page_without_filters(editor_client, pair):
    for sentence in annotatable(make_article(30)):
        make_item(sentence, SINGLE, pair)

    html = text_of(editor_client.get(queue_url()))
    link = re.search(r'<a href="\?([^"]*)" hx-get=[^>]*>Next page', html).group(1)
    second = text_of(editor_client.get(queue_url(html_lib.unescape(link))))

    first_ids = [sid for _, sid in queue_items(html)]
    second_ids = [sid for _, sid in queue_items(second)]
    assert len(first_ids) == selectors.REVIEW_PAGE_SIZE and len(second_ids) == 5
    assert not set(first_ids) & set(second_ids)
    assert "First page" in second


def test_queue_next_page_link_keeps_the_filters(editor_client, pair):
    for sentence in annotatable(make_article(30)):
        make_item(sentence, SINGLE, pair)

    html = text_of(editor_client.get(queue_url("state=open")))
    link = re.search(r'<a href="\?([^"]*)" hx-get=[^>]*>Next page', html).group(1)

    params = parse_qs(html_lib.unescape(link))
    assert params["state"] == ["open"]
    assert "after" in params


# --- the adjudicate page -------------------------------------------------------------------


def _demo_disagreement(position: int) -> Sentence:
    english = Article.objects.order_by("pk").first()  # the English demo article
    return Sentence.objects.get(article=english, position=position)


def test_adjudicate_page_shows_labels_suggestion_paragraph_and_history(client, demo):
    client.force_login(demo_user("editor"))
    sentence = _demo_disagreement(9)  # annotator2: a claim by the MoD; annotator3: not a claim

    html = text_of(client.get(detail_url(sentence.pk)))

    cards = re.findall(r'<form [^>]*class="label-card".*?</form>', html, re.S)
    assert len(cards) == 2
    by_name = {re.search(r"<h3>(.*?)</h3>", card).group(1): card for card in cards}
    assert set(by_name) == {"annotator2", "annotator3"}
    for annotation in sentence.annotations.select_related("annotator", "source", "status"):
        card = visible_text(by_name[annotation.annotator.username])
        if annotation.is_claim:
            assert annotation.status.label in card and annotation.source.name in card
        else:
            assert "not a claim" in card
    assert f"Suggested source: {sentence.suggested_source.name}" in visible_text(html)
    quote = re.search(r'<blockquote class="paragraph-context">(.*?)</blockquote>', html, re.S)
    line = next(line for line in demo.body.split("\n") if sentence.text in line)
    assert visible_text(quote.group(1)) == line
    assert f'<mark class="this">{escape(sentence.text)}</mark>' in quote.group(1)
    history = visible_text(re.search(r'<ol class="history-list">(.*?)</ol>', html, re.S)[1])
    assert "annotator2 annotation created" in history
    assert "annotator3 annotation created" in history


def _rows_of(html: str) -> list[tuple[str, int, int, str]]:
    """The correction form's sentence rows: (classes, start, end, text)."""
    context = re.search(r'<div class="gold-context"[^>]*>(.*?)</div>', html, re.S).group(1)
    return [
        (classes, int(start), int(end), visible_text(text))
        for classes, start, end, text in re.findall(
            r'<p class="sentence ([^"]*)" data-start="(\d+)" data-end="(\d+)">'
            r'<span class="text">(.*?)</span></p>',
            context,
            re.S,
        )
    ]


def test_the_correction_form_has_the_sentence_and_its_neighbours_as_rows(client, demo):
    """The word cursor of the correction form reaches into the sentences around it: each row
    holds exactly body[start:end], the reviewed sentence marked current."""
    client.force_login(demo_user("editor"))
    sentences = list(Sentence.objects.annotatable().order_by("position"))
    middle = sentences[3]

    rows = _rows_of(text_of(client.get(detail_url(middle.pk))))

    assert [(r[1], r[2]) for r in rows] == [
        (s.start, s.end) for s in (sentences[2], middle, sentences[4])
    ]
    assert [r[0] for r in rows] == ["neighbour", "gold-text current", "neighbour"]
    for _, start, end, text in rows:
        assert text == demo.body[start:end]
    assert 'id="gold-form" data-claim-form data-text-area=".gold-context"' in text_of(
        client.get(detail_url(middle.pk))
    )


def test_the_first_and_last_sentences_have_one_neighbour(client, demo):
    client.force_login(demo_user("editor"))
    sentences = list(Sentence.objects.annotatable().order_by("position"))

    first = _rows_of(text_of(client.get(detail_url(sentences[0].pk))))
    last = _rows_of(text_of(client.get(detail_url(sentences[-1].pk))))

    assert [r[0] for r in first] == ["gold-text current", "neighbour"]
    assert (first[1][1], first[1][2]) == (sentences[1].start, sentences[1].end)
    assert [r[0] for r in last] == ["neighbour", "gold-text current"]
    assert (last[0][1], last[0][2]) == (sentences[-2].start, sentences[-2].end)


def test_a_gold_claim_over_the_next_sentence_is_saved(client, demo):
    """The correction form takes a content span that runs into the next sentence, as the
    word cursor over the neighbour rows marks it, and a mention in the sentence before."""
    client.force_login(demo_user("editor"))
    sentences = list(Sentence.objects.annotatable().order_by("position"))
    before, sentence, after = sentences[2:5]
    post = gold_post(sentence, status_code="unverified")
    post.update(
        {
            "claims-0-content_start": sentence.start,
            "claims-0-content_end": after.end,
            "claims-0-mention_start": before.start,
            "claims-0-mention_end": before.start + 5,
        }
    )

    response = client.post(action_url("correct", sentence.pk), post)

    assert response.status_code == 302
    claim = GoldLabel.objects.get(sentence=sentence).claims.get()
    assert (claim.content_start, claim.content_end) == (sentence.start, after.end)
    assert (claim.mention_start, claim.mention_end) == (before.start, before.start + 5)


def test_accept_creates_gold_and_goes_to_the_next_queue_item(client, demo):
    editor = demo_user("editor")
    client.force_login(editor)
    queue, _ = selectors.review_queue(filters=selectors.ReviewFilters())
    first, following = queue[0].sentence, queue[1].sentence
    chosen = first.annotations.get(annotator__username="annotator3")

    response = client.post(action_url("accept", first.pk), {"annotation": chosen.pk, "version": 0})

    assert response.status_code == 302
    assert urlsplit(response.url).path == detail_url(following.pk)
    gold = GoldLabel.objects.get()
    assert (gold.sentence_id, gold.origin, gold.editor) == (first.pk, "accepted", editor)
    assert gold.accepted_annotation == chosen
    assert ReviewItem.objects.get(pk=first.pk).state == "reviewed"
    queue_after = text_of(client.get(queue_url()))
    assert first.pk not in [sid for _, sid in queue_items(queue_after)]


def test_accept_keeps_the_filters_in_the_redirect(client, demo):
    client.force_login(demo_user("editor"))
    unanimous = list(
        ReviewItem.objects.filter(bucket=UNANIMOUS).order_by("first_annotated_at", "pk")
    )
    sentence = unanimous[0].sentence
    query = f"q={sentence.text.split()[0]}&state=open"

    response = client.post(
        f"{action_url('accept', sentence.pk)}?{query}",
        {"annotation": sentence.annotations.first().pk, "version": 0},
    )

    assert response.status_code == 302
    assert parse_qs(urlsplit(response.url).query) == parse_qs(query)


def test_correct_a_claim_without_status_is_422_with_a_message(client, demo):
    client.force_login(demo_user("editor"))
    sentence = _demo_disagreement(6)

    response = client.post(action_url("correct", sentence.pk), gold_post(sentence, status_code=""))

    assert response.status_code == 422
    assert "A claim needs a verification status" in text_of(response)
    assert not GoldLabel.objects.exists()


def test_correct_saves_the_editors_label(client, demo):
    editor = demo_user("editor")
    client.force_login(editor)
    sentence = _demo_disagreement(6)

    response = client.post(
        action_url("correct", sentence.pk),
        gold_post(
            sentence,
            status_code="disputed",
            source="Russian officials",
            comment="Authorities = Russian officials.",
        ),
    )

    assert response.status_code == 302
    gold = GoldLabel.objects.get()
    assert (gold.origin, gold.source.name, gold.status.code) == (
        "corrected",
        "Russian officials",
        "disputed",
    )
    assert gold.comment == "Authorities = Russian officials."


def test_a_stale_version_is_409_showing_the_other_editors_decision(client, demo):
    rival = make_user("rival", "editor")
    sentence = _demo_disagreement(0)
    services.gold_label_set(
        sentence=sentence,
        editor=rival,
        label=no_claim_label(),
        expected_version=0,
        comment="Only a vow, no claim.",
    )
    client.force_login(demo_user("editor"))

    response = client.post(action_url("correct", sentence.pk), gold_post(sentence, comment="mine"))

    assert response.status_code == 409
    alert = visible_text(
        re.search(r'<div class="alert error"[^>]*>(.*?)</div>', text_of(response), re.S)[1]
    )
    assert "another editor" in alert
    assert "not a claim" in alert and "by rival" in alert and "Only a vow, no claim." in alert
    gold = GoldLabel.objects.get()
    assert (gold.editor, gold.is_claim, gold.version) == (rival, False, 1)


def test_a_stale_version_on_accept_is_409_too(client, demo):
    rival = make_user("rival", "editor")
    sentence = _demo_disagreement(0)
    accept_first(sentence, rival)
    client.force_login(demo_user("editor"))

    response = client.post(
        action_url("accept", sentence.pk),
        {"annotation": sentence.annotations.last().pk, "version": 0},
    )

    assert response.status_code == 409
    assert "another editor" in text_of(response)
    assert GoldLabel.objects.get().editor == rival


def home_titles(client) -> list[str]:
    """The article titles of the annotator's queue, in order."""
    html = text_of(client.get(reverse("claims:home")))
    return [t.strip() for t in re.findall(r"<tr[^>]*>\s*<td>([^<]+)", html)]


def test_send_back_reaches_the_annotator_with_the_comment(client, demo):
    annotator2 = demo_user("annotator2")
    # another article of annotator2's, finished and assigned earlier than the demo article
    other = make_article(2, title="Earlier finished article")
    assign(other, annotator2)
    for sentence in annotatable(other):
        save(sentence, annotator2, no_claim_label())
    Assignment.objects.filter(article=other).update(created_at=T0)
    Assignment.objects.filter(article=demo).update(created_at=T0.replace(year=2027))
    sentence = _demo_disagreement(15)
    client.force_login(annotator2)
    assert home_titles(client) == [other.title, demo.title]
    client.force_login(demo_user("editor"))

    response = client.post(
        action_url("send_back", sentence.pk), {"comment": "Is 'never acknowledge' disputed?"}
    )

    assert response.status_code == 302
    assert ReviewItem.objects.get(pk=sentence.pk).state == "sent_back"
    client.force_login(annotator2)
    assert home_titles(client) == [demo.title, other.title]
    page = text_of(client.get(reverse("claims:annotate", args=[demo.pk])))
    panel = re.search(r'<aside id="editor".*?</aside>', page, re.S).group(0)
    assert f'data-sentence="{sentence.pk}"' in panel
    assert escape("Is 'never acknowledge' disputed?") in panel
    assert "Sent back by editor" in visible_text(panel)
    row = re.search(rf'<span id="s-{sentence.pk}"[^>]*>', page).group(0)
    assert re.search(r'class="[^"]*\bcurrent\b[^"]*\bsent-back\b', row)


def test_each_annotators_save_answers_the_send_back_for_them_only(client, demo):
    annotator2, annotator3 = demo_user("annotator2"), demo_user("annotator3")
    sentence = _demo_disagreement(15)
    services.sentence_send_back(sentence=sentence, editor=demo_user("editor"), comment="Look")
    mine = sentence.annotations.get(annotator=annotator2)
    client.force_login(annotator2)

    response = client.post(
        reverse("claims:sentence_save", args=[demo.pk, sentence.pk]),
        label_post(
            sentence,
            [claim_fields_of(mine.claims.get(), status_code="disputed")],
            version=mine.version,
        ),
    )

    assert response.status_code == 302
    assert SendBack.objects.get().resolved_at is None  # annotator3 has not answered
    item = ReviewItem.objects.get(pk=sentence.pk)
    assert (item.state, item.bucket) == ("sent_back", UNANIMOUS)
    page = text_of(client.get(reverse("claims:annotate", args=[demo.pk])))
    assert "Sent back by" not in page
    client.force_login(annotator3)
    page = text_of(client.get(reverse("claims:annotate", args=[demo.pk])))
    assert "Sent back by" in page

    theirs = sentence.annotations.get(annotator=annotator3)
    client.post(  # annotator3 stands by their label
        reverse("claims:sentence_save", args=[demo.pk, sentence.pk]),
        label_post(
            sentence,
            [claim_fields_of(theirs.claims.get())],
            version=theirs.version,
        ),
    )

    assert SendBack.objects.get().resolved_at is not None
    assert ReviewItem.objects.get(pk=sentence.pk).state == "open"


def test_send_back_without_comment_is_422(client, demo):
    client.force_login(demo_user("editor"))
    sentence = _demo_disagreement(15)

    response = client.post(action_url("send_back", sentence.pk), {"comment": "  "})

    assert response.status_code == 422
    assert not SendBack.objects.exists()


def test_a_second_send_back_is_422_with_the_reason(client, demo):
    client.force_login(demo_user("editor"))
    sentence = _demo_disagreement(15)
    client.post(action_url("send_back", sentence.pk), {"comment": "first"})

    response = client.post(action_url("send_back", sentence.pk), {"comment": "second"})

    assert response.status_code == 422
    assert "already sent back" in text_of(response)
    assert SendBack.objects.count() == 1


# --- bulk accept ---------------------------------------------------------------------------


def test_bulk_accept_get_shows_the_count_and_changes_nothing(client, demo):
    client.force_login(demo_user("editor"))

    response = client.get(reverse("claims:review_bulk_accept"))

    html = text_of(response)
    assert response.status_code == 200
    assert "<strong>18</strong> open sentences" in html
    assert re.search(r'<button type="submit" class="primary">Accept 18 sentences</button>', html)
    assert not GoldLabel.objects.exists()
    assert set(ReviewItem.objects.values_list("state", flat=True)) == {"open"}


def test_bulk_accept_post_accepts_exactly_that_many(client, demo):
    editor = demo_user("editor")
    client.force_login(editor)
    promised = int(
        re.search(
            r"<strong>(\d+)</strong>", text_of(client.get(reverse("claims:review_bulk_accept")))
        )[1]
    )

    response = client.post(reverse("claims:review_bulk_accept"))

    assert response.status_code == 302
    assert urlsplit(response.url).path == queue_url()
    assert GoldLabel.objects.filter(editor=editor, origin="accepted").count() == promised == 18
    states = ReviewItem.objects.values_list("bucket", "state")
    assert sorted(set(states)) == [(DISAGREEMENT, "open"), (UNANIMOUS, "reviewed")]
    follow = text_of(client.get(response.url))
    assert "Accepted 18 unanimous sentence(s) as gold." in follow
    assert queue_items(follow) and all(b == DISAGREEMENT for b, _ in queue_items(follow))


def test_bulk_accept_follows_the_filter(client, demo):
    client.force_login(demo_user("editor"))
    query = "q=Ukrain"
    expected = set(
        selectors.unanimous_open_items(filters=selectors.ReviewFilters(q="Ukrain")).values_list(
            "sentence_id", flat=True
        )
    )
    assert 0 < len(expected) < 18

    get = text_of(client.get(f"{reverse('claims:review_bulk_accept')}?{query}"))
    response = client.post(f"{reverse('claims:review_bulk_accept')}?{query}")

    assert f"<strong>{len(expected)}</strong>" in get
    assert set(GoldLabel.objects.values_list("sentence_id", flat=True)) == expected
    assert parse_qs(urlsplit(response.url).query) == {"q": ["Ukrain"]}


def test_bulk_accept_with_nothing_to_accept(client, demo):
    client.force_login(demo_user("editor"))
    client.post(reverse("claims:review_bulk_accept"))

    html = text_of(client.get(reverse("claims:review_bulk_accept")))

    assert "No open unanimous sentences" in html
    assert "<button" not in html.split('class="card narrow"', 1)[1].split("</section>", 1)[0]


# --- the quality dashboard -----------------------------------------------------------------


def _agreement_row(html: str, label: str) -> list[str]:
    """The cells after the field name in the 'Agreement by field' table."""
    table = html.split("<h2>Agreement by field</h2>", 1)[1].split("</table>", 1)[0]
    row = re.search(rf"<tr>\s*<td>{label}</td>(.*?)</tr>", table, re.S).group(1)
    return [
        visible_text(cell).split("(n=")[0].strip()
        for cell in re.findall(r'<td class="num">(.*?)</td>', row, re.S)
    ]


@pytest.mark.parametrize("field, label", [("source_id", "Source"), ("status_id", "Status")])
def test_quality_shows_alpha_and_kappa_equal_to_an_independent_computation(
    client, demo, field, label
):
    client.force_login(demo_user("editor"))
    labels: dict[str, dict[int, object]] = defaultdict(dict)
    for annotator, sentence_id, value in Annotation.objects.values_list(
        "annotator__username", "sentence_id", field
    ):
        labels[annotator][sentence_id] = value
    assert sorted(labels) == ["annotator2", "annotator3"]
    alpha = agreement.krippendorff_alpha_nominal(labels)
    kappa = agreement.cohen_kappa(*agreement.paired(labels["annotator2"], labels["annotator3"]))
    assert alpha is not None and kappa is not None

    response = client.get(reverse("claims:quality"))

    assert response.status_code == 200
    html = text_of(response)
    assert "κ annotator2 / annotator3" in html
    assert _agreement_row(html, label) == [floatformat(alpha, 3), floatformat(kappa, 3)]
    report_field = next(f for f in response.context["report"].fields if f.name == field)
    assert report_field.alpha == alpha
    assert report_field.kappas[0][2].kappa == kappa


def test_quality_without_labels_renders(editor_client):
    response = editor_client.get(reverse("claims:quality"))

    assert response.status_code == 200
    assert "No labels yet." in text_of(response)


# --- XSS -----------------------------------------------------------------------------------


@pytest.fixture
def hostile(db, pair, editor):
    """A note, a gold comment, a send-back comment and a source name that are all scripts."""
    source = Source.objects.create(name=XSS, kind="unknown")
    sentences = annotatable(make_article(3, title=f"Title {XSS}"))
    save(sentences[0], pair[0], claim_label(source=source, note=XSS))
    save(sentences[0], pair[1], claim_label(note=XSS))
    services.gold_label_set(
        sentence=sentences[0],
        editor=editor,
        label=claim_label(source=source),
        expected_version=0,
        comment=XSS,
    )
    save(sentences[1], pair[0], claim_label(source=source))
    services.sentence_send_back(sentence=sentences[1], editor=editor, comment=XSS)
    return sentences


@pytest.mark.parametrize(
    "url",
    [
        lambda s: queue_url("state=all"),
        lambda s: detail_url(s[0].pk),
        lambda s: detail_url(s[1].pk),
        lambda s: reverse("claims:quality"),
    ],
    ids=["queue", "adjudicate-gold", "adjudicate-sent-back", "quality"],
)
def test_script_in_notes_comments_and_source_names_is_escaped(editor_client, hostile, url):
    response = editor_client.get(url(hostile))

    html = text_of(response)
    assert response.status_code == 200
    assert XSS not in html
    assert "alert(1)" in html  # it is shown, escaped
    assert escape(XSS) in html


def test_escaped_values_are_all_there_on_the_adjudicate_page(editor_client, hostile):
    html = text_of(editor_client.get(detail_url(hostile[0].pk)))

    assert f"Note: {escape(XSS)}" in html  # the note
    assert f"“{escape(XSS)}”" in html  # the gold comment
    assert f'<option value="{escape(XSS)}">' in html  # the source in the datalist

    sent_back = text_of(editor_client.get(detail_url(hostile[1].pk)))
    assert f"sent back: “{escape(XSS)}”" in sent_back  # the send-back comment in the history
