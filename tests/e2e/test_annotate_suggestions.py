"""Issue 13 in a real browser: a suggested new source proposed with one key (p) becomes the
claim's source, and what the annotator had changed in the form stays."""

import os
import re

import pytest
from django.contrib.auth.models import User

from claims import services
from claims.importing import ArticleRecord
from claims.models import Annotation, Article, Assignment, Sentence, Source

if not os.environ.get("CI"):  # in CI a missing playwright must fail, not skip
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e

BODY = (
    "Губернатор Харківської області Олег Синєгубов заявив, що внаслідок обстрілу поранено "
    "трьох людей. Ситуація під контролем."
)


def settle(page: Page) -> None:
    expect(page.locator("#editor")).not_to_have_class(re.compile(r"\bhtmx-(added|settling)\b"))


def test_p_proposes_the_suggested_new_source_and_the_claim_takes_it(browser_page, log_in):
    page = browser_page
    services.articles_import(records=[ArticleRecord(body=BODY, title="Kharkiv")])
    article = Article.objects.get(title="Kharkiv")
    Assignment.objects.create(article=article, annotator=User.objects.get(username="annotator1"))
    first = article.sentences.filter(kind=Sentence.Kind.SENTENCE).order_by("position")[0]
    name = first.suggested_new_source_name
    assert name, "the rules suggest a new source for this sentence"
    source = page.locator("#source-input")
    proposal = page.locator("form[data-propose-suggested]")

    log_in("annotator1")
    page.goto(f"/articles/{article.pk}/annotate/?s={first.pk}")
    expect(page.locator("#editor")).to_have_attribute("data-sentence", str(first.pk))
    expect(proposal).to_contain_text(f"New source suggested: {name}")
    expect(page.locator(".focus-text mark.suggested.span-mention")).to_be_visible()
    expect(source).to_have_value("")
    settle(page)
    page.keyboard.press("3")  # disputed: a change made before proposing
    page.keyboard.press("p")

    expect(page.locator("#editor .alert.ok")).to_contain_text(f"Proposed “{name}”")
    expect(source).to_have_value(name)
    expect(proposal).to_have_count(0)
    expect(
        page.locator('#label-form input[name="claims-0-status"][value="disputed"]')
    ).to_be_checked()
    assert Source.objects.get(name=name).status == Source.Status.PENDING

    settle(page)
    page.keyboard.press("Enter")
    expect(page.locator(f"#s-{first.pk} .chip")).to_contain_text(name)
    annotation = Annotation.objects.get(sentence=first, annotator__username="annotator1")
    assert (annotation.source.name, annotation.status.code) == (name, "disputed")
    assert annotation.suggested_new_source_name == name
    claim = annotation.claims.get()
    assert (claim.mention_start, claim.mention_end) == first.suggested_span("mention", body=True)
