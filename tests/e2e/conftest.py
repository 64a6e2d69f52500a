"""Browser fixtures: Debian's chromium, driven by Playwright, against pytest-django's live server.

The browser is never downloaded (no `playwright install`): it is /usr/bin/chromium from the
distribution. Without it (or without the playwright package) the e2e tests are skipped on a
workstation, but fail in CI (the CI environment variable is set), where they must run.
"""

import io
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import override_settings

from claims.models import Article

# Playwright's sync API keeps an asyncio event loop running in the test thread, so Django's
# async-safety check would refuse every ORM call made by the tests and fixtures (load_demo,
# the flush between tests, assertions on the database). Nothing here runs concurrently with
# the ORM in that thread; the live server answers requests in its own thread.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1280, "height": 900}
DEMO_PASSWORDS = {
    name: f"{name}-demo" for name in ("annotator1", "annotator2", "editor", "researcher", "admin")
}


def pytest_configure(config: pytest.Config) -> None:
    # Also listed in pyproject's markers; registered here so --strict-markers accepts it anyway.
    config.addinivalue_line("markers", "e2e: end-to-end test in a real browser (chromium)")


def browser_unavailable() -> str | None:
    """Why the browser tests cannot run here, or None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -r requirements-dev.txt)"
    if not os.access(CHROMIUM, os.X_OK):
        return f"{CHROMIUM} is missing (apt-get install chromium; never `playwright install`)"
    return None


def require_browser() -> None:
    reason = browser_unavailable()
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the browser tests, but {reason}", pytrace=False)
    pytest.skip(f"browser tests skipped: {reason}")


@pytest.fixture(scope="session")
def chromium(django_db_setup) -> Iterator:
    """One headless chromium for the whole session; each test gets its own context."""
    require_browser()
    from django.db import connections
    from playwright.sync_api import sync_playwright

    # Between its calls, Playwright's sync API marks an asyncio loop as running in this
    # thread, and Django keeps the connections of async code apart from those of sync code.
    # From here on the tests' ORM calls therefore use new connection objects, which lack the
    # snapshot of the migrated database that serialized rollback restores after each flush
    # (taken when the test database was created, possibly by an earlier test). Carry it over.
    snapshots = {
        alias: connections[alias]._test_serialized_contents
        for alias in connections
        if hasattr(connections[alias], "_test_serialized_contents")
    }
    with sync_playwright() as playwright:
        for alias, snapshot in snapshots.items():
            connections[alias]._test_serialized_contents = snapshot
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def demo(transactional_db, django_db_serialized_rollback) -> None:
    """The demo article, taxonomy and users, assigned to annotator1 and annotator2.

    The live server needs committed data, hence a transactional database, which is flushed
    after each test; serialized rollback restores what the migrations created (roles and
    verification statuses) before the next test.
    """
    with override_settings(DEBUG=True):  # load_demo runs only in development
        call_command("load_demo", stdout=io.StringIO())
    # The browser tests work on the English demo article (labelled by two annotators); the
    # Russian and Ukrainian ones are covered by tests/test_load_demo.py.
    english = Article.objects.order_by("pk").first()
    Article.objects.exclude(pk=english.pk).delete()


@pytest.fixture
def expected_errors() -> list[str]:
    """Console errors a test provokes on purpose (regular expressions); none by default."""
    return []


@pytest.fixture
def browser_page(chromium, live_server, demo, expected_errors) -> Iterator:
    """A fresh page on the live server; fails the test if the page logged any error.

    Not called `page`: pytest-playwright, when installed, would parametrise tests using a
    fixture of that name over its own browser options. A test that makes requests fail on
    purpose lists the errors it expects in `expected_errors`.
    """
    context = chromium.new_context(base_url=live_server.url, viewport=VIEWPORT)
    context.set_default_timeout(5_000)
    page = context.new_page()
    errors: list[str] = []

    def on_console(message) -> None:
        # Failed loads (a 404 favicon, a 500 from htmx) are reported as console errors too.
        if message.type == "error" and not any(
            re.search(pattern, message.text) for pattern in expected_errors
        ):
            errors.append(f"console error: {message.text} at {message.location}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(f"uncaught exception: {error}"))
    yield page
    context.close()
    assert errors == [], "the browser reported errors:\n" + "\n".join(errors)


@pytest.fixture
def log_in(browser_page):
    """Log in through the login form, as a person would; lands on the home page."""
    page = browser_page

    def log_in(username: str = "annotator1") -> None:
        page.goto("/accounts/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(DEMO_PASSWORDS[username])
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(lambda url: "/accounts/login/" not in url)

    return log_in
