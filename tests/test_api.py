"""The REST API: what each role reads and writes, filters, pagination, jobs, throttling."""

import importlib.util
import json

import pytest
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from claims import jobs
from claims.models import Article, Assignment, Job, Source
from tests.factories_api import build_world, token_client

API = "/api/v1"


@pytest.fixture(autouse=True)
def _fresh_throttle():
    cache.clear()  # the rate limits count in the cache, across tests otherwise
    yield
    cache.clear()


@pytest.fixture
def world(demo_article):
    return build_world(demo_article)


def results(response) -> list[dict]:
    assert response.status_code == 200, response.content
    return response.json()["results"]


def walk(client, url: str) -> list[dict]:
    """Every item of a paginated list, following the `next` links."""
    items = []
    while url:
        body = client.get(url).json()
        items += body["results"]
        url = body["next"]
    return items


# --- articles -----------------------------------------------------------------------------


def test_annotator_lists_only_assigned_articles(world):
    listed = results(token_client(world.annotator).get(f"{API}/articles/"))
    assert [a["id"] for a in listed] == [world.article.pk]
    assert results(token_client(world.outsider).get(f"{API}/articles/")) == []


def test_editor_and_researcher_list_every_article(world):
    for user in (world.editor, world.researcher, world.admin):
        listed = results(token_client(user).get(f"{API}/articles/"))
        assert {a["id"] for a in listed} == {world.article.pk, world.unassigned.pk}


def test_article_list_filters(world):
    client = token_client(world.editor)
    listed = results(client.get(f"{API}/articles/", {"outlet": "Other Daily"}))
    assert [a["id"] for a in listed] == [world.unassigned.pk]
    assert client.get(f"{API}/articles/", {"date_from": "not a date"}).status_code == 400


def test_article_detail_has_sentences_with_exact_offsets(world):
    body = token_client(world.annotator).get(f"{API}/articles/{world.article.pk}/").json()
    assert body["sentences"], body
    for sentence in body["sentences"]:
        assert body["body"][sentence["start"] : sentence["end"]] == sentence["text"]
    assert [s["position"] for s in body["sentences"]] == list(range(len(body["sentences"])))


def test_article_of_another_annotator_is_not_found(world):
    client = token_client(world.outsider)
    assert client.get(f"{API}/articles/{world.article.pk}/").status_code == 404


def test_cursor_pagination_walks_every_article_once(world):
    for n in range(7):
        Article.objects.create(title=f"A{n}", body=f"Text {n}.", checksum=f"{n + 1:064x}")
    client = token_client(world.editor)
    items = walk(client, f"{API}/articles/?page_size=3")
    assert [a["id"] for a in items] == sorted(Article.objects.values_list("pk", flat=True))
    first = client.get(f"{API}/articles/?page_size=3").json()
    assert first["next"] and "cursor=" in first["next"] and "count" not in first


def test_gold_labels_page_in_sentence_order(world):
    items = walk(token_client(world.researcher), f"{API}/gold-labels/?page_size=1")
    assert [g["sentence"]["id"] for g in items] == sorted(g.sentence_id for g in world.gold)


ARTICLES = [
    {"title": "Test one", "body": "The ministry said the bridge was closed.", "outlet": "T"},
    {"body": "A second test text.\nWith two lines.", "published_on": "2024-03-01"},
]


def test_post_articles_starts_an_import_job_with_a_jsonl_file(world):
    response = token_client(world.editor).post(
        f"{API}/articles/", {"articles": ARTICLES}, format="json"
    )
    assert response.status_code == 202, response.content
    job = Job.objects.get(pk=response.json()["id"])
    assert (job.kind, job.started_by) == ("import", world.editor)
    assert job.params == {"files": ["api.jsonl"], "outlet": "", "published_on": None}
    [(name, data)] = jobs.job_files(job)
    assert name == "api.jsonl"
    assert [json.loads(line) for line in data.decode().splitlines()] == ARTICLES
    assert response["Location"].endswith(f"/api/v1/jobs/{job.pk}/")


@pytest.mark.skipif(
    importlib.util.find_spec("claims.jobs.imports") is None, reason="no import runner yet"
)
def test_post_articles_imports_them(world):
    response = token_client(world.editor).post(
        f"{API}/articles/", {"articles": ARTICLES}, format="json"
    )
    job = Job.objects.get(pk=response.json()["id"])
    assert job.state == "succeeded", job.error
    assert job.result["totals"]["created"] == 2
    assert Article.objects.filter(title="Test one", outlet="T").exists()


@pytest.mark.parametrize(
    "payload",
    [{}, {"articles": []}, {"articles": [{"title": "no body"}]}, [{"body": "a list"}]],
)
def test_post_articles_refuses_bad_input(world, payload):
    response = token_client(world.editor).post(f"{API}/articles/", payload, format="json")
    assert response.status_code == 400
    assert not Job.objects.exists()


def test_annotators_and_researchers_cannot_import(world):
    for user in (world.annotator, world.researcher):
        client = token_client(user)
        response = client.post(f"{API}/articles/", {"articles": ARTICLES}, format="json")
        assert response.status_code == 403
    assert not Job.objects.exists()


# --- sources, statuses, assignments ------------------------------------------------------------


def test_sources_with_aliases(world):
    listed = results(token_client(world.annotator).get(f"{API}/sources/?page_size=1000"))
    ministry = next(s for s in listed if s["name"] == "Test Ministry")
    assert ministry["aliases"] == ["the ministry"]


def test_pending_sources_are_seen_by_their_proposer_and_editors_only(world):
    pending = Source.objects.create(name="Proposed Agency", status="pending")
    pending.proposers.add(world.other)
    url = f"{API}/sources/{pending.pk}/"
    assert token_client(world.annotator).get(url).status_code == 404
    assert token_client(world.other).get(url).status_code == 200
    assert token_client(world.editor).get(url).status_code == 200


def test_editor_creates_and_updates_a_source(world):
    client = token_client(world.editor)
    new = {"name": "Harbour Authority", "kind": "government", "aliases": ["the harbour office"]}
    created = client.post(f"{API}/sources/", new, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["aliases"] == ["the harbour office"]
    update = {"name": "harbour authority", "kind": "government", "side": "Testland"}
    assert client.post(f"{API}/sources/", update, format="json").status_code == 201
    source = Source.objects.get(name="Harbour Authority")
    assert source.side == "Testland"
    taken = {"name": "Other", "kind": "media", "aliases": ["the ministry"]}
    assert client.post(f"{API}/sources/", taken, format="json").status_code == 400


def test_annotator_cannot_write_sources(world):
    new = {"name": "Harbour Authority", "kind": "government"}
    response = token_client(world.annotator).post(f"{API}/sources/", new, format="json")
    assert response.status_code == 403
    assert not Source.objects.filter(name="Harbour Authority").exists()


def test_statuses(world):
    response = token_client(world.annotator).get(f"{API}/statuses/")
    assert {"unverified", "false"} <= {s["code"] for s in response.json()}


def test_editor_assigns_articles(world):
    client = token_client(world.editor)
    payload = {
        "articles": [world.unassigned.pk],
        "annotators": [world.outsider.pk, world.other.pk],
        "overlap": 1,
    }
    response = client.post(f"{API}/assignments/", payload, format="json")
    assert response.status_code == 201, response.content
    assert Assignment.objects.filter(article=world.unassigned).count() == 1
    unknown = {**payload, "annotators": [world.editor.pk]}  # not an annotator
    assert client.post(f"{API}/assignments/", unknown, format="json").status_code == 400


def test_annotator_sees_own_assignments_only(world):
    listed = results(token_client(world.annotator).get(f"{API}/assignments/"))
    assert {a["annotator"] for a in listed} == {"ann"}
    assert (
        token_client(world.annotator).post(f"{API}/assignments/", {}, format="json").status_code
        == 403
    )


# --- labels --------------------------------------------------------------------------------


def test_annotator_sees_only_own_annotations(world):
    listed = results(token_client(world.annotator).get(f"{API}/annotations/"))
    assert sorted(a["id"] for a in listed) == sorted(a.pk for a in world.mine)


def test_researcher_sees_every_annotation_pseudonymised(world):
    listed = results(token_client(world.researcher).get(f"{API}/annotations/"))
    assert len(listed) == len(world.mine) + len(world.theirs)
    names = {a["annotator"] for a in listed}
    assert len(names) == 2 and not names & {"ann", "other", str(world.annotator.pk)}


def test_annotation_claims_carry_offsets_and_source(world):
    [first] = [a for a in results(token_client(world.annotator).get(f"{API}/annotations/"))][:1]
    sentence = first["sentence"]
    [claim] = first["claims"]
    assert (claim["content_start"], claim["content_end"]) == (sentence["start"], sentence["end"])
    assert claim["source"] == {"id": world.source.pk, "name": "Test Ministry"}
    assert claim["status"] == "unverified"


def test_gold_labels_are_for_researchers_editors_admins(world):
    assert token_client(world.annotator).get(f"{API}/gold-labels/").status_code == 403
    for user in (world.researcher, world.editor, world.admin):
        listed = results(token_client(user).get(f"{API}/gold-labels/"))
        assert sorted(g["id"] for g in listed) == sorted(g.pk for g in world.gold)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"statuses": "false"}, [2]),
        ({"claims_only": "true"}, [0, 1, 2]),
        ({"sources": "SOURCE"}, [0, 1, 2]),
        ({"source_kinds": "military"}, []),
        ({"outlets": "Other Daily"}, []),
    ],
)
def test_gold_label_filters(world, query, expected):
    query = {k: str(world.source.pk) if v == "SOURCE" else v for k, v in query.items()}
    listed = results(token_client(world.researcher).get(f"{API}/gold-labels/", query))
    assert sorted(g["id"] for g in listed) == sorted(world.gold[i].pk for i in expected)


def test_unknown_or_invalid_label_filters_are_refused(world):
    client = token_client(world.researcher)
    assert client.get(f"{API}/gold-labels/", {"colour": "red"}).status_code == 400
    assert client.get(f"{API}/gold-labels/", {"statuses": "no-such"}).status_code == 400
    assert client.get(f"{API}/annotations/", {"format": "csv"}).status_code == 400


def test_reviewed_only_annotations(world):
    client = token_client(world.researcher)
    listed = results(client.get(f"{API}/annotations/", {"reviewed_only": "true"}))
    reviewed = {g.sentence_id for g in world.gold}
    assert {a["sentence"]["id"] for a in listed} == reviewed


@pytest.mark.parametrize(
    "path", ["gold-labels", "annotations", "articles", "sources", "assignments", "jobs"]
)
def test_query_count_does_not_grow_with_page_size(world, path):
    client = token_client(world.editor)
    client.get(f"{API}/{path}/?page_size=1")  # token's last_used_at written once a minute
    counts = []
    for size in (1, 4):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"{API}/{path}/?page_size={size}")
        assert response.status_code == 200
        counts.append(len(queries))
    assert len(response.json()["results"]) > 1 or path == "jobs"
    assert counts[0] == counts[1], counts


# --- exports and jobs ------------------------------------------------------------------------


def test_post_export_starts_an_export_job(world):
    query = {"level": "annotations", "format": "jsonl", "statuses": ["false"], "claims_only": True}
    client = token_client(world.researcher)
    response = client.post(f"{API}/exports/", {"query": query}, format="json")
    assert response.status_code == 202, response.content
    job = Job.objects.get(pk=response.json()["id"])
    assert (job.kind, job.started_by) == ("export", world.researcher)
    assert job.params == {
        "query": {
            "level": "annotations",
            "format": "jsonl",
            "statuses": ["false"],
            "claims_only": "on",
        }
    }
    polled = client.get(f"{API}/exports/{job.pk}/")
    assert polled.status_code == 200 and polled.json()["state"] == job.state


@pytest.mark.parametrize(
    "query", [{"colour": "red"}, {"format": "pdf"}, {"date_from": "2024-02-01", "date_to": "2024"}]
)
def test_post_export_refuses_bad_filters(world, query):
    response = token_client(world.editor).post(f"{API}/exports/", {"query": query}, format="json")
    assert response.status_code == 400
    assert not Job.objects.exists()


def test_annotators_cannot_export(world):
    client = token_client(world.annotator)
    assert client.post(f"{API}/exports/", {"query": {}}, format="json").status_code == 403
    assert client.get(f"{API}/exports/").status_code == 403


def _finished_export(user) -> Job:
    job = Job.objects.create(kind="export", started_by=user, state="succeeded")
    job.file.save("out.csv", ContentFile(b"a,b\n1,2\n"))
    job.file_name = "claimdesk-gold.csv"
    job.save()
    return job


def test_download_of_an_export(world):
    job = _finished_export(world.researcher)
    client = token_client(world.researcher)
    link = client.get(f"{API}/exports/{job.pk}/").json()["download"]
    assert link.endswith(f"/api/v1/jobs/{job.pk}/download/")
    for url in (f"{API}/exports/{job.pk}/download/", f"{API}/jobs/{job.pk}/download/"):
        response = client.get(url)
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == b"a,b\n1,2\n"
        assert "claimdesk-gold.csv" in response["Content-Disposition"]


def test_a_download_with_a_bad_id_or_a_missing_file_is_not_found(world):
    job = _finished_export(world.researcher)
    client = token_client(world.researcher)
    for url in (f"{API}/jobs/abc/download/", f"{API}/exports/1.5/download/"):
        assert client.get(url).status_code == 404, url
    job.file.storage.delete(job.file.name)  # removed by hand, or storage not shared
    response = client.get(f"{API}/jobs/{job.pk}/download/")
    assert response.status_code == 404 and "missing" in response.json()["detail"]


def test_a_researcher_who_lost_the_export_permission_no_longer_downloads(world):
    job = _finished_export(world.researcher)
    world.researcher.groups.clear()
    client = token_client(world.researcher)
    assert client.get(f"{API}/jobs/{job.pk}/download/").status_code == 403


def test_a_token_never_reaches_another_users_jobs(world):
    job = _finished_export(world.researcher)
    client = token_client(world.editor)
    for url in (f"/exports/{job.pk}/", f"/exports/{job.pk}/download/", f"/jobs/{job.pk}/"):
        assert client.get(API + url).status_code == 404, url
    assert results(client.get(f"{API}/jobs/")) == []
    assert [j["id"] for j in results(token_client(world.admin).get(f"{API}/jobs/"))] == [job.pk]


def test_jobs_list_own_jobs(world):
    mine = Job.objects.create(kind="import", started_by=world.editor)
    Job.objects.create(kind="import", started_by=world.admin)
    listed = results(token_client(world.editor).get(f"{API}/jobs/"))
    assert [j["id"] for j in listed] == [mine.pk]


# --- throttling, schema, docs --------------------------------------------------------------


@override_settings(CLAIMDESK_API_THROTTLE_RATE="3/min")
def test_requests_beyond_the_rate_are_refused_per_token(world):
    first, second = token_client(world.editor), token_client(world.editor)
    for _ in range(3):
        assert first.get(f"{API}/statuses/").status_code == 200
    refused = first.get(f"{API}/statuses/")
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert second.get(f"{API}/statuses/").status_code == 200  # another token: its own count


def test_schema_lists_every_endpoint(client):
    response = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    paths = json.loads(response.content)["paths"]
    for path in ("articles", "sources", "statuses", "assignments", "annotations", "gold-labels"):
        assert f"/api/v1/{path}/" in paths
    assert "/api/v1/exports/{id}/download/" in paths
    assert "apiToken" in json.loads(response.content)["components"]["securitySchemes"]


def test_docs_page_uses_only_local_scripts(client):
    response = client.get("/api/docs/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "swagger-ui-bundle.js" in html and "/static/drf_spectacular_sidecar/" in html
    assert "<script>" not in html  # no inline script: the CSP (script-src 'self') holds
    assert "http" not in "".join(s.split('"')[1] for s in html.split("<script src=")[1:])
    assert "script-src 'self'" in response["Content-Security-Policy"]
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200 and "SwaggerUIBundle" in script.content.decode()


@pytest.mark.parametrize(
    ("path", "serializer"),
    [("gold-labels", "GoldLabelSerializer"), ("annotations", "AnnotationSerializer")],
)
def test_label_lists_have_the_documented_shape(world, path, serializer):
    from claims.api import serializers

    documented = getattr(serializers, serializer)
    [label, *_] = results(token_client(world.editor).get(f"{API}/{path}/"))
    assert list(label) == documented.Meta.fields
    assert list(label["sentence"]) == serializers.LabelSentenceSerializer.Meta.fields
    assert list(label["claims"][0]) == serializers.ClaimSerializer.Meta.fields


@override_settings(CLAIMDESK_API_THROTTLE_RATE="2/min")
def test_anonymous_schema_requests_count_per_address_whatever_forwarded_for(client):
    for n in range(2):
        assert client.get("/api/v1/schema/", HTTP_X_FORWARDED_FOR=f"10.0.0.{n}").status_code == 200
    assert client.get("/api/v1/schema/", HTTP_X_FORWARDED_FOR="10.0.0.9").status_code == 429


def test_an_export_job_keeps_the_value_the_form_validated(world):
    client = token_client(world.researcher)
    response = client.post(
        f"{API}/exports/",
        {"query": {"level": ["annotations", "gold"], "format": "jsonl"}},
        format="json",
    )
    assert response.status_code == 202, response.content
    job = Job.objects.get(pk=response.json()["id"])
    assert job.params["query"]["level"] == "gold"  # the last value, as the form read it
