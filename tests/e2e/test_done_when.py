"""Issue 12, "Done when", in a real browser, from the annotator's first key to the researcher's
brat files: on the demo article annotator1 marks, by keyboard only, two claims in one sentence
and a claim whose content runs over two sentences with its source mention in the first; a
reload shows them highlighted; annotator2 disagrees on one span (by keyboard too); the editor
sees the disagreement overlaid and adjudicates by keyboard (a span corrected in the correction
form and saved with Enter; a label accepted with a digit); the researcher downloads the ZIP
bundle and finds every gold span in brat/gold/<article>.ann with exactly the marked text."""

import io
import os
import re
import zipfile

import pytest

from claims.exporting import read_brat_ann
from claims.models import Annotation, Article, GoldLabel, Sentence
from tests.e2e.test_annotate_spans import Cursor, annotatable, settle, span, starting, words_of

if not os.environ.get("CI"):  # in CI a missing playwright must fail, not skip
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e

BRAT_TYPE = {"content": "Content", "cue": "Cue", "mention": "Source"}


def go_to(page: Page, sentences: list[Sentence], target: Sentence) -> None:
    """j / k from the sentence the annotate page opened on to `target`."""
    editor = page.locator("#editor")
    settle(page)
    ids = [str(s.pk) for s in sentences]
    while (current := editor.get_attribute("data-sentence")) != str(target.pk):
        page.keyboard.press("j" if ids.index(current) < ids.index(str(target.pk)) else "k")
        expect(editor).not_to_have_attribute("data-sentence", current)
        settle(page)


def spans_of(label) -> list[dict]:
    return [
        {
            role: (getattr(c, f"{role}_start"), getattr(c, f"{role}_end"))
            for role in BRAT_TYPE
            if getattr(c, f"{role}_start") is not None
        }
        for c in label.claims.order_by("position")
    ]


def annotation(sentence: Sentence, username: str) -> Annotation:
    return Annotation.objects.get(sentence=sentence, annotator__username=username)


def log_out(page: Page) -> None:
    page.context.clear_cookies()


def test_done_when(browser_page, log_in):
    page = browser_page
    article = Article.objects.get()
    sentences = annotatable(article)
    ministry = starting(sentences, "Russia's Defence Ministry said")
    provided = starting(sentences, "It provided no additional information")
    kremlin = starting(sentences, "The Kremlin said")
    assert sentences.index(provided) == sentences.index(ministry) + 1
    words = words_of(sentences)
    box = page.locator("[data-claim-box].current")

    mention = span(article, "Russia's Defence Ministry")
    cue = span(article, "said", mention[1])
    munitions = span(article, "Olkha cluster munitions")[1]
    information = span(article, "no additional information")[1]
    # annotator1: the content starts at "the ammunition" and runs into the next sentence;
    # annotator2: it starts at "it identified" and stops at the sentence's end. The editor
    # takes annotator2's start and annotator1's end: over two sentences.
    content_1 = (span(article, "the ammunition used", cue[1])[0], information)
    content_2 = (span(article, "it identified", cue[1])[0], munitions)
    content_gold = (content_2[0], information)
    kremlin_mention = span(article, "The Kremlin")
    kremlin_cue = span(article, "said", kremlin_mention[1])
    briefed = span(article, "Russian President Vladimir Putin had been briefed on the situation")
    ordered = (
        span(article, "the country\u2019s health minister")[0],
        span(article, "traveling to Belgorod from Moscow")[1],
    )

    # --- annotator1, keyboard only -------------------------------------------------------
    log_in("annotator1")
    page.goto(f"/articles/{article.pk}/annotate/")
    go_to(page, sentences, ministry)
    cursor = Cursor(page, words, ministry)
    cursor.mark(mention, "m")
    cursor.mark(cue, "v")
    cursor.mark(content_1, "x")  # from this sentence into the next
    expect(box.locator('[data-span-text="content"]')).to_contain_text("It provided no additional")
    page.keyboard.press("2")  # unverified
    page.keyboard.press("Enter")
    expect(page.locator("#editor")).to_have_attribute("data-sentence", str(provided.pk))

    go_to(page, sentences, kremlin)
    cursor = Cursor(page, words, kremlin)
    cursor.mark(kremlin_mention, "m")
    cursor.mark(kremlin_cue, "v")
    cursor.mark(briefed, "x")
    page.keyboard.press("2")
    page.keyboard.press("+")  # a second claim of the same sentence, said by the same source
    expect(page.locator("[data-claim-box]")).to_have_count(2)
    cursor.mark(ordered, "x")
    cursor.mark(kremlin_mention, "m")
    page.keyboard.press("2")
    page.keyboard.press("Enter")
    expect(page.locator(f"#s-{kremlin.pk} .chip")).to_contain_text("2 claims")
    assert spans_of(annotation(ministry, "annotator1")) == [
        {"content": content_1, "cue": cue, "mention": mention}
    ]
    assert spans_of(annotation(kremlin, "annotator1")) == [
        {"content": briefed, "cue": kremlin_cue, "mention": kremlin_mention},
        {"content": ordered, "mention": kremlin_mention},
    ]

    # a reload shows them highlighted, each mark with its claim's number
    page.reload()
    expect(page.locator(f"#s-{ministry.pk} .chip")).to_be_visible()

    def marks(sentence: Sentence, role: str, claim: int) -> list[str]:
        selector = f'#s-{sentence.pk} .text mark.span-{role}[data-claim~="{claim}"]'
        return page.locator(selector).all_text_contents()

    first_part = article.body[content_1[0] : ministry.end]
    assert marks(ministry, "mention", 0) == ["Russia's Defence Ministry"]
    assert marks(ministry, "cue", 0) == ["said"]
    assert marks(ministry, "content", 0) == [first_part]
    assert marks(provided, "content", 0) == ["It provided no additional information"]
    assert marks(kremlin, "mention", 0) == marks(kremlin, "mention", 1) == ["The Kremlin"]
    assert marks(kremlin, "content", 0) == [article.body[briefed[0] : briefed[1]]]
    assert marks(kremlin, "content", 1) == [article.body[ordered[0] : ordered[1]]]
    log_out(page)

    # --- annotator2 disagrees on one span: the content ends with the first sentence -------
    log_in("annotator2")
    page.goto(f"/articles/{article.pk}/annotate/")
    go_to(page, sentences, ministry)
    cursor = Cursor(page, words, ministry)
    cursor.mark(mention, "m")
    cursor.mark(cue, "v")
    cursor.mark(content_2, "x")
    page.keyboard.press("2")
    page.keyboard.press("Enter")
    expect(page.locator("#editor")).to_have_attribute("data-sentence", str(provided.pk))
    [one] = annotation(ministry, "annotator1").claims.all()
    [two] = annotation(ministry, "annotator2").claims.all()
    assert spans_of(annotation(ministry, "annotator2")) == [
        {"content": content_2, "cue": cue, "mention": mention}
    ]
    same = ("source_id", "attribution_type", "status_id")
    assert [getattr(one, f) for f in same] == [getattr(two, f) for f in same]
    log_out(page)

    # --- the editor sees the disagreement overlaid and adjudicates by keyboard -------------
    log_in("editor")
    page.goto(f"/review/{ministry.pk}/")
    page.wait_for_load_state("load")  # keys.js is a deferred script: wait until it runs
    rows = {row.locator(".who").inner_text(): row for row in page.locator(".overlay-row").all()}
    assert {"annotator1", "annotator2"} <= set(rows)
    overlay = rows["annotator1"].locator("mark.span-content").all_text_contents()
    assert "".join(overlay) == article.body[content_1[0] : content_1[1]]
    overlay = rows["annotator2"].locator("mark.span-content").all_text_contents()
    assert "".join(overlay) == article.body[content_2[0] : content_2[1]]
    card = page.locator(".label-card", has=page.locator("h3", has_text="annotator2"))
    expect(card.locator(".verdict").first).to_have_text(re.compile(r"differs|only"))

    # the correction form starts from annotator1's claim; the content is marked again, from
    # "it identified" in the reviewed sentence into the next one (a neighbour row)
    before = sentences[sentences.index(ministry) - 1]
    rows_words = words_of([before, ministry, provided])
    gold_form = page.locator("#gold-form")
    page.keyboard.press("e")
    expect(gold_form).to_have_class(re.compile(r"\bediting\b"))
    Cursor(page, rows_words, ministry).mark(content_gold, "x")
    gold_box = gold_form.locator("[data-claim-box].current")
    expect(gold_box.locator('[data-span-text="content"]')).to_have_text(
        article.body[content_gold[0] : ministry.end] + " It provided no additional information"
    )
    expect(page.locator('#gold-form [name="claims-0-content_start"]')).to_have_value(
        str(content_gold[0])
    )
    page.keyboard.press("2")  # in the form: the claim's status, not annotator 2's label
    expect(gold_box.locator('input[name="claims-0-status"]:checked')).to_have_value("unverified")
    page.keyboard.press("Enter")
    expect(page.locator(".messages")).to_contain_text("Saved the corrected gold label")
    gold = GoldLabel.objects.get(sentence=ministry)
    assert (gold.origin, gold.editor.username) == ("corrected", "editor")
    assert spans_of(gold) == [{"content": content_gold, "cue": cue, "mention": mention}]

    # the Kremlin's sentence: annotator1's two claims, accepted with a digit
    page.goto(f"/review/{kremlin.pk}/")
    page.wait_for_load_state("load")
    expect(page.locator('[data-accept-key="1"] h3')).to_have_text("annotator1")
    page.keyboard.press("1")
    expect(page.locator(".messages")).to_contain_text("Accepted annotator1's label as gold")
    gold_kremlin = GoldLabel.objects.get(sentence=kremlin)
    assert gold_kremlin.origin == GoldLabel.Origin.ACCEPTED
    assert spans_of(gold_kremlin) == spans_of(annotation(kremlin, "annotator1"))
    log_out(page)

    # --- the researcher's ZIP bundle: every gold span in brat, with exactly its text -------
    log_in("researcher")
    page.goto("/export/")
    expect(page.locator('input[name="level"][value="gold"]')).to_be_checked()
    expect(page.locator("#row-count")).to_contain_text("rows with these filters")
    # The bundle is built by a job (docs/export.md): its page links to the file.
    page.get_by_role("button", name=re.compile(r"^ZIP bundle.*in the background")).click()
    page.wait_for_url(re.compile(r"/jobs/\d+/$"))
    with page.expect_download() as info:
        page.get_by_role("link", name=re.compile(r"^Download .*\.zip$")).click()
    with open(info.value.path(), "rb") as handle:
        archive = zipfile.ZipFile(io.BytesIO(handle.read()))
    text = archive.read(f"brat/gold/{article.pk}.txt").decode("utf-8")
    assert text == article.body
    ann = read_brat_ann(archive.read(f"brat/gold/{article.pk}.ann").decode("utf-8"))
    found = {(t.type, t.fragments): t.text for t in ann["T"].values()}
    marked = {
        ("Content", content_gold): "it identified",
        ("Source", mention): "Russia's Defence Ministry",
        ("Cue", cue): "said",
        ("Content", briefed): "Russian President",
        ("Content", ordered): "the country\u2019s health minister",
        ("Source", kremlin_mention): "The Kremlin",
        ("Cue", kremlin_cue): "said",
    }
    for gold_label in GoldLabel.objects.all():
        for claim in spans_of(gold_label):
            for role, (start, end) in claim.items():
                key = (BRAT_TYPE[role], ((start, end),))
                assert found.get(key) == article.body[start:end], key
                assert (BRAT_TYPE[role], (start, end)) in marked
    for (kind, (start, end)), beginning in marked.items():
        assert found[kind, ((start, end),)].startswith(beginning)
    assert found["Content", (content_gold,)].endswith(
        "munitions. It provided no additional information"
    )
