"""Settings come from the environment; production refuses to start without a secret key."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Long, varied, not Django's generated "django-insecure-" kind: what production must bring.
STRONG_KEY = "strong-Test-Key-" + "0123456789abcdefghijklmnopqrstuvwxyz"


def run_settings(env: dict[str, str], code: str) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"SECRET_KEY", "DEBUG", "DATABASE_URL", "CONN_MAX_AGE"}
    }
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "project.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_without_secret_key_refuses_to_start():
    result = run_settings({"DEBUG": "0"}, "pass")
    assert result.returncode != 0
    assert "Set SECRET_KEY" in result.stderr


def test_debug_uses_development_key_and_sqlite_by_default():
    code = (
        "from django.conf import settings as s; "
        "print(s.SECRET_KEY == s.DEV_SECRET_KEY, s.DATABASES['default']['ENGINE'])"
    )
    result = run_settings({"DEBUG": "1"}, code)
    assert result.stdout.split() == ["True", "django.db.backends.sqlite3"], result.stderr


def test_database_url_selects_postgresql():
    code = "from django.conf import settings as s; print(s.DATABASES['default']['ENGINE'])"
    env = {"SECRET_KEY": STRONG_KEY, "DATABASE_URL": "postgres://u@127.0.0.1:5432/claimdesk"}
    result = run_settings(env, code)
    assert result.stdout.strip() == "django.db.backends.postgresql", result.stderr


def test_wsgi_application_loads_for_gunicorn():
    result = run_settings(
        {"SECRET_KEY": STRONG_KEY, "ALLOWED_HOSTS": "example.org"},
        "from project.wsgi import application; print(type(application).__name__)",
    )
    assert result.stdout.strip() == "WSGIHandler", result.stderr


def run_manage_py(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"SECRET_KEY", "DEBUG", "DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_manage_py_with_a_bare_environment_is_a_development_tool():
    result = run_manage_py({}, "makemigrations", "--check", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "No changes detected" in result.stdout


def test_manage_py_with_debug_off_and_no_secret_key_still_refuses():
    result = run_manage_py({"DEBUG": "0"}, "check")
    assert result.returncode != 0
    assert "Set SECRET_KEY" in result.stderr


def test_the_served_app_without_secret_key_refuses_to_start():
    ours = {"SECRET_KEY", "DEBUG", "DJANGO_SETTINGS_MODULE"}
    clean = {k: v for k, v in os.environ.items() if k not in ours}
    result = subprocess.run(
        [sys.executable, "-c", "import project.wsgi"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "Set SECRET_KEY" in result.stderr


@pytest.mark.parametrize(
    ("key", "why"),
    [
        ("Short-but-varied-key-0123456789", "fewer than 50 characters"),
        ("ab" * 40, "fewer than 5 different characters"),
        ("django-insecure-" + "0123456789abcdefghijklmnopqrstuvwxyz!", "Django's insecure prefix"),
    ],
)
def test_production_refuses_a_weak_secret_key(key, why):
    result = run_settings({"SECRET_KEY": key, "ALLOWED_HOSTS": "example.org"}, "pass")
    assert result.returncode != 0, why
    assert "SECRET_KEY is weak" in result.stderr, why


def test_development_accepts_any_key():
    result = run_settings({"SECRET_KEY": "short", "DEBUG": "1"}, "print('started')")
    assert result.stdout.strip() == "started", result.stderr


def test_the_test_settings_key_is_strong_enough_for_production():
    code = "from django.conf import settings as s; print(s.DEBUG)"
    result = run_settings({"DJANGO_SETTINGS_MODULE": "project.settings_test"}, code)
    assert result.stdout.strip() == "False", result.stderr


# --- database connections ------------------------------------------------------------------

CONNECTION = (
    "from django.conf import settings as s; d = s.DATABASES['default']; "
    "print(d['CONN_MAX_AGE'], d['CONN_HEALTH_CHECKS'])"
)
PG_URL = "postgres://u@127.0.0.1:5432/claimdesk"


def test_postgresql_keeps_connections_with_health_checks_by_default():
    result = run_settings({"SECRET_KEY": STRONG_KEY, "DATABASE_URL": PG_URL}, CONNECTION)
    assert result.stdout.split() == ["60", "True"], result.stderr


def test_sqlite_closes_its_connections_by_default():
    result = run_settings({"DEBUG": "1"}, CONNECTION)
    assert result.stdout.split() == ["0", "True"], result.stderr


@pytest.mark.parametrize("url", [PG_URL, "sqlite:////tmp/claimdesk-settings-test.sqlite3"])
def test_conn_max_age_from_the_environment_wins(url):
    env = {"SECRET_KEY": STRONG_KEY, "DATABASE_URL": url, "CONN_MAX_AGE": "0"}
    if url.startswith("sqlite"):
        env["CONN_MAX_AGE"] = "300"
    result = run_settings(env, CONNECTION)
    assert result.stdout.split() == [env["CONN_MAX_AGE"], "True"], result.stderr
