"""Error responses: a page for a browser, a fragment for htmx, never a silent redirect."""

import re

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse

from claims import selectors
from claims.models import Annotation
from claims.views_errors import CSRF_REFRESH_HEADER, server_error
from tests.factories_workspace import annotatable, assign, label_post, make_article

HX = {"HX-Request": "true"}
FRAGMENT = re.compile(
    r'^<div class="request-error" role="alert" data-error-message>.+</div>$', re.S
)


@pytest.fixture
def workspace(annotator):
    article = make_article(3)
    assign(article, annotator)
    return article, annotatable(article)[0]


def save_url(article, sentence) -> str:
    return reverse("claims:sentence_save", args=[article.pk, sentence.pk])


# --- 500 -------------------------------------------------------------------------------------


def test_500_page_renders_without_database_or_session():
    # No `db` fixture: any query would fail the test; no session or user on the request.
    response = server_error(RequestFactory().get("/anything/"))
    html = response.content.decode()
    assert response.status_code == 500
    assert "<html" in html
    assert "The server had a problem" in html
    assert "may not have been saved" in html


def test_500_for_htmx_is_a_fragment():
    response = server_error(RequestFactory().post("/anything/", headers=HX))
    assert response.status_code == 500
    html = response.content.decode()
    assert FRAGMENT.match(html)
    assert "not saved" in html


@pytest.fixture
def crashing_search(monkeypatch):
    def boom(**kwargs):
        raise RuntimeError("injected fault")

    monkeypatch.setattr(selectors, "source_search", boom)
    return reverse("claims:source_search")


def test_a_crash_answers_the_custom_500_page(crashing_search, annotator):
    client = Client(raise_request_exception=False)
    client.force_login(annotator)
    response = client.get(crashing_search)
    assert response.status_code == 500
    assert "<html" in response.content.decode()
    assert "Server Error (500)" not in response.content.decode()
    assert "The server had a problem" in response.content.decode()


def test_a_crash_answers_htmx_with_a_fragment(crashing_search, annotator):
    client = Client(raise_request_exception=False)
    client.force_login(annotator)
    response = client.get(crashing_search, headers=HX)
    assert response.status_code == 500
    assert FRAGMENT.match(response.content.decode())


# --- 401 for logged-out htmx requests --------------------------------------------------------


def test_logged_out_htmx_save_gets_401_fragment_not_the_login_page(client, workspace):
    article, sentence = workspace
    response = client.post(save_url(article, sentence), label_post(sentence), headers=HX)
    html = response.content.decode()
    assert response.status_code == 401
    assert "Location" not in response
    assert FRAGMENT.match(html)
    assert 'href="/accounts/login/" target="_blank"' in html
    assert "<form" not in html  # not the login page
    assert not Annotation.objects.exists()


def test_logged_out_htmx_get_gets_401(client, workspace):
    article, sentence = workspace
    url = reverse("claims:sentence_edit", args=[article.pk, sentence.pk])
    response = client.get(url, headers=HX)
    assert response.status_code == 401
    assert FRAGMENT.match(response.content.decode())


def test_logged_out_plain_request_still_redirects_to_login(client, workspace):
    article, _ = workspace
    response = client.get(reverse("claims:annotate", args=[article.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_logged_in_htmx_redirects_are_untouched(client, workspace, annotator):
    article, sentence = workspace
    client.force_login(annotator)
    response = client.post(save_url(article, sentence), label_post(sentence), headers=HX)
    assert response.status_code == 200
    assert Annotation.objects.count() == 1


# --- CSRF failure ----------------------------------------------------------------------------


@pytest.fixture
def csrf_client(annotator, workspace):
    """A logged-in client that enforces CSRF and holds a csrftoken cookie, as a browser does."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(annotator)
    article, _ = workspace
    assert client.get(reverse("claims:annotate", args=[article.pk])).status_code == 200
    assert "csrftoken" in client.cookies
    return client


def test_stale_csrf_token_for_htmx_is_a_fragment_with_a_renewed_token(csrf_client, workspace):
    article, sentence = workspace
    stale = "x" * 64
    response = csrf_client.post(
        save_url(article, sentence), label_post(sentence), headers={**HX, "X-CSRFToken": stale}
    )
    assert response.status_code == 403
    assert FRAGMENT.match(response.content.decode())
    assert "security token" in response.content.decode()
    renewed = response[CSRF_REFRESH_HEADER]
    assert re.fullmatch(r"[A-Za-z0-9]{64}", renewed)
    assert not Annotation.objects.exists()

    # Retrying with the renewed token succeeds: what the keyboard module does.
    retry = csrf_client.post(
        save_url(article, sentence), label_post(sentence), headers={**HX, "X-CSRFToken": renewed}
    )
    assert retry.status_code == 200
    assert Annotation.objects.count() == 1


def test_stale_csrf_token_for_a_plain_form_is_a_page(csrf_client, workspace):
    article, sentence = workspace
    response = csrf_client.post(
        save_url(article, sentence), {**label_post(sentence), "csrfmiddlewaretoken": "x" * 64}
    )
    html = response.content.decode()
    assert response.status_code == 403
    assert "<html" in html
    assert "This form had expired" in html
    assert CSRF_REFRESH_HEADER not in response


def test_no_renewed_token_without_the_htmx_header(csrf_client, workspace):
    # A cross-site form post cannot send HX-Request; it must never be handed a token.
    article, sentence = workspace
    response = csrf_client.post(save_url(article, sentence), label_post(sentence))
    assert response.status_code == 403
    assert CSRF_REFRESH_HEADER not in response


def test_csrf_failure_of_a_logged_out_htmx_request_asks_to_log_in(workspace):
    article, sentence = workspace
    client = Client(enforce_csrf_checks=True)
    response = client.post(save_url(article, sentence), label_post(sentence), headers=HX)
    assert response.status_code == 401
    assert "Log in again" in response.content.decode()
    assert CSRF_REFRESH_HEADER not in response
