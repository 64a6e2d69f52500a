"""Shared fixtures: users in each role, statuses, sources, and a segmented demo article."""

from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User

from claims import importing, services
from claims.models import Article, Source, VerificationStatus

DEMO_ARTICLE = (
    Path(__file__).resolve().parent.parent / "claims" / "demo" / "000_4c1d6ae57306abb2.txt"
)


def make_user(username: str, role: str | None = None) -> User:
    user = User.objects.create_user(username=username, password=f"{username}-pw")
    if role == "admin":
        user.is_staff = user.is_superuser = True
        user.save()
    elif role:
        user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def annotator(db) -> User:
    return make_user("ann", "annotator")


@pytest.fixture
def annotator2(db) -> User:
    return make_user("ann2", "annotator")


@pytest.fixture
def editor(db) -> User:
    return make_user("ed", "editor")


@pytest.fixture
def admin_user(db) -> User:
    return make_user("boss", "admin")


@pytest.fixture
def unverified(db) -> VerificationStatus:
    return VerificationStatus.objects.get(code="unverified")


@pytest.fixture
def mod_source(db) -> Source:
    return services.source_upsert(
        name="Russian Ministry of Defence",
        kind="government",
        side="Russia",
        aliases=["Russia's Defence Ministry", "Russian MoD"],
    )


@pytest.fixture
def demo_article(db) -> Article:
    records = importing.parse_file(DEMO_ARTICLE, max_bytes=5_000_000)
    services.articles_import(records=records)
    return Article.objects.get()
