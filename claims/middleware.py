"""Middleware of claimdesk: each class one concern, documented where it is."""

import logging
import sys
from urllib.parse import urlsplit

from django.conf import settings
from django.core.signals import got_request_exception
from django.db import InterfaceError, InternalError, OperationalError
from django.dispatch import receiver
from django.http import HttpResponse
from django.shortcuts import resolve_url
from django.template.loader import render_to_string
from django.urls import Resolver404, resolve
from django.utils.cache import add_never_cache_headers
from django.utils.html import escape

from claims.views_errors import fragment, is_htmx, login_again

logger = logging.getLogger("claims.database")

# What a person can do about each kind of outage, and when a client may try again (seconds).
UNAVAILABLE = {
    "read-only": (
        "The database is read-only",
        "The database accepts no changes right now (it is read-only), so {what}: "
        "tell your administrator, and try again once it is fixed.",
        60,
    ),
    "full": (
        "The database is full",
        "The database has no space left, so {what}: "
        "tell your administrator, and try again once it is fixed.",
        60,
    ),
    "busy": (
        "The database is busy",
        "The database is busy with other changes, so {what}: try again in a few seconds.",
        5,
    ),
    "disk": (
        "The database could not use its disk",
        "The database could not read or write its file (a disk error, or a full disk), so "
        "{what}: tell your administrator, and try again once it is fixed.",
        60,
    ),
    "unreachable": (
        "The database cannot be reached",
        "The database cannot be reached right now, so {what}: "
        "try again in a minute, and tell your administrator if it lasts.",
        30,
    ),
}

# SQLite result codes (extended codes such as SQLITE_READONLY_DBMOVED start with these).
SQLITE_KINDS = (
    ("SQLITE_READONLY", "read-only"),
    ("SQLITE_FULL", "full"),
    ("SQLITE_BUSY", "busy"),
    ("SQLITE_LOCKED", "busy"),
    ("SQLITE_CANTOPEN", "unreachable"),
    ("SQLITE_IOERR", "disk"),
)
# PostgreSQL SQLSTATEs: read-only transaction (a standby, default_transaction_read_only),
# insufficient resources (disk full, out of memory, too many connections), the server shutting
# down or starting, and connection exceptions.
POSTGRES_KINDS = (
    ("25006", "read-only"),
    ("53100", "full"),
    ("53300", "busy"),
    ("53", "full"),
    ("57P0", "unreachable"),
    ("08", "unreachable"),
)
# When the driver's error carries no code (an older driver, a wrapped error): its message.
MESSAGE_KINDS = (
    ("readonly database", "read-only"),
    ("read-only transaction", "read-only"),
    ("database or disk is full", "full"),
    ("no space left on device", "full"),
    ("database is locked", "busy"),
    ("database table is locked", "busy"),
)


def database_unavailable_kind(error: BaseException | None) -> str | None:
    """The kind of outage (a key of UNAVAILABLE) a database error means, or None for a bug.

    Only the database being read-only, full, busy or out of reach counts: an error in a query
    (a bad column, an integrity error) stays a 500, so that bugs are not disguised.
    """
    if not isinstance(error, OperationalError | InternalError | InterfaceError):
        return None
    cause = error.__cause__
    sqlite_name = getattr(cause, "sqlite_errorname", None)
    if sqlite_name:
        return next((kind for code, kind in SQLITE_KINDS if sqlite_name.startswith(code)), None)
    sqlstate = getattr(cause, "sqlstate", None)
    if sqlstate:
        return next((kind for code, kind in POSTGRES_KINDS if sqlstate.startswith(code)), None)
    text = str(error).lower()
    kind = next((kind for needle, kind in MESSAGE_KINDS if needle in text), None)
    if kind is None and type(cause).__module__.startswith("psycopg"):
        # psycopg gives no SQLSTATE when the connection itself failed (refused, reset, closed).
        return "unreachable"
    return kind


def database_unavailable_response(request, error: BaseException, kind: str) -> HttpResponse:
    """A 503 with Retry-After: the error page, or for htmx only the message fragment."""
    title, message, retry_after = UNAVAILABLE[kind]
    # A GET changed nothing; a POST may have been cut short (or, when only the session could
    # not be saved afterwards, have gone through: "may not").
    what = (
        "this page could not be shown"
        if request.method in ("GET", "HEAD")
        else "this may not have been saved"
    )
    message = message.format(what=what)
    logger.error(
        "Database unavailable (%s) on %s %s: %s",
        kind,
        request.method,
        request.path,
        error,
        exc_info=(type(error), error, error.__traceback__),
    )
    # Rendered without the request: no context processor, no session, no query.
    context = {"title": title, "message": message}
    htmx = request.headers.get("HX-Request") == "true"
    template = "503.html#request-error" if htmx else "503.html"
    response = HttpResponse(render_to_string(template, context), status=503)
    response["Retry-After"] = str(retry_after)
    response["Cache-Control"] = "no-store"
    return response


class DatabaseUnavailableMiddleware:
    """Answers 503 "the database is read-only, full, busy or unreachable", not a bare 500.

    A view's error reaches `process_exception`. An error raised by another middleware (the
    session saved after the view, a middleware asking who the user is) has already become a
    500 response by the time it gets here: the `got_request_exception` receiver below marks
    the request, and this middleware, placed before those, swaps that 500 for the 503.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        error = getattr(request, "_database_unavailable", None)
        if error is not None and response.status_code == 500:
            return database_unavailable_response(request, *error)
        return response

    def process_exception(self, request, exception):
        kind = database_unavailable_kind(exception)
        if kind is None:
            return None
        return database_unavailable_response(request, exception, kind)


@receiver(got_request_exception, dispatch_uid="claims.database_unavailable")
def _mark_database_unavailable(sender, request=None, **kwargs):
    error = sys.exception()  # the signal is sent while the exception is being handled
    kind = database_unavailable_kind(error)
    if request is not None and kind is not None:
        request._database_unavailable = (error, kind)


class NoStoreForUsersMiddleware:
    """`Cache-Control: no-store` on every response to a logged-in user, downloads included.

    A shared or browser cache must not keep labels, notes, review pages or exported datasets
    after the user logs out (a shared newsroom computer, a caching proxy)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            add_never_cache_headers(response)  # no-store, no-cache, must-revalidate, private
        return response


# URL names of the import steps (django-import-export's admin views), which take the import
# limit; every other request gets the small one.
IMPORT_URL_SUFFIXES = ("_import", "_process_import")


class RequestBodyLimitMiddleware:
    """Refuse a body larger than its limit with 413, before anything reads it.

    Django spools file uploads to disk whatever their size, so without this an anonymous POST
    of 300 MB to the login page filled /tmp. The limit is read from Content-Length; a body sent
    without one (chunked) is not read at all by Django under WSGI, so it cannot get past it.
    The proxy in front should refuse earlier still (nginx `client_max_body_size`).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0  # Django reads no body from an unparsable length
        limit = body_limit(request.path_info)
        if length > limit:
            return too_large(request, limit)
        return self.get_response(request)


def body_limit(path: str) -> int:
    try:
        name = resolve(path).url_name or ""
    except Resolver404:
        name = ""
    if name == "import_articles":  # the import page: several files, each within the limit
        files = settings.CLAIMDESK_MAX_IMPORT_FILES
        return settings.CLAIMDESK_MAX_IMPORT_BYTES * files + 64 * 1024
    if name.endswith(IMPORT_URL_SUFFIXES):
        # The file plus the form around it (multipart boundaries, the format field).
        return settings.CLAIMDESK_MAX_IMPORT_BYTES + 64 * 1024
    return settings.CLAIMDESK_MAX_REQUEST_BYTES


def too_large(request, limit: int) -> HttpResponse:
    message = f"The request is too large: the limit here is {limit:,} bytes."
    if request.headers.get("HX-Request") == "true":
        fragment = '<div class="request-error" role="alert" data-error-message>{}</div>'
        response = HttpResponse(fragment.format(escape(message)), status=413)
    else:
        response = HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")
    response["Connection"] = "close"  # the unread body is not worth keeping the socket for
    return response


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


# Longer than the request line gunicorn accepts by default (4094 bytes): no link or form of
# claimdesk makes such a query value, and SQLite refuses LIKE patterns past 50,000 bytes.
MAX_QUERY_VALUE = 4096


class RefuseMalformedParametersMiddleware:
    """Answer 400 to parameters no field accepts, before any view reads them.

    A NUL character (in the path, a cookie, a parameter name or value, GET or POST) is never text a
    person typed; PostgreSQL refuses it in a query (psycopg raises ValueError) and SQLite
    stores it. An overlong query-string value is no search anyone typed either. Refused at the
    door with a message, rather than a 500 from whichever view reads the value first.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        problem = self.problem(request)
        if problem:
            return refusal(request, problem)
        return self.get_response(request)

    @staticmethod
    def problem(request) -> str:
        if "\x00" in request.path_info or holds_nul(request.GET):
            return "The address holds a NUL character, which no field accepts."
        if any("\x00" in name or "\x00" in value for name, value in request.COOKIES.items()):
            return "A cookie holds a NUL character: clear this site's cookies and log in again."
        if request.method == "POST" and holds_nul(request.POST):
            return "The form holds a NUL character, which no field accepts. Remove it and retry."
        if any(len(v) > MAX_QUERY_VALUE for _, values in request.GET.lists() for v in values):
            return f"A value in the address is longer than {MAX_QUERY_VALUE} characters."
        return ""


def holds_nul(data) -> bool:
    return any("\x00" in key or any("\x00" in v for v in values) for key, values in data.lists())


def refusal(request, message: str) -> HttpResponse:
    """400 with the message: an htmx fragment for htmx requests (see the error contract)."""
    if request.headers.get("HX-Request") == "true":
        fragment = '<div class="request-error" role="alert" data-error-message>{}</div>'
        return HttpResponse(fragment.format(escape(message)), status=400)
    return HttpResponse(render_to_string("400.html", {"message": message}), status=400)
