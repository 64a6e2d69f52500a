"""API tokens: a user's keys for the REST API, created and revoked on their settings page.

A key is shown once, when it is created; the database keeps only its SHA-256 (a leaked
database gives no working key) and its first characters, so that a person can tell keys apart.
"""

import datetime
import hashlib
import secrets

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone

from claims.models import ApiToken

KEY_PREFIX = "cd_"  # recognisable in logs and by secret scanners
SHOWN_CHARACTERS = 10  # "cd_" and 7 more: enough to tell a user's keys apart
# last_used_at is written at most this often per token: not one UPDATE per API request.
LAST_USED_RESOLUTION = datetime.timedelta(minutes=1)
MAX_TOKENS = 50  # live tokens per user


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def token_create(*, user, name: str) -> tuple[ApiToken, str]:
    """A new token and its key; the key is not stored and cannot be shown again."""
    name = " ".join(name.split())
    if not name:
        raise ValidationError("Give the token a name, e.g. the script that will use it.")
    if ApiToken.objects.filter(user=user, revoked_at=None).count() >= MAX_TOKENS:
        raise ValidationError(f"You have {MAX_TOKENS} tokens: revoke one you no longer use.")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name[:100], key_hash=key_hash(key), prefix=key[:SHOWN_CHARACTERS]
    )
    return token, key


def token_revoke(*, user, token_id: int) -> bool:
    """Revoke one of the user's own tokens; False when they have no such live token."""
    revoked = ApiToken.objects.filter(pk=token_id, user=user, revoked_at=None).update(
        revoked_at=timezone.now()
    )
    return bool(revoked)


def token_user(key: str) -> ApiToken | None:
    """The live token of this key, with its (active) user; notes when it was last used."""
    if not key.startswith(KEY_PREFIX) or len(key) > 100:
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=key_hash(key), revoked_at=None, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        # A conditional UPDATE: of concurrent requests, one writes.
        ApiToken.objects.filter(pk=token.pk).filter(
            Q(last_used_at=None) | Q(last_used_at__lte=now - LAST_USED_RESOLUTION)
        ).update(last_used_at=now)
        token.last_used_at = now
    return token


def tokens_of(user):
    return ApiToken.objects.filter(user=user).order_by("revoked_at", "-created_at", "-id")
