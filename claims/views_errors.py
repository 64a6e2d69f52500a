"""Error responses that say what happened and what to do, as a page or as an htmx fragment.

They need no database and no request context (a 500 may come from a broken database), and an
htmx request gets only `<div class="request-error" role="alert" data-error-message>`, which the
keyboard module shows in its persistent "Not saved" message (see docs/annotating.md).
"""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import resolve_url
from django.template import loader
from django.utils.html import format_html
from django.views.decorators.csrf import requires_csrf_token

# The keyboard module reads a refreshed CSRF token from this header of a 403 CSRF failure.
CSRF_REFRESH_HEADER = "X-CSRF-Refresh"


def is_htmx(request: HttpRequest) -> bool:
    # The header itself, not request.htmx: a 500 may come before HtmxMiddleware has run.
    return request.headers.get("HX-Request") == "true"


def fragment(message, *, status: int) -> HttpResponse:
    """The htmx form of an error: one sentence a person can act on, announced as an alert."""
    body = format_html(
        '<div class="request-error" role="alert" data-error-message>{}</div>', message
    )
    return HttpResponse(body, status=status)


def page(template: str, *, status: int, context: dict | None = None) -> HttpResponse:
    # Rendered without a request: no context processor, so no query, no session.
    return HttpResponse(loader.get_template(template).render(context or {}), status=status)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: a page (or fragment) that tells the user their work may not be saved."""
    if is_htmx(request):
        return fragment(
            "The server had a problem and your change was not saved; "
            "try again in a moment, and tell an administrator if it keeps happening.",
            status=500,
        )
    return page("500.html", status=500)


def login_again(request: HttpRequest) -> HttpResponse:
    """401 for an htmx request without a session: a link to log in in a new tab, then retry."""
    login = resolve_url(settings.LOGIN_URL)
    return fragment(
        format_html(
            'Your session has ended. <a href="{}" target="_blank" rel="noopener">Log in again'
            "</a> (a new tab opens), then come back and press Retry: your changes are still "
            "here.",
            login,
        ),
        status=401,
    )


@requires_csrf_token
def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: explain a stale form and, to an htmx request, hand it today's token.

    The token goes only to a request carrying `HX-Request`, a header that a cross-site page
    cannot send without a CORS preflight (which this site never grants), and it is the token
    any page of this site shows the same browser; the keyboard module accepts it only from a
    same-origin response.
    """
    if not is_htmx(request):
        return page("403_csrf.html", status=403)
    if not request.user.is_authenticated:
        return login_again(request)
    response = fragment(
        "The page's security token was out of date (you probably logged in again in another "
        "tab); it has been renewed, press Retry to save.",
        status=403,
    )
    response[CSRF_REFRESH_HEADER] = get_token(request)
    return response
