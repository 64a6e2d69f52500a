"""An editor works the review queue in the browser, by keyboard."""

import re

from playwright.sync_api import expect

from claims.models import GoldLabel, ReviewItem
from tests.e2e.test_save_failures import BOOSTED

REVIEW_ITEM = re.compile(r"/review/\d+/")


def test_editor_resolves_a_disagreement_by_keyboard(browser_page, log_in):
    page = browser_page
    log_in("editor")
    page.goto("/review/")
    first = page.locator(".review-item").first
    expect(first.locator(".bucket-tag")).to_have_text("Disagreement")

    first.locator(".review-text a").click()
    page.wait_for_url(REVIEW_ITEM)  # the new page's load: keys.js (deferred) has run
    expect(page.locator(".label-card")).to_have_count(2)
    page.wait_for_function(BOOSTED, arg='[data-accept-key="2"]')
    sentence_id = int(re.search(r"/review/(\d+)/", page.url).group(1))
    page.keyboard.press("2")  # accept the second annotator's label

    expect(page.locator(".messages")).to_contain_text("Accepted annotator3's label as gold")
    gold = GoldLabel.objects.get(sentence_id=sentence_id)
    assert gold.origin == GoldLabel.Origin.ACCEPTED
    assert gold.accepted_annotation.annotator.username == "annotator3"
    assert gold.editor.username == "editor"
    assert ReviewItem.objects.get(sentence_id=sentence_id).state == ReviewItem.State.REVIEWED

    page.goto(f"/review/{sentence_id}/")
    history = page.locator(".history-list")
    expect(history).to_contain_text("annotator2")
    expect(history).to_contain_text("annotator3")
    expect(history).to_contain_text("gold label created (accepted)")

    page.goto("/quality/")
    table = page.locator("table.list").first
    for field in ("Source", "Status"):
        expect(table.locator("tr", has_text=field)).to_be_visible()
    expect(page.locator("body")).to_contain_text("Krippendorff")
