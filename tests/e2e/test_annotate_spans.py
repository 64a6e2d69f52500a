"""Claims as spans in a real browser, by keyboard only (issue 12, "Done when"): on the demo
article an annotator marks two claims in one sentence, and a claim whose content runs over two
sentences with its source mention in the first; after a reload the marks are there."""

import os
import re

import pytest

from claims.models import Annotation, Article, Sentence

if not os.environ.get("CI"):  # in CI a missing playwright must fail, not skip
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e

# Words as keys.js moves over them: letters and digits, with inner apostrophes (straight or
# curly), points, commas and hyphens ("Russia's", "18-hour").
WORD = re.compile(r"[^\W_]+(?:['\u2019.,\-][^\W_]+)*")


def annotatable(article: Article) -> list[Sentence]:
    return list(article.sentences.filter(kind=Sentence.Kind.SENTENCE).order_by("position"))


def starting(sentences: list[Sentence], text: str) -> Sentence:
    return next(s for s in sentences if s.text.startswith(text))


def words_of(sentences: list[Sentence]) -> list[tuple[int, int]]:
    """Every word of the article's sentences as body offsets, in order."""
    return [
        (s.start + m.start(), s.start + m.end()) for s in sentences for m in WORD.finditer(s.text)
    ]


def span(article: Article, phrase: str, after: int = 0) -> tuple[int, int]:
    start = article.body.index(phrase, after)
    return start, start + len(phrase)


def settle(page: Page) -> None:
    expect(page.locator("#editor")).not_to_have_class(re.compile(r"\bhtmx-(added|settling)\b"))


class Cursor:
    """Presses the keys that move keys.js's word cursor onto a span and select it."""

    def __init__(self, page: Page, words: list[tuple[int, int]], sentence: Sentence):
        self.page, self.words = page, words
        self.focus = None
        self.first = next(i for i, (start, _) in enumerate(words) if start >= sentence.start)

    def select(self, start: int, end: int) -> None:
        first = next(i for i, w in enumerate(self.words) if w[0] == start)
        last = next(i for i, w in enumerate(self.words) if w[1] == end)
        if self.focus is None:  # the first arrow puts the cursor on the sentence's first word
            self.page.keyboard.press("ArrowRight")
            self.focus = self.first
        step = "ArrowRight" if first > self.focus else "ArrowLeft"
        for _ in range(abs(first - self.focus)):
            self.page.keyboard.press(step)
        for _ in range(last - first):
            self.page.keyboard.press("Shift+ArrowRight")
        self.focus = last

    def mark(self, phrase_span: tuple[int, int], key: str) -> None:
        self.select(*phrase_span)
        self.page.keyboard.press(key)


def row_marks(page: Page, sentence: Sentence, role: str, claim: int) -> list[str]:
    marks = page.locator(f'#s-{sentence.pk} .text mark.span-{role}[data-claim~="{claim}"]')
    return marks.all_text_contents()


def claims_of(sentence: Sentence) -> list[tuple]:
    annotation = Annotation.objects.get(sentence=sentence, annotator__username="annotator1")
    return [
        (c.content_start, c.content_end, c.cue_start, c.cue_end, c.mention_start, c.mention_end)
        for c in annotation.claims.order_by("position")
    ]


def test_claims_marked_by_keyboard_are_saved_and_shown_after_a_reload(browser_page, log_in):
    page = browser_page
    article = Article.objects.get()
    sentences = annotatable(article)
    words = words_of(sentences)
    ministry = starting(sentences, "Russia's Defence Ministry said")
    provided = starting(sentences, "It provided no additional information")
    kremlin = starting(sentences, "The Kremlin said")
    editor = page.locator("#editor")

    log_in("annotator1")
    page.goto(f"/articles/{article.pk}/annotate/")
    expect(editor).to_have_attribute("data-sentence", str(sentences[0].pk))
    for sentence in sentences[1 : sentences.index(ministry) + 1]:  # j to the ministry's sentence
        settle(page)
        page.keyboard.press("j")
        expect(editor).to_have_attribute("data-sentence", str(sentence.pk))
    settle(page)

    # A claim over two sentences: "it identified … munitions. It provided no additional
    # information", said by "Russia's Defence Ministry" (in the first sentence).
    mention = span(article, "Russia's Defence Ministry")
    cue = span(article, "said", mention[1])
    content = (
        span(article, "it identified", cue[1])[0],
        span(article, "no additional information")[1],
    )
    cursor = Cursor(page, words, ministry)
    cursor.mark(mention, "m")
    cursor.mark(cue, "v")
    cursor.mark(content, "x")
    box = page.locator("[data-claim-box].current")
    expect(box.locator('[data-span-text="mention"]')).to_have_text("Russia's Defence Ministry")
    expect(box.locator('[data-span-text="content"]')).to_contain_text(
        "It provided no additional information"
    )
    page.keyboard.press("2")  # unverified
    page.keyboard.press("Enter")
    expect(editor).to_have_attribute("data-sentence", str(provided.pk))
    assert claims_of(ministry) == [(*content, *cue, *mention)]
    # before any reload: the saved row shows its marks, the next row the content's rest
    expect(page.locator(f"#s-{ministry.pk} .text mark.span-mention")).to_have_text(
        "Russia's Defence Ministry"
    )
    page.wait_for_function("() => CSS.highlights.get('saved-content')?.size > 0")
    rest = page.evaluate("() => [...CSS.highlights.get('saved-content')].map(String)")
    assert rest == ["It provided no additional information"]

    # Two claims of the Kremlin's sentence, both said by "The Kremlin".
    for sentence in sentences[sentences.index(provided) + 1 : sentences.index(kremlin) + 1]:
        settle(page)
        page.keyboard.press("j")
        expect(editor).to_have_attribute("data-sentence", str(sentence.pk))
    settle(page)
    kremlin_mention = span(article, "The Kremlin")
    kremlin_cue = span(article, "said", kremlin_mention[1])
    briefed = span(article, "Russian President Vladimir Putin had been briefed on the situation")
    ordered = (
        span(article, "the country\u2019s health minister")[0],
        span(article, "traveling to Belgorod from Moscow")[1],
    )
    cursor = Cursor(page, words, kremlin)
    cursor.mark(kremlin_mention, "m")
    cursor.mark(kremlin_cue, "v")
    cursor.mark(briefed, "x")
    page.keyboard.press("2")
    page.keyboard.press("+")  # a second claim
    expect(page.locator("[data-claim-box]")).to_have_count(2)
    expect(page.locator("[data-claim-box].current [data-claim-number]")).to_have_text("2")
    cursor.mark(ordered, "x")
    cursor.mark(kremlin_mention, "m")
    page.keyboard.press("2")
    page.keyboard.press("[")  # back to the first claim, and on again: nothing changes
    expect(page.locator("[data-claim-box].current [data-claim-number]")).to_have_text("1")
    page.keyboard.press("]")
    page.keyboard.press("Enter")
    expect(page.locator(f"#s-{kremlin.pk} .chip")).to_contain_text("2 claims")
    assert claims_of(kremlin) == [
        (*briefed, *kremlin_cue, *kremlin_mention),
        (*ordered, None, None, *kremlin_mention),
    ]

    page.reload()
    expect(page.locator(f"#s-{ministry.pk} .chip")).to_be_visible()
    assert row_marks(page, ministry, "mention", 0) == ["Russia's Defence Ministry"]
    assert row_marks(page, ministry, "cue", 0) == ["said"]
    text = article.body[content[0] : content[1]]
    assert row_marks(page, ministry, "content", 0) == [text[: text.index(" It provided")]]
    assert row_marks(page, provided, "content", 0) == ["It provided no additional information"]
    assert row_marks(page, kremlin, "mention", 0) == ["The Kremlin"]
    assert row_marks(page, kremlin, "mention", 1) == ["The Kremlin"]
    assert row_marks(page, kremlin, "cue", 0) == ["said"]
    assert row_marks(page, kremlin, "content", 0) == [article.body[briefed[0] : briefed[1]]]
    assert row_marks(page, kremlin, "content", 1) == [article.body[ordered[0] : ordered[1]]]


def test_a_mouse_selection_and_a_role_button_mark_a_span(browser_page, log_in):
    page = browser_page
    article = Article.objects.get()
    first = annotatable(article)[0]
    log_in("annotator1")
    page.goto(f"/articles/{article.pk}/annotate/")
    settle(page)
    text = page.locator(f"#s-{first.pk} .text")

    # select "vowed retaliation" with the mouse: the page's selection, set as a drag would
    page.evaluate(
        """([id, phrase]) => {
          const text = document.querySelector("#s-" + id + " .text");
          const node = text.firstChild;
          const at = node.textContent.indexOf(phrase);
          window.getSelection().setBaseAndExtent(node, at, node, at + phrase.length);
        }""",
        [first.pk, "vowed retaliation"],
    )
    page.locator('[data-claim-box].current [data-role="cue"]').click()

    expect(page.locator('[data-claim-box].current [data-span-text="cue"]')).to_have_text(
        "vowed retaliation"
    )
    cue = span(article, "vowed retaliation")
    expect(page.locator('[name="claims-0-cue_start"]')).to_have_value(str(cue[0]))
    expect(page.locator('[name="claims-0-cue_end"]')).to_have_value(str(cue[1]))
    expect(text).to_contain_text("vowed retaliation")


def test_delete_removes_a_claim_and_a_claim_without_content_is_refused(
    browser_page, log_in, expected_errors
):
    expected_errors.append(r"status of 422")  # the refused save, on purpose
    page = browser_page
    article = Article.objects.get()
    first = annotatable(article)[0]
    log_in("annotator1")
    page.goto(f"/articles/{article.pk}/annotate/")
    settle(page)

    page.keyboard.press("Delete")  # the pre-filled claim goes
    expect(page.locator("[data-claim-box].deleted")).to_have_count(1)
    page.keyboard.press("c")
    page.keyboard.press("Enter")
    expect(page.locator("#editor .alert.error")).to_contain_text("Mark the claim's content (x)")
    assert not Annotation.objects.filter(sentence=first, annotator__username="annotator1")

    page.keyboard.press("Delete")  # and comes back
    expect(page.locator("[data-claim-box].deleted")).to_have_count(0)
    page.keyboard.press("2")
    page.keyboard.press("Enter")
    expect(page.locator(f"#s-{first.pk} .chip")).to_have_text("Unverified")
    assert claims_of(first) == [(first.start, first.end, None, None, None, None)]
