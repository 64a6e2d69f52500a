"""The editors' taxonomy work: approve, edit with aliases, merge with its preview, and the undo
of a merge, which moves back exactly what the merge moved."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from claims import selectors, services
from claims.models import (
    Annotation,
    Claim,
    GoldLabel,
    ReviewItem,
    Sentence,
    Source,
    SourceAlias,
    SourceMerge,
)
from tests.factories_workspace import annotatable, claim_label, make_article, save, status


def edit(source: Source, **changes) -> Source:
    fields = {
        "name": source.name,
        "kind": source.kind,
        "side": source.side,
        "description": source.description,
        "wikidata_id": source.wikidata_id,
        "aliases": list(source.aliases.values_list("alias", flat=True)),
    }
    return services.source_edit(source=source, **{**fields, **changes})


# --- approve and edit ----------------------------------------------------------------------


def test_approve_a_proposal_lets_other_annotators_choose_it(db, annotator, annotator2):
    proposal = services.source_propose(
        name="Zebra Brigade", kind="military", side="", proposed_by=annotator
    )
    assert selectors.resolve_source_name("Zebra Brigade", user=annotator2) is None

    services.source_approve(source=proposal)

    assert selectors.resolve_source_name("zebra brigade", user=annotator2) == proposal
    assert proposal.history.first().status == Source.Status.ACTIVE


def test_edit_sets_fields_and_exactly_the_given_aliases(db, mod_source):
    edit(
        mod_source,
        name="Ministry of Defence of Russia",
        side=" Russia ",
        description="The ministry. ",
        wikidata_id="Q1969842",
        aliases=["Russian MoD", "Minoborony", "minoborony", "", "Ministry of Defence of Russia"],
    )

    mod_source.refresh_from_db()
    assert mod_source.name == "Ministry of Defence of Russia"
    assert (mod_source.side, mod_source.description) == ("Russia", "The ministry.")
    assert mod_source.wikidata_id == "Q1969842"
    # "Russia's Defence Ministry" removed; a repeat, a blank and the name itself dropped
    assert sorted(mod_source.aliases.values_list("alias", flat=True)) == [
        "Minoborony",
        "Russian MoD",
    ]
    removed = SourceAlias.history.filter(alias="Russia's Defence Ministry", history_type="-")
    assert removed.exists()  # the history keeps the removed alias
    assert selectors.resolve_source_name("Minoborony") == mod_source


def test_edit_refuses_a_name_or_alias_of_another_source(db, mod_source):
    other = services.source_upsert(name="Ukrainian Air Force", kind="military")

    with pytest.raises(ValidationError, match="already names the source 'Russian Ministry"):
        edit(other, aliases=["russian mod"])
    with pytest.raises(ValidationError, match="merge the two instead"):
        edit(other, name="Russian Ministry of Defence")

    other.refresh_from_db()
    assert other.name == "Ukrainian Air Force" and not other.aliases.exists()


def test_edit_refuses_a_wikidata_id_another_source_has(db, mod_source):
    edit(mod_source, wikidata_id="Q1969842")
    other = services.source_upsert(name="Ukrainian Air Force", kind="military")

    with pytest.raises(ValidationError, match="Wikidata id Q1969842"):
        edit(other, wikidata_id="Q1969842")


def test_the_database_refuses_a_malformed_wikidata_id(db, mod_source):
    with pytest.raises(IntegrityError), transaction.atomic():
        Source.objects.filter(pk=mod_source.pk).update(wikidata_id="P31")


def test_edit_of_a_merged_source_is_refused(db, mod_source):
    duplicate = services.source_upsert(name="MoD Russia", kind="government")
    services.source_merge(source=duplicate, into=mod_source)

    with pytest.raises(ValidationError, match="edit that source"):
        edit(Source.objects.get(pk=duplicate.pk), side="Russia")


# --- merge and its undo --------------------------------------------------------------------


@pytest.fixture
def merged_world(db, annotator, annotator2, editor, mod_source):
    """A pending proposal used in two labels (one with a second claim naming another source),
    an editor's gold label with it, and a label of the target that must not move back."""
    proposal = services.source_propose(
        name="Moscow defence ministry", kind="government", side="", proposed_by=annotator
    )
    services.source_propose(
        name="Moscow defence ministry", kind="government", side="", proposed_by=annotator2
    )
    edit(proposal, aliases=["Moscow MoD"])
    article = make_article(3)
    first, second, third = annotatable(article)
    claim = {"attribution_type": "paraphrase", "status_id": status("unverified").pk}
    two_claims = [
        {
            **claim,
            "source_id": proposal.pk,
            "content_start": first.start,
            "content_end": first.end,
        },
        {
            **claim,
            "source_id": mod_source.pk,
            "content_start": first.start,
            "content_end": first.end,
        },
    ]
    mine = save(first, annotator, {"is_claim": True, "claims": two_claims})
    save(first, annotator2, claim_label(source=proposal))
    save(second, annotator, claim_label(source=proposal))
    save(third, annotator, claim_label(source=mod_source))
    services.gold_label_accept(annotation=mine, editor=editor, expected_version=0)
    return proposal, first


def source_of_claims() -> dict[int, int]:
    return dict(Claim.objects.values_list("pk", "source_id"))


def test_merge_preview_counts_what_the_merge_moves(merged_world, mod_source):
    proposal, _ = merged_world

    preview = selectors.source_merge_preview(source=proposal, into=mod_source)

    assert (preview.labels, preview.claims, preview.gold_claims) == (3, 3, 1)
    assert preview.aliases_added == ["Moscow defence ministry", "Moscow MoD"]
    moved = services.source_merge(source=proposal, into=mod_source)
    assert moved == preview.claims
    assert Claim.objects.filter(source=mod_source).count() == 3 + 1 + 1 + 2  # + the gold's two


def test_merge_records_who_merged_and_what_moved(merged_world, mod_source, editor):
    proposal, _ = merged_world

    services.source_merge(source=proposal, into=mod_source, merged_by=editor)

    merge = SourceMerge.objects.get()
    assert (merge.source, merge.into, merge.merged_by) == (proposal, mod_source, editor)
    assert merge.source_status == Source.Status.PENDING
    assert len(merge.moved["claims"]) == 3 and len(merge.moved["gold_claims"]) == 1
    assert SourceAlias.objects.get(alias="Moscow defence ministry").source == mod_source
    record = Source.history.filter(id=proposal.pk).first()
    assert "merged into" in record.history_change_reason


def test_undo_restores_the_source_its_alias_and_exactly_the_labels_that_moved(
    merged_world, mod_source, editor, annotator
):
    proposal, _ = merged_world
    before = source_of_claims()
    gold_before = GoldLabel.objects.get().claims_snapshot
    annotations_before = dict(Annotation.objects.values_list("pk", "source_id"))
    services.source_merge(source=proposal, into=mod_source, merged_by=editor)
    assert set(source_of_claims().values()) == {mod_source.pk}

    back = services.source_unmerge(merge=SourceMerge.objects.get(), undone_by=editor)

    assert back == 3
    assert source_of_claims() == before  # the target's own claims stayed
    assert dict(Annotation.objects.values_list("pk", "source_id")) == annotations_before
    assert GoldLabel.objects.get().claims_snapshot == gold_before
    proposal.refresh_from_db()
    assert proposal.merged_into is None and proposal.status == Source.Status.PENDING
    assert sorted(proposal.aliases.values_list("alias", flat=True)) == ["Moscow MoD"]
    assert not SourceAlias.objects.filter(alias__iexact="Moscow defence ministry").exists()
    assert selectors.resolve_source_name("Moscow defence ministry", user=annotator) == proposal
    assert not mod_source.proposers.exists()
    merge = SourceMerge.objects.get()
    assert merge.undone_by == editor and merge.undone_at is not None


def test_undo_keeps_a_label_changed_since(merged_world, mod_source, annotator):
    proposal, first = merged_world
    services.source_merge(source=proposal, into=mod_source)
    second = annotatable(first.article)[1]
    mine = Annotation.objects.get(sentence=second, annotator=annotator)
    changed = claim_label(source=mod_source, attribution_type="direct_quote")
    save(second, annotator, changed, expected_version=mine.version)  # saved again, on purpose

    services.source_unmerge(merge=SourceMerge.objects.get())

    assert Annotation.objects.get(sentence=second, annotator=annotator).source == mod_source
    assert Annotation.objects.filter(source=proposal).count() == 2  # the first sentence's


def test_merge_then_undo_keeps_the_review_queue_in_step(db, annotator, annotator2, mod_source):
    duplicate = services.source_upsert(name="MoD Russia", kind="government")
    sentence = annotatable(make_article(2))[0]
    save(sentence, annotator, claim_label(source=duplicate))
    save(sentence, annotator2, claim_label(source=mod_source))
    disagreement = ReviewItem.objects.get(sentence=sentence).bucket

    services.source_merge(source=duplicate, into=mod_source)
    assert ReviewItem.objects.get(sentence=sentence).bucket != disagreement  # now unanimous
    services.source_unmerge(merge=SourceMerge.objects.get())

    assert ReviewItem.objects.get(sentence=sentence).bucket == disagreement


def test_undo_moves_back_suggestions_and_sources_merged_earlier(db, mod_source):
    duplicate = services.source_upsert(name="MoD Russia", kind="government")
    older = services.source_upsert(name="Moscow MoD", kind="government")
    services.source_merge(source=older, into=duplicate)
    sentence = annotatable(make_article(body="MoD Russia said ten drones fell."))[0]
    assert sentence.suggested_source == duplicate

    services.source_merge(source=duplicate, into=mod_source)
    assert Source.objects.get(pk=older.pk).merged_into == mod_source
    services.source_unmerge(merge=SourceMerge.objects.get(source=duplicate))

    assert Sentence.objects.get(pk=sentence.pk).suggested_source == duplicate
    assert Source.objects.get(pk=older.pk).merged_into == duplicate
    assert selectors.resolve_source_name("Moscow MoD") == duplicate


def test_undo_twice_or_after_the_target_was_merged_is_refused(db, mod_source):
    a = services.source_upsert(name="A", kind="unknown")
    b = services.source_upsert(name="B", kind="unknown")
    services.source_merge(source=a, into=b)
    services.source_merge(source=b, into=mod_source)

    with pytest.raises(ValidationError, match="undo that merge first"):
        services.source_unmerge(merge=SourceMerge.objects.get(source=a))
    services.source_unmerge(merge=SourceMerge.objects.get(source=b))
    services.source_unmerge(merge=SourceMerge.objects.get(source=a))
    with pytest.raises(ValidationError, match="undone already"):
        services.source_unmerge(merge=SourceMerge.objects.get(source=a))

    assert Source.objects.filter(merged_into__isnull=False).count() == 0


def test_a_source_merged_again_after_an_undo_has_one_open_merge(db, mod_source):
    a = services.source_upsert(name="A", kind="unknown")
    services.source_merge(source=a, into=mod_source)
    services.source_unmerge(merge=SourceMerge.objects.get())

    services.source_merge(source=a, into=mod_source)

    assert SourceMerge.objects.filter(source=a, undone_at=None).count() == 1
    with pytest.raises(IntegrityError), transaction.atomic():
        SourceMerge.objects.create(source=a, into=mod_source, source_status="active")


def test_merging_a_merged_source_again_is_refused(db, mod_source):
    a = services.source_upsert(name="A", kind="unknown")
    services.source_merge(source=a, into=mod_source)

    with pytest.raises(ValidationError, match="undo that merge first"):
        services.source_merge(source=Source.objects.get(pk=a.pk), into=mod_source)


# --- the list ------------------------------------------------------------------------------


def test_the_list_puts_pending_proposals_first_with_their_usage(
    db, annotator, mod_source, unverified
):
    proposal = services.source_propose(
        name="Zebra Brigade", kind="military", side="", proposed_by=annotator
    )
    merged = services.source_upsert(name="Aardvark", kind="unknown")
    services.source_merge(source=merged, into=mod_source)
    article = make_article(2)
    for sentence in annotatable(article):
        save(sentence, annotator, claim_label(source=proposal))

    sources = list(selectors.taxonomy_sources())

    assert sources == [proposal, mod_source]  # the merged one is not listed
    assert (sources[0].label_count, sources[0].claim_count, sources[0].article_count) == (2, 2, 1)
    assert list(selectors.taxonomy_sources(query="russian mod")) == [mod_source]  # an alias
    assert list(selectors.taxonomy_sources(query="aardvark")) == [mod_source]  # merged name
