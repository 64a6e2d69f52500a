"""The editors' sources page: the list with proposals first, edit, approve, merge with its
preview and the undo, as an editor sees them (the roles' answers: test_authorization)."""

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from claims import services
from claims.models import Annotation, Source, SourceMerge
from tests.factories_workspace import annotatable, assign, claim_label, make_article, save

HX = {"HX-Request": "true"}


def html_of(response) -> str:
    return response.content.decode()


@pytest.fixture
def ed_client(client, editor):
    client.force_login(editor)
    return client


@pytest.fixture
def proposal(db, annotator, annotator2, mod_source):
    """A pending source proposed by an annotator and used in labels of an article."""
    source = services.source_propose(
        name="Moscow defence ministry", kind="government", side="", proposed_by=annotator
    )
    article = make_article(3, title="Drones over the border")
    assign(article, annotator)
    for sentence in annotatable(article)[:2]:
        save(sentence, annotator, claim_label(source=source))
    return source


def detail_url(source) -> str:
    return reverse("claims:source_detail", args=[source.pk])


def test_the_list_shows_proposals_first_with_proposer_and_usage(ed_client, proposal, mod_source):
    html = html_of(ed_client.get(reverse("claims:source_list")))

    assert "<html" in html
    assert html.index("Moscow defence ministry") < html.index("Russian Ministry of Defence")
    row = html[html.index("Moscow defence ministry") : html.index("Russian Ministry of Defence")]
    assert "pending" in row and "ann" in row and "2 (2)" in row
    assert f'action="{reverse("claims:source_approve", args=[proposal.pk])}"' in html


def test_the_list_searches_aliases_and_answers_htmx_with_the_list_only(ed_client, proposal):
    response = ed_client.get(reverse("claims:source_list"), {"q": "russian mod"}, headers=HX)

    html = html_of(response)
    assert 'id="source-list"' in html and "<html" not in html
    assert "Russian Ministry of Defence" in html and "Moscow defence ministry" not in html


def test_the_list_pages(ed_client, db):
    for number in range(55):
        services.source_upsert(name=f"Source {number:02}", kind="unknown")

    first = html_of(ed_client.get(reverse("claims:source_list")))
    second = html_of(ed_client.get(reverse("claims:source_list"), {"page": 2}))

    assert "Page 1 of 2" in first and "Source 00" in first and "Source 54" not in first
    assert "Source 54" in second and "Source 00" not in second


def test_editors_see_the_nav_link_and_annotators_do_not(client, editor, annotator):
    client.force_login(editor)
    assert f'href="{reverse("claims:source_list")}"' in html_of(client.get(reverse("claims:home")))
    client.force_login(annotator)
    assert reverse("claims:source_list") not in html_of(client.get(reverse("claims:home")))


def test_approve_from_the_list_returns_to_it(ed_client, proposal, annotator2):
    response = ed_client.post(
        reverse("claims:source_approve", args=[proposal.pk]), {"next": "list"}
    )

    assert response.status_code == 302 and response.url == reverse("claims:source_list")
    proposal.refresh_from_db()
    assert proposal.status == Source.Status.ACTIVE


def test_edit_saves_fields_and_aliases(ed_client, proposal):
    response = ed_client.post(
        detail_url(proposal),
        {
            "name": "Moscow Defence Ministry",
            "kind": "government",
            "side": "Russia",
            "aliases": "Moscow MoD, Minoborony\nMinoborony Rossii",
            "description": "",
            "wikidata_id": "q1969842",
        },
    )

    assert response.status_code == 302 and response.url == detail_url(proposal)
    proposal.refresh_from_db()
    assert proposal.name == "Moscow Defence Ministry" and proposal.wikidata_id == "Q1969842"
    assert sorted(proposal.aliases.values_list("alias", flat=True)) == [
        "Minoborony",
        "Minoborony Rossii",
        "Moscow MoD",
    ]
    html = html_of(ed_client.get(response.url))
    assert "Saved" in html and "Moscow MoD" in html and "wikidata.org/wiki/Q1969842" in html


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("wikidata_id", "P31", "A Wikidata id is Q followed by digits"),
        ("aliases", "Russian MoD", "already names the source"),
        ("name", "", "This field is required"),
    ],
)
def test_edit_errors_are_shown_with_the_form(
    ed_client, proposal, mod_source, field, value, message
):
    data = {"name": proposal.name, "kind": "government", "aliases": "", field: value}

    response = ed_client.post(detail_url(proposal), data)

    assert response.status_code == 422
    assert message in html_of(response)
    proposal.refresh_from_db()
    assert proposal.name == "Moscow defence ministry" and not proposal.aliases.exists()


def test_merge_preview_then_confirm_moves_the_labels(ed_client, proposal, mod_source, editor):
    merge_url = reverse("claims:source_merge", args=[proposal.pk])

    preview = ed_client.get(merge_url, {"into": "russian mod"})  # an alias names the target

    html = html_of(preview)
    assert preview.status_code == 200
    assert re.search(r"moves\s+<strong>2</strong> annotator labels \(2 claims\)", html)
    assert "“Moscow defence ministry”" in html
    assert Annotation.objects.filter(source=proposal).count() == 2  # nothing moved yet

    response = ed_client.post(merge_url, {"into_id": mod_source.pk})

    assert response.status_code == 302 and response.url == detail_url(mod_source)
    assert Annotation.objects.filter(source=mod_source).count() == 2
    assert SourceMerge.objects.get().merged_by == editor
    html = html_of(ed_client.get(response.url))
    assert "2 claim(s) moved" in html and "Moscow defence ministry" in html


def test_merge_refusals_are_shown_not_raised(ed_client, proposal):
    merge_url = reverse("claims:source_merge", args=[proposal.pk])

    itself = ed_client.get(merge_url, {"into": "Moscow defence ministry"})
    unknown = ed_client.get(merge_url, {"into": "Nobody at all"})
    missing = ed_client.post(merge_url, {"into_id": 999999})

    assert itself.status_code == unknown.status_code == missing.status_code == 422
    assert "cannot be merged into itself" in html_of(itself)
    assert "No source has that name or alias" in html_of(unknown)


def test_undo_from_the_merged_source_moves_the_labels_back(ed_client, proposal, mod_source):
    services.source_merge(source=proposal, into=mod_source)
    page = html_of(ed_client.get(detail_url(proposal)))
    assert "Undo the merge" in page and 'id="source-edit"' not in page

    response = ed_client.post(reverse("claims:source_unmerge", args=[proposal.pk]))

    assert response.status_code == 302 and response.url == detail_url(proposal)
    assert Annotation.objects.filter(source=proposal).count() == 2
    proposal.refresh_from_db()
    assert proposal.merged_into is None and proposal.status == Source.Status.PENDING
    again = ed_client.post(reverse("claims:source_unmerge", args=[proposal.pk]))
    assert again.status_code == 404  # no open merge left


def test_the_detail_lists_articles_and_history(ed_client, proposal, editor):
    services.source_approve(source=proposal)

    html = html_of(ed_client.get(detail_url(proposal)))

    assert "Drones over the border" in html and "(2 claims)" in html
    assert 'id="source-history"' in html and "Changed" in html and "Created" in html


@pytest.mark.parametrize("name", ["source_detail", "source_merge"])
def test_an_unknown_source_is_404(ed_client, db, name):
    assert ed_client.get(reverse(f"claims:{name}", args=[987654])).status_code == 404


def test_an_unknown_source_cannot_be_approved(ed_client, db):
    assert ed_client.post(reverse("claims:source_approve", args=[987654])).status_code == 404


def test_posts_need_the_csrf_token(editor, proposal, mod_source):
    client = Client(enforce_csrf_checks=True)
    client.force_login(editor)

    refused = [
        client.post(reverse("claims:source_approve", args=[proposal.pk])).status_code,
        client.post(
            reverse("claims:source_merge", args=[proposal.pk]), {"into_id": mod_source.pk}
        ).status_code,
        client.post(detail_url(proposal), {"name": "X", "kind": "unknown"}).status_code,
    ]
    page = client.get(detail_url(proposal))
    token = page.cookies["csrftoken"].value
    approved = client.post(
        reverse("claims:source_approve", args=[proposal.pk]), headers={"X-CSRFToken": token}
    )

    assert refused == [403, 403, 403]
    assert approved.status_code == 302
    proposal.refresh_from_db()
    assert proposal.status == Source.Status.ACTIVE and proposal.name == "Moscow defence ministry"


def test_the_editor_approves_and_merges_in_the_app_and_the_labels_follow(
    ed_client, proposal, annotator, mod_source
):
    """Issue 15's done-when: an approved proposal is everyone's; a merged one moves labels."""
    other = services.source_propose(
        name="MoD in Moscow", kind="government", side="", proposed_by=annotator
    )
    sentence = annotatable(proposal.claims.first().annotation.sentence.article)[2]
    save(sentence, annotator, claim_label(source=other))

    ed_client.post(reverse("claims:source_approve", args=[proposal.pk]))
    ed_client.post(reverse("claims:source_merge", args=[other.pk]), {"into_id": proposal.pk})

    labels = Annotation.objects.filter(annotator=annotator)
    assert set(labels.values_list("source__name", flat=True)) == {"Moscow defence ministry"}
    assert labels.get(sentence=sentence).claims.get().source == proposal


def test_the_list_queries_do_not_grow_with_the_sources(ed_client, annotator, unverified):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert ed_client.get(reverse("claims:source_list")).status_code == 200
        return len(captured)

    sentence = annotatable(make_article(2))[0]
    for number in range(3):
        source = services.source_propose(
            name=f"Proposal {number}", kind="unknown", side="", proposed_by=annotator
        )
        services.source_upsert(name=f"Source {number}", kind="unknown", aliases=[f"S{number}"])
    save(sentence, annotator, claim_label(source=source))
    few = queries()
    for number in range(3, 30):
        services.source_propose(
            name=f"Proposal {number}", kind="unknown", side="", proposed_by=annotator
        )
        services.source_upsert(name=f"Source {number}", kind="unknown", aliases=[f"S{number}"])

    assert queries() == few
