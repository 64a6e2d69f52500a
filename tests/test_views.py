"""The first pages: article list and article reader, full page and htmx partial."""

import pytest
from django.urls import reverse

from claims import services
from claims.importing import ArticleRecord
from claims.models import Sentence


@pytest.fixture
def logged_in(client, editor):
    client.force_login(editor)
    return client


def test_home_requires_login(client, db):
    response = client.get(reverse("claims:home"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_login_page_renders(client, db):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert b'name="username"' in response.content


def test_home_lists_articles_with_sentence_counts(logged_in, demo_article):
    response = logged_in.get(reverse("claims:home"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" in html
    assert "Russia has vowed retaliation" in html
    sentences = demo_article.sentences.filter(kind=Sentence.Kind.SENTENCE).count()
    credits = demo_article.sentences.filter(kind=Sentence.Kind.CREDIT).count()
    assert f'<td class="num">{sentences}</td>' in html
    assert f'<td class="num">{credits}</td>' in html


def test_home_htmx_request_returns_only_the_list(logged_in, demo_article):
    response = logged_in.get(
        reverse("claims:home"), {"q": "Belgorod"}, headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert 'id="article-list"' in html
    assert "<html" not in html
    assert "Russia has vowed retaliation" in html


def test_home_search_without_match_says_so(logged_in, demo_article):
    response = logged_in.get(reverse("claims:home"), {"q": "Antarctica"})
    assert "No article matches" in response.content.decode()
    assert "Russia has vowed retaliation" not in response.content.decode()


def test_article_page_shows_sentences_in_order_with_credits_marked(logged_in, demo_article):
    response = logged_in.get(reverse("claims:article_detail", args=[demo_article.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    sentences = list(demo_article.sentences.order_by("position"))
    assert sentences[0].text.startswith("Russia has vowed retaliation")
    positions = [html.index(f'id="s-{s.pk}"') for s in sentences]
    assert positions == sorted(positions)
    assert html.count('class="sentence kind-credit"') == 2
    assert html.count('<span class="badge">credit</span>') == 2
    assert "date 2023-12-30" not in html


def test_article_page_badges_a_dateline_and_home_counts_it_with_the_credits(logged_in, db):
    body = "KYIV, Ukraine (AP) — Kyiv said the bridge was hit. | Photo: Ivan Petrenko/AP"
    article, _ = services.article_upsert(record=ArticleRecord(body=body, title="Bridge"))
    dateline = article.sentences.get(kind=Sentence.Kind.DATELINE)

    html = logged_in.get(reverse("claims:article_detail", args=[article.pk])).content.decode()
    home = logged_in.get(reverse("claims:home")).content.decode()

    assert dateline.text == "KYIV, Ukraine (AP) —"
    assert f'id="s-{dateline.pk}" class="sentence kind-dateline"' in html
    assert '<span class="badge">dateline</span> KYIV, Ukraine (AP) —' in html
    assert '<span class="badge">credit</span> Photo: Ivan Petrenko/AP' in html
    assert '<td class="num">1</td>\n        <td class="num">2</td>' in home


def test_article_page_groups_sentences_into_the_body_paragraphs(logged_in, demo_article):
    html = logged_in.get(reverse("claims:article_detail", args=[demo_article.pk])).content.decode()
    body_paragraphs = [p for p in demo_article.body.split("\n") if p.strip()]
    assert html.count('<p class="paragraph">') == len(body_paragraphs)


def test_article_text_is_escaped(logged_in, db):
    body = 'He said "<script>alert(1)</script>" today. <img src=x onerror=alert(1)> Then left.'
    article, _ = services.article_upsert(record=ArticleRecord(body=body, title="<b>bold</b>"))
    html = logged_in.get(reverse("claims:article_detail", args=[article.pk])).content.decode()
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert "<b>bold" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_unknown_article_is_404(logged_in, db):
    assert logged_in.get(reverse("claims:article_detail", args=[999])).status_code == 404
