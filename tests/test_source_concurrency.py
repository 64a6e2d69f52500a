"""Proposing one source name twice, one after the other or at the same instant: one source,
usable by every annotator who proposed it, and never a 500."""

import contextlib
import threading

import pytest
from django.db import connection, connections
from django.db.models.signals import pre_save
from django.urls import reverse

from claims import selectors, services
from claims.models import Source
from tests.factories_workspace import annotatable, assign, make_annotators, make_article

HX = {"HX-Request": "true"}


def propose_url(article, sentence) -> str:
    return reverse("claims:source_propose", args=[article.pk, sentence.pk])


@pytest.mark.django_db
@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_second_annotator_proposing_a_pending_name_gets_it(client, htmx):
    first, second = make_annotators("ann-a", "ann-b")
    article = make_article(2)
    assign(article, first, second)
    sentence = annotatable(article)[0]
    services.source_propose(name="Zebra Brigade", kind="military", side="", proposed_by=first)
    client.force_login(second)

    response = client.post(
        propose_url(article, sentence),
        {"propose-name": "zebra brigade", "propose-kind": "military"},
        headers=HX if htmx else {},
    )

    assert response.status_code == (200 if htmx else 302)
    source = Source.objects.get()
    assert selectors.resolve_source_name("Zebra Brigade", user=second) == source
    if htmx:
        assert "Zebra Brigade" in response.content.decode()


# --- two connections at once (PostgreSQL) -----------------------------------------------------


def _race(proposers, name: str) -> tuple[list[Source], list[BaseException]]:
    """Each user proposes `name` in their own thread and connection. A barrier in Source's
    pre_save holds every INSERT until all have checked that the name is free, so they all
    take the racy path: two INSERTs of one name in flight at once."""
    barrier = threading.Barrier(len(proposers), timeout=10)
    results: list[Source] = []
    errors: list[BaseException] = []

    def hold(sender, instance, **kwargs):
        if instance.pk is None:
            with contextlib.suppress(threading.BrokenBarrierError):  # the others went on
                barrier.wait()

    def work(user):
        try:
            results.append(
                services.source_propose(name=name, kind="military", side="", proposed_by=user)
            )
        except BaseException as error:  # reported by the test
            errors.append(error)
            barrier.abort()
        finally:
            connections.close_all()

    pre_save.connect(hold, sender=Source, dispatch_uid="hold-source-insert")
    try:
        threads = [threading.Thread(target=work, args=(user,)) for user in proposers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    finally:
        pre_save.disconnect(sender=Source, dispatch_uid="hold-source-insert")
    return results, errors


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs concurrent connections (PostgreSQL)"
)
@pytest.mark.parametrize("count", [2, 4])
def test_simultaneous_proposals_of_one_name_make_one_source_all_can_use(count):
    users = make_annotators(*(f"racer-{i}" for i in range(count)))

    results, errors = _race(users, "Zebra Brigade")

    assert errors == []
    assert len(results) == count
    source = Source.objects.get()
    assert {r.pk for r in results} == {source.pk}
    assert set(source.proposers.all()) == set(users)
    for user in users:
        assert selectors.resolve_source_name("zebra brigade", user=user) == source


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs concurrent connections (PostgreSQL)"
)
def test_opposite_merges_at_once_make_no_loop():
    """A into B and B into A at the same instant: one merge wins, the other is refused with a
    message. (Before the rows were locked, both went through: a loop that hung every lookup.)"""
    a = Source.objects.create(name="Loop North", kind="media")
    b = Source.objects.create(name="Loop South", kind="media")
    barrier = threading.Barrier(2, timeout=10)
    errors: list[BaseException] = []

    def merge(source_id, into_id):
        try:
            source, into = Source.objects.get(pk=source_id), Source.objects.get(pk=into_id)
            barrier.wait()  # both have read the sources and passed the first check
            services.source_merge(source=source, into=into)
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=merge, args=(a.pk, b.pk)),
        threading.Thread(target=merge, args=(b.pk, a.pk)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    merged = dict(Source.objects.filter(pk__in=[a.pk, b.pk]).values_list("pk", "merged_into"))
    assert sum(1 for into in merged.values() if into is not None) == 1
    assert [type(error).__name__ for error in errors] == ["ValidationError"]
    assert selectors.resolve_source_name("Loop North") is not None  # no hang, no loop
