"""load_demo: the demo article, the source taxonomy and demo users, safe to run again."""

import datetime
import io
import json
import re

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.urls import reverse

from claims.importing import body_checksum, parse_file
from claims.management.commands.load_demo import DEMO_ARTICLE, DEMO_ARTICLES, DEMO_DIR
from claims.models import (
    Annotation,
    Article,
    Assignment,
    GoldLabel,
    ReviewItem,
    Sentence,
    Source,
    SourceAlias,
)
from tests.factories import assert_offsets_exact

pytestmark = pytest.mark.django_db

SOURCES = json.loads((DEMO_DIR / "sources.json").read_text(encoding="utf-8"))


def load_demo() -> str:
    out = io.StringIO()
    with override_settings(DEBUG=True):  # load_demo runs only in development
        call_command("load_demo", stdout=out)
    return out.getvalue()


def printed_users(output: str) -> list[tuple[str, str, str]]:
    """(username, password, role) from the lines under 'Demo users'."""
    users_part = output.split("Demo users", 1)[1]
    return re.findall(r"^\s+(\S+)\s+(\S+)\s+(\S+)\s*$", users_part, flags=re.MULTILINE)


@pytest.fixture
def loaded_twice() -> tuple[str, str, list]:
    first = load_demo()
    sentences = list(
        Sentence.objects.values_list("pk", "position", "start", "end", "text", "kind")
    )
    second = load_demo()
    return first, second, sentences


def english_demo() -> Article:
    return Article.objects.get(checksum=body_checksum(DEMO_ARTICLE.read_text("utf-8-sig")))


def test_second_run_keeps_three_articles_with_unchanged_sentences(loaded_twice):
    first, second, sentences_after_first = loaded_twice

    article = english_demo()
    assert Article.objects.count() == 3
    assert "Demo articles: 3 created." in first
    assert "Demo articles: 3 unchanged." in second
    assert (
        list(Sentence.objects.values_list("pk", "position", "start", "end", "text", "kind"))
        == sentences_after_first
    )
    assert article.body == DEMO_ARTICLE.read_text(encoding="utf-8-sig")
    assert_offsets_exact(article)


def test_demo_article_metadata_first_sentence_and_credits(loaded_twice):
    article = english_demo()
    sentences = list(article.sentences.order_by("position"))

    assert article.published_on == datetime.date(2023, 12, 30)
    assert sentences[0].text.startswith("Russia has vowed retaliation")
    assert sentences[0].kind == "sentence"
    assert article.title.startswith("Russia has vowed retaliation")
    credits = [s for s in sentences if s.text == "Credit: AP"]
    assert len(credits) == 2
    assert {s.kind for s in credits} == {"credit"}
    assert all(s.kind == "sentence" for s in sentences if "Credit:" not in s.text)
    assert not any("date 2023-12-30" in s.text for s in sentences)


def test_the_starter_taxonomy_with_its_aliases(loaded_twice):
    assert len(SOURCES) >= 25
    assert Source.objects.count() == len(SOURCES)
    for entry in SOURCES:
        source = Source.objects.get(name=entry["name"])
        assert source.kind == entry["kind"]
        assert sorted(source.aliases.values_list("alias", flat=True)) == sorted(entry["aliases"])
    assert SourceAlias.objects.count() == sum(len(entry["aliases"]) for entry in SOURCES)


def test_demo_users_log_in_with_the_printed_passwords(loaded_twice, client):
    first, second, _ = loaded_twice

    users = printed_users(second)
    assert printed_users(first) == users
    assert [username for username, _, _ in users] == [
        "annotator1",
        "annotator2",
        "annotator3",
        "editor",
        "researcher",
        "admin",
    ]
    assert User.objects.count() == 6
    for username, password, _ in users:
        assert client.login(username=username, password=password), username
        client.logout()


def test_demo_users_have_their_roles(loaded_twice):
    _, second, _ = loaded_twice

    for username, _, role in printed_users(second):
        user = User.objects.get(username=username)
        if role == "admin":
            assert user.is_superuser and user.is_staff
            assert not user.groups.exists()
        else:
            assert list(user.groups.values_list("name", flat=True)) == [role]
            assert not user.is_superuser and not user.is_staff
    assert User.objects.get(username="annotator1").groups.filter(name="annotator").exists()
    assert User.objects.get(username="admin").is_superuser


def test_admin_can_open_the_admin(loaded_twice, client):
    assert client.login(username="admin", password="admin-demo")

    assert client.get(reverse("admin:claims_article_changelist")).status_code == 200


@pytest.mark.parametrize(
    ("path", "speaker"),
    [(DEMO_ARTICLES[1], "Russian Ministry of Defence"), (DEMO_ARTICLES[2], "Ukrainian Air Force")],
)
def test_russian_and_ukrainian_demo_articles_get_suggestions(loaded_twice, path, speaker):
    (record,) = parse_file(path, max_bytes=10**6)
    article = Article.objects.get(checksum=body_checksum(record.body))
    suggested = article.sentences.filter(suggested_is_claim=True)
    assert suggested.count() >= 8
    assert suggested.filter(suggested_source__name=speaker).exists()
    assert article.sentences.filter(kind="sentence").count() > suggested.count()
    assert Assignment.objects.filter(article=article).count() == 3


def test_review_queue_has_disagreements_and_annotator1_starts_clean(loaded_twice):
    article = english_demo()
    assert Assignment.objects.filter(article=article).count() == 3
    assert not Annotation.objects.filter(annotator__username="annotator1").exists()
    labelled = Annotation.objects.filter(annotator__username__in=["annotator2", "annotator3"])
    assert labelled.count() == 2 * article.sentences.annotatable().count()
    assert ReviewItem.objects.filter(bucket=ReviewItem.Bucket.DISAGREEMENT).count() >= 3


def test_refuses_to_run_with_debug_off(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="only with DEBUG on"):
        call_command("load_demo", stdout=io.StringIO())
    assert not User.objects.exists()
    assert not Article.objects.exists()


def test_with_gold_accepts_the_agreed_claims_once_and_leaves_the_rest_in_the_queue():
    out = io.StringIO()
    with override_settings(DEBUG=True):
        call_command("load_demo", "--with-gold", stdout=out)
        call_command("load_demo", "--with-gold", stdout=io.StringIO())  # again: nothing new
    gold = GoldLabel.objects.select_related("sentence")
    assert gold.count() > 0
    assert f"Demo gold labels (agreed claims, accepted by editor): {gold.count()} new." in (
        out.getvalue()
    )
    assert {g.is_claim for g in gold} == {True}
    assert {g.editor.username for g in gold} == {"editor"}
    assert {g.origin for g in gold} == {GoldLabel.Origin.ACCEPTED}
    article = english_demo()
    assert {g.sentence.article_id for g in gold} == {article.pk}
    # disagreements and agreed non-claims still wait for the editor
    open_items = ReviewItem.objects.filter(article=article, state=ReviewItem.State.OPEN)
    assert open_items.filter(bucket=ReviewItem.Bucket.DISAGREEMENT).exists()
    assert open_items.filter(bucket=ReviewItem.Bucket.UNANIMOUS).exists()


def test_without_the_option_there_are_no_gold_labels():
    load_demo()
    assert not GoldLabel.objects.exists()
