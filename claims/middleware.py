"""Request-level safeguards: no caching of what logged-in users see, and a request body limit."""

from django.conf import settings
from django.http import HttpResponse
from django.urls import Resolver404, resolve
from django.utils.cache import add_never_cache_headers
from django.utils.html import escape


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
