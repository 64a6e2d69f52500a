"""Request middleware of claimdesk."""

from urllib.parse import urlsplit

from django.conf import settings
from django.shortcuts import resolve_url

from claims.views_errors import fragment, is_htmx, login_again


class HtmxLoginRequiredMiddleware:
    """An htmx request that would be redirected to the login page gets a 401 fragment instead.

    login_required answers a logged-out user with a redirect, which htmx follows silently and
    then swaps the login page into the editor: the save is lost and nothing says so. A 401
    fragment is shown as "Not saved" with a link to log in again in another tab, after which
    retry works (the form still holds its values). An authenticated user redirected to the
    login page lacks a permission: a 403 fragment.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not (is_htmx(request) and response.status_code in (301, 302, 303, 307, 308)):
            return response
        login_path = urlsplit(resolve_url(settings.LOGIN_URL)).path
        if urlsplit(response.get("Location", "")).path != login_path:
            return response
        if request.user.is_authenticated:
            return fragment("You are not allowed to do this with your account.", status=403)
        return login_again(request)
