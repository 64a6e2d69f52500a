"""History (who, when, what) of articles, assignments and source aliases: no delete erases them."""

import pytest
from django.urls import reverse

from claims import services
from claims.importing import ArticleRecord
from claims.models import Article, Assignment, Source, SourceAlias
from tests.conftest import make_user
from tests.factories_workspace import make_annotators, make_article, numbered_body

pytestmark = pytest.mark.django_db


def history_types(model, **filters) -> list[str]:
    return list(
        model.history.filter(**filters)
        .order_by("history_date")
        .values_list("history_type", flat=True)
    )


def test_imported_articles_get_a_created_record_each():
    records = [ArticleRecord(body=numbered_body(3), external_id=f"x-{i}") for i in range(4)]
    services.articles_import(records=records)

    assert Article.objects.count() == 4
    for article in Article.objects.all():
        (record,) = article.history.all()
        assert record.history_type == "+"
        assert record.body == article.body


def test_a_deleted_article_and_its_assignments_leave_their_last_version(client, admin_user):
    article = make_article(3, title="Gone tomorrow")
    annotator, _ = make_annotators("ann1", "ann2")
    services.assignments_create(articles=[article], annotators=[annotator], overlap=1)
    article_id = article.pk

    client.force_login(admin_user)
    response = client.post(
        reverse("admin:claims_article_delete", args=[article_id]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert not Article.objects.filter(pk=article_id).exists()

    deleted = Article.history.filter(id=article_id, history_type="-").get()
    assert deleted.title == "Gone tomorrow"
    assert deleted.history_user == admin_user
    gone = Assignment.history.filter(article_id=article_id, history_type="-").get()
    assert gone.annotator_id == annotator.pk
    assert gone.history_user == admin_user


def test_assignments_record_who_assigned_them():
    article = make_article(3)
    editor = make_user("ed", "editor")
    annotators = make_annotators("ann1", "ann2")
    services.assignments_create(
        articles=[article], annotators=annotators, overlap=2, assigned_by=editor
    )

    records = Assignment.history.filter(article_id=article.pk)
    assert records.count() == 2
    assert {r.history_type for r in records} == {"+"}
    assert {r.history_user_id for r in records} == {editor.pk}


def test_merging_sources_records_the_moved_aliases():
    old = services.source_upsert(name="Defence ministry", kind="government", aliases=["MoD"])
    into = services.source_upsert(name="Ministry of Defence", kind="government")
    services.source_merge(source=old, into=into)

    alias = SourceAlias.objects.get(alias="MoD")
    assert alias.source == into
    records = alias.history.order_by("history_date")
    assert [r.history_type for r in records] == ["+", "~"]
    assert records.first().source_id == old.pk
    assert "merged into" in records.last().history_change_reason


def test_an_alias_removed_in_the_admin_leaves_a_record(client, admin_user):
    source = services.source_upsert(name="Kyiv police", kind="emergency", aliases=["police"])
    alias = source.aliases.get()
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:claims_source_change", args=[source.pk]),
        {
            "name": source.name,
            "kind": source.kind,
            "side": source.side,
            "status": source.status,
            "description": "",
            "merged_into": "",
            "aliases-TOTAL_FORMS": "1",
            "aliases-INITIAL_FORMS": "1",
            "aliases-MIN_NUM_FORMS": "0",
            "aliases-MAX_NUM_FORMS": "1000",
            "aliases-0-id": str(alias.pk),
            "aliases-0-source": str(source.pk),
            "aliases-0-alias": "police",
            "aliases-0-DELETE": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert not SourceAlias.objects.exists()
    removed = SourceAlias.history.get(id=alias.pk, history_type="-")
    assert removed.alias == "police"
    assert removed.history_user == admin_user
    assert Source.objects.get().pk == source.pk


def test_the_admin_shows_the_history(client, admin_user):
    article = make_article(3)
    annotator = make_user("ann", "annotator")
    services.assignments_create(articles=[article], annotators=[annotator], overlap=1)
    source = services.source_upsert(name="Kyiv police", kind="emergency", aliases=["police"])
    client.force_login(admin_user)
    for name, obj in (
        ("claims_article", article),
        ("claims_assignment", Assignment.objects.get()),
        ("claims_sourcealias", source.aliases.get()),
    ):
        response = client.get(reverse(f"admin:{name}_history", args=[obj.pk]))
        assert response.status_code == 200, name
        assert "Created" in response.content.decode(), name
