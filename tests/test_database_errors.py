"""A read-only, full, busy or unreachable database answers a clear 503, never a bare 500."""

import contextlib
import logging
import sqlite3

import django.db
import psycopg
import psycopg.errors
import pytest
from django.db import connection
from django.test import Client, override_settings
from django.urls import reverse

from claims.middleware import database_unavailable_kind
from claims.models import Annotation
from tests.factories_workspace import (
    annotatable,
    assign,
    label_post,
    make_annotators,
    make_article,
)

HX = {"HX-Request": "true"}


def as_django_error(vendor_error: Exception) -> Exception:
    """The driver's error as Django raises it (django.db's class of the same name, from it)."""
    for cls in type(vendor_error).__mro__:
        django_cls = getattr(django.db, cls.__name__, None)
        if isinstance(django_cls, type) and issubclass(django_cls, django.db.Error):
            error = django_cls(*vendor_error.args)
            error.__cause__ = vendor_error
            return error
    raise AssertionError(f"no Django class for {vendor_error!r}")


def sqlite_error(message: str, name: str) -> sqlite3.OperationalError:
    error = sqlite3.OperationalError(message)
    error.sqlite_errorname = name
    return error


def vendor_error(kind: str) -> Exception:
    """A driver error of this database for an outage of `kind`, as the driver raises it."""
    if connection.vendor == "sqlite":
        return {
            "full": sqlite_error("database or disk is full", "SQLITE_FULL"),
            "unreachable": sqlite_error("unable to open database file", "SQLITE_CANTOPEN"),
        }[kind]
    return {
        "full": psycopg.errors.DiskFull(
            'could not extend file "base/16384/16500": No space left on device'
        ),
        "unreachable": psycopg.OperationalError(
            'connection failed: connection to server at "127.0.0.1", port 5432 failed: '
            "Connection refused"
        ),
    }[kind]


@contextlib.contextmanager
def failing(kind: str, *, writes_only: bool):
    """Every query (or every write) of this connection fails as the database would."""

    def wrapper(execute, sql, params, many, context):
        verb = sql.lstrip().split(None, 1)[0].upper()
        if not writes_only or verb in {"INSERT", "UPDATE", "DELETE"}:
            with connection.wrap_database_errors:
                raise vendor_error(kind)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield


@contextlib.contextmanager
def read_only_database():
    """The database refuses writes, as a read-only file or a standby would."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA query_only = 1")
        else:
            cursor.execute("SET default_transaction_read_only = on")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                cursor.execute("PRAGMA query_only = 0")
            else:
                cursor.execute("SET default_transaction_read_only = off")


@pytest.fixture
def workspace(db):
    (user,) = make_annotators("ro-ann")
    article = make_article(3)
    assign(article, user)
    client = Client()
    client.force_login(user)
    sentence = annotatable(article)[0]
    url = reverse("claims:sentence_save", args=[article.pk, sentence.pk])
    client.label = label_post(sentence)  # the annotate form's POST: one claim
    return client, url


def assert_page(response, title: str, retry_after: str) -> str:
    html = response.content.decode()
    assert response.status_code == 503
    assert response["Retry-After"] == retry_after
    assert "no-store" in response["Cache-Control"]
    assert "<html" in html
    assert f"<h1>{title}</h1>" in html
    assert "data-error-message" in html
    return html


def assert_fragment(response, sentence: str, retry_after: str) -> str:
    html = response.content.decode().strip()
    assert response.status_code == 503
    assert response["Retry-After"] == retry_after
    assert "<html" not in html
    assert html.startswith('<div class="request-error" role="alert" data-error-message>')
    assert html.endswith("</div>")
    assert sentence in html
    return html


# --- through the app ------------------------------------------------------------------------


# PostgreSQL turns read-only only between transactions: no test transaction around it.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_save_on_a_read_only_database_answers_503(workspace, caplog):
    client, url = workspace
    with read_only_database(), caplog.at_level(logging.ERROR, logger="claims.database"):
        fragment = client.post(url, client.label, headers=HX)
        page = client.post(url, client.label)
    assert_fragment(fragment, "it is read-only", "60")
    assert_page(page, "The database is read-only", "60")
    assert "Database unavailable (read-only) on POST" in caplog.text
    assert not Annotation.objects.exists()
    # Writable again: the same save goes through.
    assert client.post(url, client.label, headers=HX).status_code == 200
    assert Annotation.objects.count() == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_login_on_a_read_only_database_answers_503(db):
    make_annotators("ro-login")
    with read_only_database():
        response = Client().post(
            reverse("login"), {"username": "ro-login", "password": "ro-login-pw"}
        )
    assert_page(response, "The database is read-only", "60")


def test_save_on_a_full_disk_answers_503(workspace, caplog):
    client, url = workspace
    with failing("full", writes_only=True), caplog.at_level(logging.ERROR):
        fragment = client.post(url, client.label, headers=HX)
        page = client.post(url, client.label)
    assert_fragment(fragment, "no space left", "60")
    assert_page(page, "The database is full", "60")
    assert "Database unavailable (full)" in caplog.text
    assert not Annotation.objects.exists()


class WhoIsItMiddleware:
    """Looks the user up before the view, as a middleware checking the session would."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.user.is_authenticated  # noqa: B018 - loads the session and the user
        return self.get_response(request)


def test_unreachable_database_in_a_middleware_answers_503(workspace, settings):
    client, url = workspace
    client.raise_request_exception = False
    middleware = [*settings.MIDDLEWARE, "tests.test_database_errors.WhoIsItMiddleware"]
    with override_settings(MIDDLEWARE=middleware), failing("unreachable", writes_only=False):
        fragment = client.get(url.replace("save/", "edit/"), headers=HX)
        page = client.get(reverse("claims:home"))
    assert_fragment(fragment, "cannot be reached", "30")
    assert_page(page, "The database cannot be reached", "30")


def test_a_bug_in_a_query_stays_a_500(workspace):
    client, url = workspace
    client.raise_request_exception = False

    def wrapper(execute, sql, params, many, context):
        return execute("SELECT no_such_column FROM claims_annotation", (), False, context)

    with connection.execute_wrapper(wrapper):
        response = client.post(url, client.label, headers=HX)
    assert response.status_code == 500


def test_503_page_renders_without_a_request_or_a_database():
    from django.template.loader import render_to_string

    html = render_to_string("503.html")
    assert "<h1>claimdesk is unavailable</h1>" in html
    assert "data-error-message" in html


# --- which errors are an outage (real driver errors) -------------------------------------------


def test_real_sqlite_outages_are_recognised(tmp_path):
    path = tmp_path / "outage.sqlite3"
    setup = sqlite3.connect(path)
    setup.execute("CREATE TABLE t (x)")
    setup.commit()

    def error_of(action) -> Exception:
        with pytest.raises(sqlite3.Error) as caught:
            action()
        return as_django_error(caught.value)

    read_only = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    assert (
        database_unavailable_kind(error_of(lambda: read_only.execute("INSERT INTO t VALUES (1)")))
        == "read-only"
    )
    setup.execute("BEGIN IMMEDIATE")
    other = sqlite3.connect(path, timeout=0)
    assert database_unavailable_kind(error_of(lambda: other.execute("BEGIN IMMEDIATE"))) == "busy"
    setup.rollback()
    assert database_unavailable_kind(error_of(lambda: setup.execute("SELECT y FROM t"))) is None
    setup.execute("CREATE UNIQUE INDEX u ON t (x)")
    setup.execute("INSERT INTO t VALUES (1)")
    assert (
        database_unavailable_kind(error_of(lambda: setup.execute("INSERT INTO t VALUES (1)")))
        is None
    )
    setup.execute(f"PRAGMA max_page_count = {setup.execute('PRAGMA page_count').fetchone()[0]}")
    assert (
        database_unavailable_kind(
            error_of(lambda: setup.execute("INSERT INTO t VALUES (?)", ("x" * 100_000,)))
        )
        == "full"
    )
    for conn in (setup, read_only, other):
        conn.close()


def test_real_postgres_outages_are_recognised():
    with pytest.raises(psycopg.OperationalError) as refused:
        psycopg.connect("postgresql://claimdesk@127.0.0.1:1/none", connect_timeout=5)
    assert database_unavailable_kind(as_django_error(refused.value)) == "unreachable"
    outages = {
        psycopg.errors.ReadOnlySqlTransaction: "read-only",
        psycopg.errors.DiskFull: "full",
        psycopg.errors.OutOfMemory: "full",
        psycopg.errors.TooManyConnections: "busy",
        psycopg.errors.AdminShutdown: "unreachable",
        psycopg.errors.CannotConnectNow: "unreachable",
        psycopg.errors.ConnectionFailure: "unreachable",
    }
    for cls, kind in outages.items():
        assert database_unavailable_kind(as_django_error(cls("outage"))) == kind, cls
    for bug in (
        psycopg.errors.UndefinedColumn,
        psycopg.errors.UniqueViolation,
        psycopg.errors.DeadlockDetected,
    ):
        assert database_unavailable_kind(as_django_error(bug("bug"))) is None, bug


def test_a_disk_io_error_is_an_outage_and_a_read_says_it_was_not_shown(rf):
    from claims.middleware import database_unavailable_response

    error = as_django_error(sqlite_error("disk I/O error", "SQLITE_IOERR_WRITE"))
    assert database_unavailable_kind(error) == "disk"
    shown = database_unavailable_response(rf.get("/"), error, "disk").content.decode()
    saved = database_unavailable_response(rf.post("/"), error, "disk").content.decode()
    assert "could not be shown" in shown and "not have been saved" not in shown
    assert "may not have been saved" in saved
