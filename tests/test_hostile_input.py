"""No input makes claimdesk answer 5xx.

Every URL of the URL configuration is requested as every role, GET and POST, plain and htmx,
with hostile values for every parameter its view reads (the form fields, the parameters the
views read by hand, and every name the rendered page itself offers: form fields and filter
links), with hostile parameter names (lookups through relations), and with hostile ids in
the path. A 4xx is a fine answer; a 5xx fails, and all of them are reported together.
"""

import re
from html.parser import HTMLParser
from io import StringIO
from urllib.parse import parse_qsl, quote

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, User
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import transaction
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern

from claims import services
from claims.forms import ExportForm, GoldForm, LabelForm, ReviewFilterForm, SourceProposalForm
from claims.models import Annotation, ReviewItem, Source
from tests.test_authorization import ROLES, USERS

LONG = "x" * 100_000
# Sent as given: str UTF-8 encoded, bytes raw (an encoded surrogate); a tuple repeats the
# parameter.
HOSTILE = (
    "\x00",
    "",
    "-1",
    str(2**63),
    str(2**64),
    "1e309",
    "²",
    "٣",
    LONG,
    "annotator__password__startswith",
    "../../etc/passwd",
    "\u202e\u2066x\u200f",
    b"\xed\xa0\x80",
    ("1", "²"),
)
# The few that break parsers most often: for htmx variants, other roles, admin object pages.
QUICK = ("\x00", "²", str(2**64), LONG, b"\xed\xa0\x80", ("1", "²"))
# Tried one parameter at a time (the others left at valid values), so that one parameter's
# error cannot hide another's.
PER_PARAMETER = ("²", str(2**64), LONG)
# Names no view reads: lookups through relations, and broken names.
HOSTILE_NAMES = (
    "annotator__password__startswith",
    "sentence__annotations__annotator__password__startswith",
    "proposed_by__password__regex",
    "pk__in",
    "\x00",
    "q\x00",
    "²",
)
# Path ids: every <int:…> and <path:…> part of a URL in turn.
HOSTILE_IDS = ("0", str(2**31), str(2**63), str(2**64), "9" * 40)
HOSTILE_PATH_TEXT = ("%00", "%C2%B2", "-1", "..%2F..%2Fetc%2Fpasswd", "a__pk__gt", "x" * 3000)
# The admin takes its ids as text (<path:object_id>) and checks them in one place per view.
ADMIN_HOSTILE_IDS = (str(2**64), "%00", "%C2%B2", "..%2F..%2Fetc%2Fpasswd", "x" * 3000)

REVIEW_FILTERS = tuple(ReviewFilterForm.base_fields)
LABEL = tuple(LabelForm.base_fields)
# The parameters each view reads that its page does not show as fields (or for POST-only
# views, which have no page of their own); the rest is read from the rendered pages.
PARAMETERS = {
    "login": ("username", "password", "next"),
    "logout": ("next",),
    "password_change": ("old_password", "new_password1", "new_password2"),
    "claims:home": ("q", "page"),
    "claims:annotate": ("s",),
    "claims:undo": ("s",),
    "claims:sentence_edit": ("s",),
    "claims:sentence_save": LABEL,
    "claims:source_propose": tuple(f"propose-{n}" for n in SourceProposalForm.base_fields),
    "claims:source_search": ("source",),
    "claims:assign": ("articles", "annotators", "overlap"),
    "claims:review_queue": REVIEW_FILTERS,
    "claims:review_bulk_accept": REVIEW_FILTERS,
    "claims:review_detail": REVIEW_FILTERS,
    "claims:review_accept": (*REVIEW_FILTERS, "annotation", "version", "comment"),
    "claims:review_correct": (*REVIEW_FILTERS, *GoldForm.base_fields),
    "claims:review_send_back": (*REVIEW_FILTERS, "comment"),
    "claims:export": tuple(ExportForm.base_fields),
    "claims:export_download": tuple(ExportForm.base_fields),
}
# Admin parameters that its pages do not always show: the changelist's ordering, page and
# popup ones, the import confirm step's, the autocomplete view's.
ADMIN_PARAMETERS = (
    "o",
    "p",
    "all",
    "e",
    "_to_field",
    "_popup",
    "_changelist_filters",
    "import_file_name",
    "original_file_name",
    "format",
    "resource",
    "term",
    "app_label",
    "model_name",
    "field_name",
)
LOGIN_PAGES = ("/accounts/login/", "/admin/login/")


# --- the URLs ------------------------------------------------------------------------------


def routes(patterns=None, prefix="", namespace=None):
    """(name, route) for every URL pattern; the route keeps its <converter:name> parts."""
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        route = str(pattern.pattern)
        if isinstance(pattern.pattern, RegexPattern):
            route = route.removeprefix("^").removesuffix("$")
        if isinstance(pattern, URLResolver):
            yield from routes(pattern.url_patterns, prefix + route, pattern.namespace or namespace)
        elif isinstance(pattern, URLPattern):
            name = pattern.name or prefix + route or "root"
            yield (f"{namespace}:{name}" if namespace else name), prefix + route


ROUTES = sorted(set(routes()))
# A route's variable parts: <int:x>, <path:x>, <x>, (?P<x>…), (…).
PART = r"<(?:(\w+):)?(\w+)>|\(\?P<(\w+)>[^)]*\)|\(\[\^/\]\+\)"


def fill(route: str, values: dict, hostile: tuple[int, str] | None = None) -> tuple[str, int]:
    """The path of `route` with its parts from `values` (part `hostile[0]` replaced)."""
    positional = iter(("object_id", "history_id"))
    count = 0

    def part(match):
        nonlocal count
        converter, name = match.group(1), match.group(2) or match.group(3)
        name = name or next(positional)
        index, count = count, count + 1
        if hostile and hostile[0] == index:
            if converter == "id" and not (hostile[1].isascii() and hostile[1].isdigit()):
                return "0"  # the converter would not match: nothing to try
            return hostile[1]
        return str(values.get(name, "1"))

    path = "/" + re.sub(PART, part, route)
    return path, count


# --- the data ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """The demo data, made once for the module and rolled back after it."""
    with django_db_blocker.unblock(), transaction.atomic():
        with override_settings(DEBUG=True):  # load_demo is a development tool
            call_command("load_demo", verbosity=0, stdout=StringIO())
        outsider = User.objects.create_user("outsider", password="outsider-pw")
        outsider.groups.add(Group.objects.get(name="annotator"))
        item = ReviewItem.objects.order_by("sentence_id").first()
        sentence = item.sentence
        editor = User.objects.get(username="editor")
        annotation = Annotation.objects.filter(sentence=sentence).first()
        # A gold label and a send-back, so that their admin pages have rows.
        services.gold_label_accept(annotation=annotation, editor=editor, expected_version=0)
        other = ReviewItem.objects.exclude(sentence=sentence).order_by("sentence_id").first()
        services.sentence_send_back(sentence=other.sentence, editor=editor, comment="Look again")
        yield {
            "article_id": sentence.article_id,
            "sentence_id": sentence.pk,
            "annotation_id": annotation.pk,
            "outsider_id": outsider.pk,
            "content_type_id": ContentType.objects.get_for_model(Source).pk,
            "source_id": Source.objects.order_by("pk").first().pk,
        }
        transaction.set_rollback(True)


def path_values(route: str, world: dict) -> dict:
    values = {**world, "app_label": "claims", "url": "no-such-page", "id": 1}
    values["object_id"] = world["source_id"]
    parts = route.split("/")
    if route.startswith("admin/") and len(parts) > 3 and parts[1] in {"auth", "axes", "claims"}:
        model = apps.get_model(parts[1], parts[2])
        obj = model._default_manager.order_by("pk").first()
        values["object_id"] = values["id"] = obj.pk if obj else 1
        history = getattr(model, "history", None)
        if obj is not None and history is not None:
            record = history.filter(pk=obj.pk).first()
            values["history_id"] = record.history_id if record else 1
    return values


IMPORT_CONFIRM = {"format": "0", "resource": "0", "original_file_name": "a.csv"}


def base_values(name: str, world: dict) -> dict:
    """Valid values for the parameters a POST needs, so that one hostile value reaches deep."""
    return {
        "claims:sentence_save": {"is_claim": "no", "version": "0"},
        "claims:review_correct": {"is_claim": "no", "version": "1"},
        "claims:review_accept": {"annotation": str(world["annotation_id"]), "version": "1"},
        "claims:review_send_back": {"comment": "Look again"},
        "claims:source_propose": {"propose-name": "A new source", "propose-kind": "unknown"},
        "admin:claims_article_process_import": IMPORT_CONFIRM,
        "admin:claims_source_process_import": IMPORT_CONFIRM,
        "admin:claims_verificationstatus_process_import": IMPORT_CONFIRM,
        "claims:assign": {
            "articles": str(world["article_id"]),
            "annotators": str(world["outsider_id"]),
            "overlap": "1",
        },
    }.get(name, {})


# --- the requests --------------------------------------------------------------------------


class FieldNames(HTMLParser):
    """The parameter names a page offers: its form fields and the keys of its ?links."""

    def __init__(self):
        super().__init__()
        self.names: set[str] = set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in {"input", "select", "textarea", "button"} and attrs.get("name"):
            self.names.add(attrs["name"])
        href = attrs.get("href") or ""
        if tag == "a" and href.startswith("?"):
            self.names.update(key for key, _ in parse_qsl(href[1:], keep_blank_values=True))


def names_on(response) -> set[str]:
    if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
        return set()
    parser = FieldNames()
    parser.feed(response.content.decode("utf-8", "replace"))
    return parser.names - {"csrfmiddlewaretoken"}


def encode(params: dict) -> str:
    pairs = []
    for name, value in params.items():
        for one in value if isinstance(value, tuple) else (value,):
            pairs.append(f"{quote(name, safe='')}={quote(one, safe='')}")
    return "&".join(pairs)


class Prober:
    def __init__(self, name: str):
        self.name = name
        self.client = Client(raise_request_exception=False)
        self.failures: dict[str, list[str]] = {}
        self.role = "anonymous"

    def login(self, role: str) -> None:
        self.role = role
        self.client.logout()
        if role != "anonymous":
            self.client.force_login(User.objects.get(username=USERS[role]))

    def send(self, method: str, path: str, params: dict, *, htmx: bool = False):
        query = encode(params)
        url = f"{path}?{query}" if query else path
        headers = {"HX-Request": "true"} if htmx else {}
        if method == "GET":
            response = self.client.get(url, headers=headers)
        else:
            # The same parameters in the query string and the body: views read both.
            response = self.client.post(
                url, data=query, content_type="application/x-www-form-urlencoded", headers=headers
            )
        if response.status_code >= 500:
            error = response.exc_info[1] if response.exc_info else "no exception"
            key = f"{type(error).__name__}: {str(error)[:150]}"
            shown = {k: (v if len(str(v)) < 40 else f"{str(v)[:10]}…") for k, v in params.items()}
            self.failures.setdefault(key, []).append(
                f"{method}{' htmx' if htmx else ''} {path[:80]} as {self.role} {shown}"
            )
        if self.role != "anonymous" and "_auth_user_id" not in self.client.session:
            self.login(self.role)  # a logout (or a password change) ended the session
        return response

    def report(self) -> str:
        return "\n".join(
            f"{len(where)} x {error}\n    e.g. {where[0]}"
            for error, where in self.failures.items()
        )


def reaches(response) -> bool:
    """Did the request get past the login and role checks, to the view's own code?"""
    if response.status_code in (403, 405):
        return False
    return not (response.status_code == 302 and response.url.startswith(LOGIN_PAGES))


# The most privileged first: the first role that gets past the checks is fuzzed in full.
ORDER = ("admin", "editor", "researcher", "annotator", "outsider", "anonymous")
assert set(ORDER) == set(ROLES)
# The admin lets staff in and sends everyone else to its login page, whatever the role.
ADMIN_ORDER = ("admin", "editor", "anonymous")


def is_admin_object_page(route: str) -> bool:
    """An admin page of one object (or the add page): Django's own forms, per model."""
    return route.startswith("admin/") and ("<" in route or "(" in route or "/add/" in route)


@pytest.mark.parametrize(("name", "route"), ROUTES, ids=[name for name, _ in ROUTES])
def test_no_input_makes_a_5xx(db, world, name, route):
    probe = Prober(name)
    is_admin = route.startswith("admin/")
    deep = not is_admin_object_page(route)
    values = path_values(route, world)
    path, parts = fill(route, values)
    roles = ADMIN_ORDER if is_admin else ORDER
    pages = {}
    for role in roles:
        probe.login(role)
        pages[role] = probe.send("GET", path, {})
    names = {*PARAMETERS.get(name, ()), *(ADMIN_PARAMETERS if is_admin else ())}
    names.update(*(names_on(page) for page in pages.values()))
    for method in ("GET", "POST"):
        in_full = True
        for role in roles:
            probe.login(role)
            baseline = pages[role] if method == "GET" else probe.send(method, path, {})
            if not reaches(baseline):
                # Refused before any parameter is read: make sure of it, once.
                probe.send(method, path, dict.fromkeys(names, "²"))
                continue
            if not in_full:  # views branch on the role, and on htmx
                for value in QUICK:
                    probe.send(method, path, dict.fromkeys(names, value))
                    probe.send(method, path, dict.fromkeys(names, value), htmx=True)
                continue
            in_full = False
            for value in HOSTILE if deep else QUICK:
                probe.send(method, path, dict.fromkeys(names, value))
            if not is_admin:
                for value in QUICK:
                    probe.send(method, path, dict.fromkeys(names, value), htmx=True)
            # The admin's POSTs are its forms (every field checked), but the import steps.
            if deep and not (is_admin and method == "POST" and not name.endswith("import")):
                base = base_values(name, world) if method == "POST" else {}
                for parameter in sorted(names):
                    for value in PER_PARAMETER:
                        probe.send(method, path, {**base, parameter: value})
                for parameter in HOSTILE_NAMES:
                    probe.send(method, path, {**base, parameter: "a"})
            if method == "POST" and is_admin:
                continue
            for index in range(parts):
                for value in ADMIN_HOSTILE_IDS if is_admin else (*HOSTILE_IDS, *HOSTILE_PATH_TEXT):
                    hostile_path, _ = fill(route, values, (index, value))
                    probe.send(method, hostile_path, {}, htmx=not is_admin)
    if probe.failures:
        pytest.fail(f"{name}: 5xx answers\n{probe.report()}", pytrace=False)


# --- the findings, one by one --------------------------------------------------------------


def client_as(role: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=USERS[role]))
    return client


def test_nul_characters_are_refused_with_400(db, world):
    editor = client_as("editor")
    annotator = client_as("annotator")
    accept = f"/review/{world['sentence_id']}/accept/"
    answers = [
        editor.get("/", {"q": "Kyiv\x00"}),
        annotator.get("/sources/search/", {"source": "\x00"}),
        editor.post(
            accept, {"annotation": world["annotation_id"], "version": "1", "comment": "\x00"}
        ),
        editor.get("/review/", {"q\x00": "x"}),
    ]
    assert [a.status_code for a in answers] == [400, 400, 400, 400]
    assert "NUL character" in answers[0].content.decode()
    assert "<html" in answers[0].content.decode()  # a page with a way back, not a bare line
    htmx = editor.get("/", {"q": "\x00"}, headers={"HX-Request": "true"})
    assert htmx.status_code == 400
    assert b'role="alert" data-error-message>' in htmx.content
    assert b"<html" not in htmx.content


def test_a_nul_character_in_a_cookie_is_refused_with_400(db, world, client):
    """Django's cookie parser turns an escaped octal NUL into a real one; PostgreSQL refuses it
    in the session lookup (a 500 before)."""
    client.cookies["sessionid"] = "abcdefgh\x00ijkl"
    for path in ("/", "/accounts/login/"):
        assert client.get(path).status_code == 400


def test_overlong_query_values_are_refused_with_400(db, world):
    admin = client_as("admin")
    assert admin.get("/", {"q": LONG}).status_code == 400
    assert admin.get("/admin/claims/article/", {"q": LONG}).status_code == 400
    assert admin.get("/", {"q": "x" * 4096}).status_code == 200


@pytest.mark.parametrize("digits", ["²", "٣", "\uff11"])  # the last: a full-width 1
def test_non_ascii_digits_are_no_ids(db, world, digits):
    researcher = client_as("researcher")
    annotator = client_as("annotator")
    assert researcher.get("/export/", {"articles": digits}).status_code == 422
    assert researcher.get("/export/download/", {"articles": digits}).status_code == 422
    undo = annotator.post(
        f"/articles/{world['article_id']}/undo/", {"s": digits}, headers={"HX-Request": "true"}
    )
    assert undo.status_code == 200  # "Nothing to undo", on the first sentence
    assigned = client_as("editor").post(
        "/assign/", {"articles": digits, "annotators": world["outsider_id"], "overlap": 1}
    )
    assert assigned.status_code == 200  # the form, with its error
    assert assigned.context["form"].errors["articles"]


@pytest.mark.parametrize("number", [str(2**63), str(2**64)])
def test_ids_past_64_bits_are_not_found(db, world, number):
    annotator = client_as("annotator")
    article, sentence = world["article_id"], world["sentence_id"]
    assert annotator.get(f"/articles/{number}/annotate/").status_code == 404
    save = annotator.post(f"/articles/{article}/sentences/{number}/save/", {"is_claim": "no"})
    assert save.status_code == 404
    assert client_as("editor").get(f"/review/{number}/").status_code == 404
    assigned = client_as("editor").post(
        "/assign/", {"articles": number, "annotators": world["outsider_id"], "overlap": 1}
    )
    assert assigned.status_code == 200
    assert assigned.context["form"].errors["articles"]
    assert annotator.get(f"/articles/{article}/sentences/{sentence}/").status_code == 302


def test_admin_export_with_a_malformed_filter_says_so(db, world):
    admin = client_as("admin")
    response = admin.get("/admin/claims/article/export/", {"no_such_field": "1"})
    assert response.status_code == 302
    assert response.url == "/admin/claims/article/export/"
    (message,) = admin.get(response.url).context["messages"]
    assert "not valid" in str(message)


def test_admin_date_hierarchy_past_any_date_is_a_wrong_filter(db, world):
    admin = client_as("admin")
    response = admin.get("/admin/claims/article/", {"published_on__year": str(2**64)})
    assert response.status_code == 302
    assert response.url.endswith("?e=1")  # the admin's own answer to a wrong filter


@pytest.mark.parametrize("object_id", ["²", "abc", "1.5"])
def test_admin_history_of_a_malformed_id_is_not_found(db, world, object_id):
    admin = client_as("admin")
    assert admin.get(f"/admin/claims/source/{object_id}/history/").status_code == 404
    assert admin.get(f"/admin/claims/source/{object_id}/history/1/").status_code == 404
    assert admin.get(f"/admin/claims/source/{world['source_id']}/history/²/").status_code == 404
