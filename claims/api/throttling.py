"""Rate limits per API token (a script's key), or per user for the browser's session."""

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from claims.models import ApiToken
from claims.throttling import client_ip


class TokenRateThrottle(SimpleRateThrottle):
    scope = "api"

    def get_rate(self):
        # Read per request (not at import), so that the setting can change in tests.
        return settings.CLAIMDESK_API_THROTTLE_RATE or None

    def get_cache_key(self, request, view):
        if isinstance(request.auth, ApiToken):
            ident = f"token-{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            # The site's own reading of the client address (not DRF's, which trusts any
            # X-Forwarded-For): only the schema and docs pages answer without a login.
            ident = f"ip-{client_ip(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
