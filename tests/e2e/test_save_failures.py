"""A save never fails silently: failed requests in a real browser, as an annotator meets them.

Network errors and 5xx are made with Playwright's `page.route` (or a fault injected into the
live server's save); an expired session by deleting the sessions; a stale CSRF token by logging
in again in a second tab of the same browser.
"""

import os
import re

import pytest
from django.contrib.sessions.models import Session

from claims import services
from claims.models import Annotation, Article, GoldLabel, Source
from tests.e2e.conftest import DEMO_PASSWORDS
from tests.e2e.test_annotate_keyboard import DEMO_TOTAL, annotatable, labels_of, press

if not os.environ.get("CI"):  # in CI a missing playwright must fail, not skip
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e

SAVE = re.compile(r"/sentences/\d+/save/$")
REVIEW_ITEM = re.compile(r"/review/\d+/")
# htmx has taken over the form (boosted): a key press submits it through htmx, whose failures
# the page reports, not as a plain browser form.
BOOSTED = """selector => {
  const form = document.querySelector(selector);
  return Boolean(window.htmx && form && form["htmx-internal-data"]
    && form["htmx-internal-data"].boosted);
}"""
NOT_A_CLAIM = (False, None, None, "")


@pytest.fixture
def failing(expected_errors):
    """The browser logs each failed request as a console error: expected here."""
    expected_errors.extend(
        [
            r"Failed to load resource",
            r"htmx:(sendError|responseError|afterRequest)",
            r"Response Status Error Code [45]\d\d",
        ]
    )


@pytest.fixture
def workspace(browser_page, log_in, failing) -> tuple[Page, list]:
    page = browser_page
    article = Article.objects.get()
    log_in("annotator1")
    page.goto(f"/articles/{article.pk}/annotate/")
    expect(page.locator("#label-form")).to_be_visible()
    return page, annotatable(article)


def failure(page: Page):
    return page.locator("#request-failure")


def expect_not_saved(page: Page, text: str) -> None:
    box = failure(page)
    expect(box).to_be_visible()
    expect(box).to_have_attribute("role", "alert")
    expect(box).to_contain_text("Not saved.")
    expect(box).to_contain_text(text)
    expect(box.get_by_role("button", name="Retry")).to_be_visible()


def test_network_error_says_not_saved_keeps_the_form_and_retry_saves(workspace):
    page, sentences = workspace
    first = sentences[0]
    page.route(SAVE, lambda route: route.abort())

    press(page, "n", "Enter")
    expect_not_saved(page, "could not be reached")
    editor = page.locator("#editor")
    expect(editor).to_have_attribute("data-sentence", str(first.pk))
    expect(page.locator('#label-form input[name="is_claim"][value="no"]')).to_be_checked()
    page.wait_for_timeout(300)  # persistent: nothing clears it by itself
    expect(failure(page)).to_contain_text("Not saved.")
    assert labels_of("annotator1") == {}

    page.unroute(SAVE)
    press(page, "r")
    expect(page.locator("#progress")).to_contain_text(f"1 of {DEMO_TOTAL} labelled")
    expect(failure(page)).to_be_empty()
    expect(editor).to_have_attribute("data-sentence", str(sentences[1].pk))
    assert labels_of("annotator1") == {first.pk: NOT_A_CLAIM}


def test_server_error_shows_the_servers_sentence_and_the_retry_button_works(
    workspace, monkeypatch
):
    page, sentences = workspace
    real_save = services.annotation_save
    calls = []

    def crash_once(**kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("injected fault")
        return real_save(**kwargs)

    monkeypatch.setattr(services, "annotation_save", crash_once)
    press(page, "2", "Enter")
    expect_not_saved(page, "The server had a problem and your change was not saved")
    expect(
        page.locator('#label-form input[name="claims-0-status"][value="unverified"]')
    ).to_be_checked()
    assert labels_of("annotator1") == {}

    failure(page).get_by_role("button", name="Retry").click()
    expect(page.locator(f"#s-{sentences[0].pk} .chip")).to_contain_text("Unverified")
    expect(failure(page)).to_be_empty()
    assert labels_of("annotator1")[sentences[0].pk][:2] == (True, "unverified")


def test_keys_typed_during_a_failing_save_are_dropped_not_replayed(workspace):
    page, sentences = workspace
    first, second, third = sentences[:3]
    held = []
    page.route(SAVE, lambda route: held.append(route))  # hold the save in flight

    press(page, "n", "Enter")
    while not held:
        page.wait_for_timeout(20)
    page.keyboard.press("2")  # typed ahead, meant for the next sentence
    page.keyboard.press("Enter")
    held[0].abort()
    expect_not_saved(page, "could not be reached")
    page.unroute(SAVE)

    # Today the held "2 Enter" replayed onto the next sentence opened, and saved it there.
    page.locator(f"#s-{third.pk} .text").click()
    expect(page.locator("#editor")).to_have_attribute("data-sentence", str(third.pk))
    page.wait_for_timeout(300)
    expect(page.locator(f"#s-{third.pk} .chip")).to_have_count(0)
    # The unsaved "not a claim" of the first sentence was saved before moving (see below).
    assert labels_of("annotator1") == {first.pk: NOT_A_CLAIM}
    assert second.pk not in labels_of("annotator1")


def test_moving_away_saves_unsaved_changes_first(workspace):
    page, sentences = workspace
    editor = page.locator("#editor")
    progress = page.locator("#progress")

    press(page, "n", "j")  # j with a changed form: saved, then the next sentence
    expect(progress).to_contain_text(f"1 of {DEMO_TOTAL} labelled")
    expect(editor).to_have_attribute("data-sentence", str(sentences[1].pk))

    press(page, "n")
    page.locator(f"#s-{sentences[4].pk} .text").click()  # clicking another sentence: the same
    expect(editor).to_have_attribute("data-sentence", str(sentences[4].pk))
    expect(progress).to_contain_text(f"2 of {DEMO_TOTAL} labelled")

    press(page, "n", "k")  # k: saved, then the previous sentence (not the next)
    expect(progress).to_contain_text(f"3 of {DEMO_TOTAL} labelled")
    expect(editor).to_have_attribute("data-sentence", str(sentences[3].pk))

    press(page, "j")  # nothing changed: plain move, nothing saved
    expect(editor).to_have_attribute("data-sentence", str(sentences[4].pk))
    assert labels_of("annotator1") == {
        sentences[0].pk: NOT_A_CLAIM,
        sentences[1].pk: NOT_A_CLAIM,
        sentences[4].pk: NOT_A_CLAIM,
    }


def test_moving_away_when_the_save_fails_stays_and_says_so(workspace):
    page, sentences = workspace
    page.route(SAVE, lambda route: route.fulfill(status=502, body="Bad gateway"))
    press(page, "n", "j")
    expect_not_saved(page, "error 502")
    expect(page.locator("#editor")).to_have_attribute("data-sentence", str(sentences[0].pk))
    expect(page.locator('#label-form input[name="is_claim"][value="no"]')).to_be_checked()
    assert labels_of("annotator1") == {}


def test_proposing_a_source_keeps_the_unsaved_label(workspace):
    page, sentences = workspace
    press(page, "c", "3")  # a disputed claim, not saved yet
    page.get_by_text("No source fits? Propose one").click()
    page.get_by_role("textbox", name="Name").fill("Harbour Pilots' Association")
    page.get_by_role("button", name="Propose").click()

    expect(page.locator("#editor")).to_contain_text("Proposed “Harbour Pilots' Association”")
    expect(
        page.locator('#label-form input[name="claims-0-status"][value="disputed"]')
    ).to_be_checked()
    expect(page.locator("#source-input")).to_have_value("Harbour Pilots' Association")
    page.locator("#source-input").blur()
    press(page, "Enter")
    expect(page.locator("#progress")).to_contain_text(f"1 of {DEMO_TOTAL} labelled")
    label = labels_of("annotator1")[sentences[0].pk]
    assert label[:3] == (True, "disputed", "Harbour Pilots' Association")
    assert Source.objects.get(name="Harbour Pilots' Association").status == "pending"


def log_in_again(page: Page, username: str = "annotator1") -> None:
    """Log in in a second tab of the same browser: a new session and a new CSRF token."""
    other = page.context.new_page()
    other.goto("/accounts/login/")
    other.get_by_label("Username").fill(username)
    other.get_by_label("Password").fill(DEMO_PASSWORDS[username])
    other.get_by_role("button", name="Log in").click()
    other.wait_for_url(lambda url: "/accounts/login/" not in url)
    other.close()


def test_expired_session_asks_to_log_in_again_then_retry_saves(workspace):
    page, sentences = workspace
    Session.objects.all().delete()  # the session expired on the server

    press(page, "n", "Enter")
    expect_not_saved(page, "Your session has ended")
    link = failure(page).get_by_role("link", name="Log in again")
    expect(link).to_have_attribute("target", "_blank")
    expect(page.locator("#label-form")).to_be_visible()  # not the login page swapped in
    expect(page.locator('#label-form input[name="is_claim"][value="no"]')).to_be_checked()
    assert labels_of("annotator1") == {}

    log_in_again(page)  # the login rotates the CSRF token: the retry gets it and succeeds
    failure(page).get_by_role("button", name="Retry").click()
    expect(page.locator("#progress")).to_contain_text(f"1 of {DEMO_TOTAL} labelled")
    expect(failure(page)).to_be_empty()
    assert labels_of("annotator1") == {sentences[0].pk: NOT_A_CLAIM}


def test_stale_csrf_token_after_a_login_in_another_tab_still_saves(workspace):
    page, sentences = workspace
    log_in_again(page)

    press(page, "n", "Enter")
    expect(page.locator("#progress")).to_contain_text(f"1 of {DEMO_TOTAL} labelled")
    expect(failure(page)).to_be_empty()
    assert labels_of("annotator1") == {sentences[0].pk: NOT_A_CLAIM}
    # The renewed token is used from now on: the next save needs no retry.
    press(page, "n", "Enter")
    expect(page.locator("#progress")).to_contain_text(f"2 of {DEMO_TOTAL} labelled")
    assert Annotation.objects.filter(annotator__username="annotator1").count() == 2


def test_failed_accept_on_the_review_page_says_so_and_retry_accepts(
    browser_page, log_in, failing, monkeypatch
):
    page = browser_page
    log_in("editor")
    page.goto("/review/")
    page.locator(".review-item").first.locator(".review-text a").click()
    page.wait_for_url(REVIEW_ITEM)  # the new page's load: keys.js (deferred) has run
    expect(page.locator(".label-card")).to_have_count(2)
    page.wait_for_function(BOOSTED, arg='[data-accept-key="2"]')  # htmx sends the accept
    sentence_id = int(re.search(r"/review/(\d+)/", page.url).group(1))
    real_accept = services.gold_label_accept
    calls = []

    def crash_once(**kwargs):  # the live server's accept fails once (a 500)
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("injected fault")
        return real_accept(**kwargs)

    monkeypatch.setattr(services, "gold_label_accept", crash_once)

    page.keyboard.press("2")
    expect_not_saved(page, "The server had a problem and your change was not saved")
    expect(page.locator(".label-card")).to_have_count(2)  # still the same page
    assert not GoldLabel.objects.filter(sentence_id=sentence_id).exists()

    page.keyboard.press("r")
    expect(page.locator(".messages")).to_contain_text("Accepted annotator3's label as gold")
    expect(failure(page)).to_be_empty()
    assert GoldLabel.objects.get(sentence_id=sentence_id).origin == GoldLabel.Origin.ACCEPTED
    assert len(calls) == 2


def test_failed_send_back_keeps_the_comment(browser_page, log_in, failing):
    page = browser_page
    log_in("editor")
    page.goto("/review/")
    page.locator(".review-item").first.locator(".review-text a").click()
    page.wait_for_url(REVIEW_ITEM)  # the new page's load: keys.js (deferred) has run
    send_back = re.compile(r"/review/\d+/send-back/")
    page.route(send_back, lambda route: route.abort())

    comment = page.locator("#send-back-form textarea")
    comment.fill("Check the second clause again.")
    page.get_by_role("button", name="Send back").click()
    expect_not_saved(page, "could not be reached")
    expect(comment).to_have_value("Check the second clause again.")


def test_undo_with_unsaved_changes_takes_them_back_first(workspace):
    page, sentences = workspace
    press(page, "n", "Enter")  # a saved label on the first sentence
    expect(page.locator("#progress")).to_contain_text(f"1 of {DEMO_TOTAL} labelled")
    checked = page.locator("#label-form input[type=radio]:checked")
    as_rendered = [checked.nth(i).get_attribute("value") for i in range(checked.count())]
    press(page, "c", "3")  # unsaved changes on the second
    expect(
        page.locator('#label-form input[name="claims-0-status"][value="disputed"]')
    ).to_be_checked()
    press(page, "u")
    expect(page.locator("#editor")).to_have_attribute("data-sentence", str(sentences[1].pk))
    expect(
        page.locator('#label-form input[name="claims-0-status"][value="disputed"]')
    ).not_to_be_checked()
    assert [checked.nth(i).get_attribute("value") for i in range(checked.count())] == as_rendered
    assert labels_of("annotator1") == {sentences[0].pk: NOT_A_CLAIM}  # nothing undone yet
    press(page, "u")  # now the last saved change
    expect(page.locator("#progress")).to_contain_text(f"0 of {DEMO_TOTAL} labelled")
    assert labels_of("annotator1") == {}


def test_moving_on_from_an_unsent_comment_asks_first(browser_page, log_in):
    page = browser_page
    log_in("editor")
    page.goto("/review/")
    page.locator(".review-item").first.locator(".review-text a").click()
    page.wait_for_url(REVIEW_ITEM)  # the new page's load: keys.js (deferred) has run
    here = page.url
    comment = page.locator("#send-back-form textarea")
    comment.fill("Check the second clause again.")
    comment.blur()
    asked = []

    def dismiss(dialog) -> None:
        asked.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    page.keyboard.press("j")
    expect(comment).to_have_value("Check the second clause again.")
    assert asked == ["Your correction or comment is not saved. Leave it and go on?"]
    assert page.url == here

    page.once("dialog", lambda dialog: dialog.accept())
    page.keyboard.press("j")
    page.wait_for_url(lambda url: url != here)


def test_a_failed_load_does_not_hide_a_failed_save_and_r_retries_the_save(workspace):
    page, sentences = workspace
    page.route(SAVE, lambda route: route.abort())
    press(page, "n", "Enter")
    expect_not_saved(page, "could not be reached")

    # A search fails too (focusing the source field loads its results): the box still says
    # that the label was not saved.
    searches = []
    page.route(re.compile(r"/sources/search/"), lambda route: (searches.append(1), route.abort()))
    press(page, "s")
    while not searches:
        page.wait_for_timeout(20)
    page.wait_for_timeout(200)
    expect(failure(page)).to_contain_text("Not saved.")
    page.keyboard.press("Escape")

    page.unroute(SAVE)
    press(page, "r")
    expect(page.locator("#progress")).to_contain_text(f"1 of {DEMO_TOTAL} labelled")
    assert labels_of("annotator1") == {sentences[0].pk: NOT_A_CLAIM}


def test_a_double_enter_does_not_save_the_next_sentence_unseen(workspace):
    page, sentences = workspace
    first, second = sentences[:2]
    held = []
    page.route(SAVE, lambda route: held.append(route))  # hold the first save in flight

    press(page, "n", "Enter")
    while not held:
        page.wait_for_timeout(20)
    page.keyboard.press("Enter")  # the second press of a double Enter
    held[0].continue_()
    page.unroute(SAVE)

    expect(page.locator("#editor")).to_have_attribute("data-sentence", str(second.pk))
    page.wait_for_timeout(500)
    assert labels_of("annotator1") == {first.pk: NOT_A_CLAIM}


def test_s_selects_the_suggested_source_so_typing_replaces_it(workspace):
    page, _ = workspace
    page.locator("#source-input").fill("Some suggested source")
    page.locator("#source-input").blur()
    press(page, "s")
    page.keyboard.type("Kremlin")
    expect(page.locator("#source-input")).to_have_value("Kremlin")
