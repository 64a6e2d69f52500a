"""API tokens: hashed at rest, shown once, revocable, and good for the API only."""

import datetime
import hashlib

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.utils import timezone
from rest_framework.test import APIClient

from claims import tokens
from claims.models import ApiToken


@pytest.fixture(autouse=True)
def _fresh_throttle():
    cache.clear()


def api(key: str, scheme: str = "Bearer") -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"{scheme} {key}")
    return client


def test_only_the_hash_of_a_key_is_stored(editor):
    token, key = tokens.token_create(user=editor, name="  newsroom   scraper ")
    assert key.startswith("cd_") and len(key) > 40
    stored = ApiToken.objects.get(pk=token.pk)
    assert stored.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert stored.prefix == key[:10] and key not in str(ApiToken.objects.values().get())
    assert stored.name == "newsroom scraper"


def test_a_token_needs_a_name(editor):
    with pytest.raises(ValidationError):
        tokens.token_create(user=editor, name="   ")


@pytest.mark.parametrize("scheme", ["Bearer", "Token", "bearer"])
def test_key_authenticates_the_api(editor, scheme):
    _, key = tokens.token_create(user=editor, name="script")
    assert api(key, scheme).get("/api/v1/statuses/").status_code == 200


def test_without_credentials_the_api_answers_401_with_the_scheme(db):
    response = APIClient().get("/api/v1/statuses/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("key", ["cd_not-a-key", "not-ours", "cd_" + "x" * 200])
def test_unknown_keys_are_refused(db, key):
    assert api(key).get("/api/v1/statuses/").status_code == 401


def test_revoked_token_is_refused(editor):
    token, key = tokens.token_create(user=editor, name="script")
    assert tokens.token_revoke(user=editor, token_id=token.pk)
    assert api(key).get("/api/v1/statuses/").status_code == 401


def test_token_of_an_inactive_user_is_refused(editor):
    _, key = tokens.token_create(user=editor, name="script")
    editor.is_active = False
    editor.save()
    assert api(key).get("/api/v1/statuses/").status_code == 401


def test_a_user_cannot_revoke_another_users_token(editor, annotator):
    token, key = tokens.token_create(user=editor, name="script")
    assert not tokens.token_revoke(user=annotator, token_id=token.pk)
    assert api(key).get("/api/v1/statuses/").status_code == 200


def test_last_used_is_written_at_most_once_a_minute(editor):
    token, key = tokens.token_create(user=editor, name="script")
    client = api(key)
    client.get("/api/v1/statuses/")
    first = ApiToken.objects.get(pk=token.pk).last_used_at
    assert first is not None
    client.get("/api/v1/statuses/")
    assert ApiToken.objects.get(pk=token.pk).last_used_at == first
    earlier = timezone.now() - datetime.timedelta(minutes=2)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=earlier)
    client.get("/api/v1/statuses/")
    assert ApiToken.objects.get(pk=token.pk).last_used_at > earlier


@pytest.mark.parametrize("url", ["/", "/admin/", "/export/", "/jobs/", "/settings/tokens/"])
def test_tokens_do_not_open_pages_or_the_admin(admin_user, url):
    _, key = tokens.token_create(user=admin_user, name="script")
    response = api(key).get(url)
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_tokens_cannot_post_to_the_admin(admin_user):
    _, key = tokens.token_create(user=admin_user, name="script")
    before = ApiToken.objects.count()
    response = api(key).post("/admin/claims/apitoken/add/", {"name": "x"})
    assert response.status_code in (302, 403, 404)
    assert ApiToken.objects.count() == before


# --- the settings page ---------------------------------------------------------------------


def test_settings_page_creates_a_token_and_shows_its_key_once(client, editor):
    client.force_login(editor)
    response = client.post("/settings/tokens/new/", {"name": "notebook"})
    assert response.status_code == 201
    html = response.content.decode()
    token = ApiToken.objects.get(user=editor)
    key = html.split('<code class="token-key">')[1].split("</code>")[0]
    assert tokens.key_hash(key) == token.key_hash
    page = client.get("/settings/tokens/").content.decode()
    assert "notebook" in page and token.prefix in page and key not in page


def test_settings_page_lists_only_own_tokens(client, editor, annotator):
    tokens.token_create(user=annotator, name="someone else's")
    tokens.token_create(user=editor, name="mine")
    client.force_login(editor)
    page = client.get("/settings/tokens/").content.decode()
    assert "mine" in page and "someone else" not in page


def test_settings_page_revokes_own_token_only(client, editor, annotator):
    theirs, _ = tokens.token_create(user=annotator, name="theirs")
    mine, _ = tokens.token_create(user=editor, name="mine")
    client.force_login(editor)
    assert client.post(f"/settings/tokens/{theirs.pk}/revoke/").status_code == 302
    assert client.post(f"/settings/tokens/{mine.pk}/revoke/").status_code == 302
    assert ApiToken.objects.get(pk=theirs.pk).revoked_at is None
    assert ApiToken.objects.get(pk=mine.pk).revoked_at is not None
    assert "revoked" in client.get("/settings/tokens/").content.decode()


def test_settings_page_refuses_a_blank_name(client, editor):
    client.force_login(editor)
    assert client.post("/settings/tokens/new/", {"name": " "}).status_code == 422
    assert not ApiToken.objects.exists()


def test_user_menu_links_to_the_tokens_page(client, annotator):
    client.force_login(annotator)
    assert 'href="/settings/tokens/"' in client.get("/").content.decode()


def test_tokens_page_needs_login(client, db):
    assert client.get("/settings/tokens/").status_code == 302


def test_token_user_of_other_scheme_is_left_to_the_session(client, editor):
    client.force_login(editor)
    response = client.get("/api/v1/statuses/", HTTP_AUTHORIZATION="Basic Zm9vOmJhcg==")
    assert response.status_code == 200
