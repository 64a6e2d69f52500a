"""Request middleware: checks that hold for every view, the admin's included."""

from django.http import HttpResponse
from django.utils.html import escape

# Longer than the request line gunicorn accepts by default (4094 bytes): no link or form of
# claimdesk makes such a query value, and SQLite refuses LIKE patterns past 50,000 bytes.
MAX_QUERY_VALUE = 4096


class RefuseMalformedParametersMiddleware:
    """Answer 400 to parameters no field accepts, before any view reads them.

    A NUL character (in the path, a parameter name or value, GET or POST) is never text a
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
    return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")
