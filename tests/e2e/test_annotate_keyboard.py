"""The annotate workspace in a real browser, driven by the keyboard as an annotator would."""

import os
import re
from pathlib import Path

import pytest

from claims.models import Annotation, AnnotationEvent, Article, Sentence

if not os.environ.get("CI"):  # in CI a missing playwright must fail, not skip
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshot-annotate.png"
DEMO_TOTAL = 22  # annotatable sentences in the demo article (24 minus 2 photo credits)


def annotatable(article: Article) -> list[Sentence]:
    return list(article.sentences.filter(kind=Sentence.Kind.SENTENCE).order_by("position"))


def labels_of(username: str) -> dict[int, tuple]:
    """{sentence id: (is_claim, status code, source name, attribution type)}, from the DB."""
    rows = Annotation.objects.filter(annotator__username=username).select_related(
        "status", "source"
    )
    return {
        a.sentence_id: (
            a.is_claim,
            a.status.code if a.status else None,
            a.source.name if a.source else None,
            a.attribution_type,
        )
        for a in rows
    }


def open_workspace(page: Page, article: Article) -> None:
    page.goto(f"/articles/{article.pk}/annotate/")
    expect(page.locator("#label-form")).to_be_visible()


def press(page: Page, *keys: str) -> None:
    """Press keys once the editor has settled.

    htmx wires up a freshly swapped editor only in its settle phase, 20 ms after the swap; keys.js
    holds keys pressed before then (tested without this wait at the end).
    """
    expect(page.locator("#editor")).not_to_have_class(re.compile(r"\bhtmx-(added|settling)\b"))
    for key in keys:
        page.keyboard.press(key)


def test_annotator_labels_five_sentences_by_keyboard_and_they_persist(browser_page, log_in):
    page = browser_page
    article = Article.objects.get()
    sentences = annotatable(article)
    first_five = sentences[:5]
    plan = [
        # keys, label in the database (is_claim, status, source, attribution), chip in the row
        (["n"], (False, None, None, ""), "not a claim"),
        (
            ["2"],  # a status key marks a claim too; the source is pre-filled from the suggestion
            (True, "unverified", "Russian Emergency Situations Ministry", "paraphrase"),
            "Unverified · Russian Emergency Situations Ministry",
        ),
        (["c", "1"], (True, "verified", "Social media", "paraphrase"), "Verified · Social media"),
        (["n"], (False, None, None, ""), "not a claim"),
        (["c", "3", "a"], (True, "disputed", None, "direct_quote"), "Disputed"),
    ]

    log_in("annotator1")
    expect(page.get_by_role("heading", name="My queue")).to_be_visible()
    page.get_by_role("row", name=article.title).get_by_role("link", name="Start").click()
    page.wait_for_url(f"**/articles/{article.pk}/annotate/")
    page.wait_for_load_state()
    progress = page.locator("#progress")
    editor = page.locator("#editor")
    expect(progress).to_contain_text(f"0 of {DEMO_TOTAL} labelled")
    page.evaluate("window.e2eSamePage = true")  # survives htmx swaps, not a page load

    for done, (sentence, (keys, _, chip)) in enumerate(
        zip(first_five, plan, strict=True), start=1
    ):
        expect(editor).to_have_attribute("data-sentence", str(sentence.pk))
        press(page, *keys, "Enter")
        expect(progress).to_contain_text(f"{done} of {DEMO_TOTAL} labelled")
        expect(page.locator(f"#s-{sentence.pk} .chip")).to_have_text(chip)
    expect(editor).to_have_attribute("data-sentence", str(sentences[5].pk))
    assert page.evaluate("window.e2eSamePage") is True, "a save reloaded the whole page"

    page.reload()
    expect(progress).to_contain_text(f"5 of {DEMO_TOTAL} labelled")
    for sentence, (_, _, chip) in zip(first_five, plan, strict=True):
        expect(page.locator(f"#s-{sentence.pk} .chip")).to_have_text(chip)
    expect(page.locator(".sentence .chip")).to_have_count(5)
    assert labels_of("annotator1") == {
        s.pk: label for s, (_, label, _) in zip(first_five, plan, strict=True)
    }
    assert Annotation.objects.filter(annotator__username="annotator1").count() == 5

    page.screenshot(path=SCREENSHOT, full_page=False)


def test_shortcuts_do_not_fire_while_typing(browser_page, log_in):
    page = browser_page
    log_in("annotator1")
    open_workspace(page, Article.objects.get())
    source = page.locator("#source-input")
    checked = page.locator("#label-form input[type=radio]:checked")
    expect(checked).to_have_count(0)  # sentence 1 has no suggestion: nothing is pre-selected

    press(page, "s")
    expect(source).to_be_focused()
    expect(source).to_have_value("")  # the shortcut key itself is not typed
    with page.expect_response(lambda r: "/sources/search/" in r.url and "c1n" in r.url):
        page.keyboard.type("c1n")
    expect(source).to_have_value("c1n")
    expect(checked).to_have_count(0)  # neither c, 1 nor n reached the shortcuts

    press(page, "Escape")
    expect(source).not_to_be_focused()
    press(page, "n")
    expect(page.locator('#label-form input[name="is_claim"][value="no"]')).to_be_checked()
    expect(checked).to_have_count(1)
    expect(source).to_have_value("c1n")


def test_undo_restores_previous_label(browser_page, log_in):
    page = browser_page
    article = Article.objects.get()
    first, second = annotatable(article)[:2]
    log_in("annotator1")
    open_workspace(page, article)
    progress = page.locator("#progress")
    editor = page.locator("#editor")
    first_row = page.locator(f"#s-{first.pk}")

    # A new label, undone: the sentence is unlabelled again.
    press(page, "n", "Enter")
    expect(progress).to_contain_text(f"1 of {DEMO_TOTAL} labelled")
    expect(editor).to_have_attribute("data-sentence", str(second.pk))
    assert labels_of("annotator1") == {first.pk: (False, None, None, "")}
    press(page, "u")
    expect(progress).to_contain_text(f"0 of {DEMO_TOTAL} labelled")
    expect(editor).to_have_attribute("data-sentence", str(first.pk))
    expect(first_row.locator(".chip")).to_have_count(0)
    expect(first_row).not_to_have_class(re.compile(r"\blabelled\b"))
    assert labels_of("annotator1") == {}

    # A changed label, undone: the previous label comes back.
    press(page, "2", "Enter")
    expect(first_row.locator(".chip")).to_have_text("Unverified")
    expect(editor).to_have_attribute("data-sentence", str(second.pk))
    press(page, "k")
    expect(editor).to_have_attribute("data-sentence", str(first.pk))
    press(page, "n", "Enter")
    expect(first_row.locator(".chip")).to_have_text("not a claim")
    assert labels_of("annotator1") == {first.pk: (False, None, None, "")}
    press(page, "u")
    expect(first_row.locator(".chip")).to_have_text("Unverified")
    expect(progress).to_contain_text(f"1 of {DEMO_TOTAL} labelled")
    expect(editor).to_have_attribute("data-sentence", str(first.pk))
    assert labels_of("annotator1") == {first.pk: (True, "unverified", None, "")}
    events = AnnotationEvent.objects.filter(sentence=first, actor__username="annotator1").order_by(
        "id"
    )
    assert list(events.values_list("action", "undone")) == [
        ("created", True),
        ("undone", False),
        ("created", False),
        ("updated", True),
        ("undone", False),
    ]


def test_question_mark_opens_shortcut_sheet(browser_page, log_in):
    page = browser_page
    log_in("annotator1")
    open_workspace(page, Article.objects.get())
    sheet = page.locator("dialog#shortcuts")
    expect(sheet).to_be_hidden()

    press(page, "?")
    expect(sheet).to_be_visible()
    expect(sheet.get_by_role("heading")).to_have_text("Keyboard shortcuts")
    expect(sheet).to_contain_text("save and go to the next sentence")
    press(page, "?")  # the same key closes it
    expect(sheet).to_be_hidden()

    press(page, "?")
    expect(sheet).to_be_visible()
    press(page, "Escape")  # and so does Escape, as for any modal dialog
    expect(sheet).to_be_hidden()


# The moment htmx has swapped the next sentence's editor in, press n and Enter, as an
# annotator typing ahead does. Playwright cannot time a real key press inside htmx's 20 ms
# settle window reliably (the first test above hit it now and then before `press` waited for
# the settle), so the same keydown events are dispatched from the page, on the next task.
TYPE_AHEAD = """() => {
  const press = (key) => document.body.dispatchEvent(
    new KeyboardEvent("keydown", {key, bubbles: true, cancelable: true}));
  document.body.addEventListener(
    "htmx:afterSwap", () => setTimeout(() => ["n", "Enter"].forEach(press), 0), {once: true});
}"""


def test_enter_right_after_a_save_still_saves_in_place(browser_page, log_in):
    page = browser_page
    log_in("annotator1")
    open_workspace(page, Article.objects.get())
    page.evaluate("window.e2eSamePage = true")
    page.evaluate(TYPE_AHEAD)

    press(page, "n", "Enter")
    expect(page.locator("#progress")).to_contain_text(f"2 of {DEMO_TOTAL} labelled")
    page.wait_for_load_state()
    assert labels_of("annotator1") == {
        s.pk: (False, None, None, "") for s in annotatable(Article.objects.get())[:2]
    }
    assert page.evaluate("window.e2eSamePage") is True, "the second save reloaded the page"


def test_keys_typed_during_a_save_apply_to_the_next_sentence(browser_page, log_in):
    page = browser_page
    log_in("annotator1")
    open_workspace(page, Article.objects.get())
    page.evaluate("window.e2eSamePage = true")

    for key in ["n", "Enter", "2", "Enter", "n", "Enter"]:  # no waiting between keys
        page.keyboard.press(key)
    expect(page.locator("#progress")).to_contain_text(f"3 of {DEMO_TOTAL} labelled")

    first, second, third = annotatable(Article.objects.get())[:3]
    labels = labels_of("annotator1")
    assert labels[first.pk][0] is False
    assert labels[second.pk][0] is True
    assert labels[third.pk][0] is False
    assert page.evaluate("window.e2eSamePage") is True
