"""The admin is usable on day one: every claimdesk page renders, sources are found by alias."""

import pytest
from django.urls import reverse

from claims.models import Article


@pytest.fixture
def admin_client_logged(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.mark.parametrize(
    "name",
    [
        "admin:claims_article_changelist",
        "admin:claims_article_add",
        "admin:claims_article_export",
        "admin:claims_source_changelist",
        "admin:claims_source_add",
        "admin:claims_verificationstatus_changelist",
        "admin:claims_annotation_changelist",
    ],
)
def test_admin_page_renders(admin_client_logged, demo_article, name):
    assert admin_client_logged.get(reverse(name)).status_code == 200


def test_article_change_page_shows_sentences_read_only(admin_client_logged, demo_article):
    url = reverse("admin:claims_article_change", args=[demo_article.pk])
    html = admin_client_logged.get(url).content.decode()
    assert "Russia has vowed retaliation" in html
    assert 'name="body"' not in html  # offsets point into the body: it is not editable


def test_source_is_found_by_alias(admin_client_logged, mod_source):
    url = reverse("admin:claims_source_changelist")
    html = admin_client_logged.get(url, {"q": "Russian MoD"}).content.decode()
    assert "Russian Ministry of Defence" in html


def test_adding_an_article_in_the_admin_segments_it(admin_client_logged, db):
    response = admin_client_logged.post(
        reverse("admin:claims_article_add"),
        {"title": "", "body": "Kyiv said it shot down 20 drones. Moscow denied it.", "url": ""},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    article = Article.objects.get()
    assert article.title == "Kyiv said it shot down 20 drones."
    assert [s.text for s in article.sentences.all()] == [
        "Kyiv said it shot down 20 drones.",
        "Moscow denied it.",
    ]


def test_adding_a_duplicate_article_in_the_admin_is_refused(admin_client_logged, demo_article):
    response = admin_client_logged.post(
        reverse("admin:claims_article_add"), {"title": "Again", "body": demo_article.body}
    )
    assert response.status_code == 200
    assert "already imported as article" in response.content.decode()
    assert Article.objects.count() == 1
