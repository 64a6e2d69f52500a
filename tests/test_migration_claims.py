"""Migrations 0012-0013: every label becomes claims, and nothing else changes.

A database at 0011 is filled as real work leaves it — three annotators, claims with and
without a span, non-claims with notes, an accepted and a corrected gold label with several
versions in their history, created / updated / undone label changes, a send-back — then
migrated forwards; every row is compared field by field with what it was, and the new claims
with what the old fields said. Then back again: the label changes read as they did.
"""

import datetime
import hashlib

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("claims", "0011_claim")]
AFTER = [("claims", "0013_claim_spans_in_body")]

BODY = (
    "Officials in the region said on Monday that two drones were shot down overnight. "
    "The governor wrote on Telegram that nobody was hurt. "
    "The claims could not be independently verified.\n"
    "“We will rebuild every house,” the mayor told reporters."
)
T0 = datetime.datetime(2026, 3, 2, 8, 0, tzinfo=datetime.UTC)


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def _rows(model, *, exclude=()):
    fields = [f.attname for f in model._meta.concrete_fields if f.attname not in exclude]
    key = model._meta.pk.attname
    return {row[key]: row for row in model.objects.values(key, *fields)}


pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def at_0011(transactional_db):
    apps = _migrate(BEFORE)
    yield apps
    _migrate(_leaf())  # leave the database as the other tests expect it


def _leaf():
    executor = MigrationExecutor(connection)
    return [key for key in executor.loader.graph.leaf_nodes() if key[0] == "claims"]


def _world(apps):
    """The database as work leaves it, written with the models of 0011."""
    User = apps.get_model("auth", "User")
    Article = apps.get_model("claims", "Article")
    Sentence = apps.get_model("claims", "Sentence")
    Source = apps.get_model("claims", "Source")
    Status = apps.get_model("claims", "VerificationStatus")
    Annotation = apps.get_model("claims", "Annotation")
    GoldLabel = apps.get_model("claims", "GoldLabel")
    HistoricalGoldLabel = apps.get_model("claims", "HistoricalGoldLabel")
    Event = apps.get_model("claims", "AnnotationEvent")
    ReviewItem = apps.get_model("claims", "ReviewItem")
    SendBack = apps.get_model("claims", "SendBack")

    a1, a2, a3, ed = (User.objects.create(username=n) for n in ("a1", "a2", "a3", "ed"))
    article = Article.objects.create(
        title="Drones", body=BODY, checksum=hashlib.sha256(BODY.encode()).hexdigest()
    )
    sentences, start = [], 0
    for position, text in enumerate(
        [
            "Officials in the region said on Monday that two drones were shot down overnight.",
            "The governor wrote on Telegram that nobody was hurt.",
            "The claims could not be independently verified.",
            "“We will rebuild every house,” the mayor told reporters.",
        ]
    ):
        start = BODY.index(text, start)
        sentences.append(
            Sentence.objects.create(
                article=article, position=position, start=start, end=start + len(text), text=text
            )
        )
        start += len(text)
    governor = Source.objects.create(name="Regional governor", kind="government")
    officials = Source.objects.create(name="Regional officials", kind="unnamed_officials")
    # (A transactional test before this one may have flushed the statuses of migration 0002.)
    unverified, _ = Status.objects.get_or_create(code="unverified", defaults={"label": "U"})
    disputed, _ = Status.objects.get_or_create(code="disputed", defaults={"label": "D"})

    def label(sentence, annotator, n, **fields):
        return Annotation.objects.create(
            sentence=sentence,
            annotator=annotator,
            version=fields.pop("version", 1),
            created_at=T0 + datetime.timedelta(minutes=n),
            **fields,
        )

    s0, s1, s2, s3 = sentences
    claim = {"is_claim": True, "attribution_type": "paraphrase", "status": unverified}
    label(s0, a1, 1, source=officials, span_start=44, span_end=80, **claim)
    label(s0, a2, 2, source=officials, note="span left out", **claim)
    label(s0, a3, 3, is_claim=False, note="only context", evidence_url="https://example.org/n")
    label(s1, a1, 4, source=governor, evidence_url="https://example.org/tg", version=3, **claim)
    label(s1, a2, 5, source=governor, **claim)
    label(s2, a1, 6, is_claim=False)
    label(
        s3,
        a1,
        7,
        is_claim=True,
        attribution_type="direct_quote",
        status=disputed,
        span_start=0,
        span_end=30,
    )
    gold_s1 = GoldLabel.objects.create(
        sentence=s1,
        editor=ed,
        origin="accepted",
        accepted_annotation=Annotation.objects.get(sentence=s1, annotator=a1),
        version=2,
        **claim,
        source=governor,
    )
    gold_s2 = GoldLabel.objects.create(
        sentence=s2, editor=ed, origin="corrected", is_claim=False, comment="context"
    )
    for version, (is_claim, source, status) in enumerate(
        [(True, officials, unverified), (True, governor, unverified)], start=1
    ):
        HistoricalGoldLabel.objects.create(
            id=gold_s1.pk,
            sentence=s1,
            editor=ed,
            origin="accepted",
            is_claim=is_claim,
            source=source,
            status=status,
            attribution_type="paraphrase",
            version=version,
            created_at=T0,
            updated_at=T0,
            history_date=T0 + datetime.timedelta(hours=version),
            history_type="+" if version == 1 else "~",
            history_user=ed,
        )
    HistoricalGoldLabel.objects.create(
        id=gold_s2.pk,
        sentence=s2,
        editor=ed,
        origin="corrected",
        is_claim=False,
        comment="context",
        version=1,
        created_at=T0,
        updated_at=T0,
        history_date=T0,
        history_type="+",
        history_user=ed,
    )
    old = {
        "is_claim": True,
        "source_id": governor.pk,
        "attribution_type": "paraphrase",
        "status_id": unverified.pk,
        "span_start": None,
        "span_end": None,
        "note": "",
        "evidence_url": "",
    }
    Event.objects.create(sentence=s1, annotator=a1, actor=a1, action="created", after=old)
    Event.objects.create(
        sentence=s1,
        annotator=a1,
        actor=a1,
        action="updated",
        before=old,
        after={**old, "span_start": 4, "span_end": 12, "note": "narrower"},
        undone=True,
    )
    Event.objects.create(
        sentence=s1,
        annotator=a1,
        actor=a1,
        action="undone",
        before={**old, "span_start": 4, "span_end": 12, "note": "narrower"},
        after=old,
    )
    no = {**old, "is_claim": False, "source_id": None, "status_id": None, "attribution_type": ""}
    Event.objects.create(sentence=s2, annotator=a1, actor=a1, action="created", after=no)
    for sentence, bucket, count, state in [
        (s0, 0, 3, "open"),
        (s1, 2, 2, "reviewed"),
        (s2, 1, 1, "reviewed"),
        (s3, 1, 1, "sent_back"),
    ]:
        ReviewItem.objects.create(
            sentence=sentence,
            article=article,
            bucket=bucket,
            annotation_count=count,
            first_annotated_at=T0,
            state=state,
        )
    SendBack.objects.create(sentence=s3, editor=ed, comment="Is this a claim by the mayor?")
    return {"sentences": sentences, "users": (a1, a2, a3), "unverified": unverified}


def _claims_of(apps, **owner):
    Claim = apps.get_model("claims", "Claim")
    return list(Claim.objects.filter(**owner).order_by("position").values())


def test_every_label_becomes_claims_and_nothing_else_changes(at_0011):
    world = _world(at_0011)
    models = ("Annotation", "GoldLabel", "HistoricalGoldLabel", "ReviewItem", "SendBack")
    before = {name: _rows(at_0011.get_model("claims", name)) for name in models}
    before["ReviewItem"] = _rows(at_0011.get_model("claims", "ReviewItem"), exclude=("bucket",))
    events_before = _rows(at_0011.get_model("claims", "AnnotationEvent"))

    apps = _migrate(AFTER)

    after = {name: _rows(apps.get_model("claims", name)) for name in models}
    after["ReviewItem"] = _rows(apps.get_model("claims", "ReviewItem"), exclude=("bucket",))
    # Field by field: only the new claims_snapshot of gold labels is new.
    for name in models:
        for pk, row in before[name].items():
            changed = {k for k in row if row[k] != after[name][pk].get(k)}
            assert not changed - {"claims_snapshot"}, (name, pk, changed)
    # Each claim label: one claim, over its span or its sentence, with its source/type/status.
    Annotation = apps.get_model("claims", "Annotation")
    sentences = {s.pk: s for s in world["sentences"]}
    for annotation in Annotation.objects.all():
        claims = _claims_of(apps, annotation=annotation)
        if not annotation.is_claim:
            assert claims == []
            continue
        sentence = sentences[annotation.sentence_id]
        start = sentence.start + (annotation.span_start or 0)
        end = (
            sentence.start + annotation.span_end
            if annotation.span_end is not None
            else sentence.end
        )
        assert [
            (
                c["position"],
                c["content_start"],
                c["content_end"],
                c["source_id"],
                c["attribution_type"],
                c["status_id"],
                c["cue_start"],
                c["mention_start"],
            )
            for c in claims
        ] == [
            (
                0,
                start,
                end,
                annotation.source_id,
                annotation.attribution_type,
                annotation.status_id,
                None,
                None,
            )
        ]
    # The spanned claim's content is exactly its old span's text.
    s0 = world["sentences"][0]
    spanned = _claims_of(
        apps, annotation__sentence_id=s0.pk, annotation__annotator_id=world["users"][0].pk
    )
    assert BODY[spanned[0]["content_start"] : spanned[0]["content_end"]] == s0.text[44:80]
    # Gold labels: a claim each that is one, and every history record its claims.
    GoldLabel = apps.get_model("claims", "GoldLabel")
    for gold in GoldLabel.objects.all():
        claims = _claims_of(apps, gold=gold)
        assert len(claims) == (1 if gold.is_claim else 0)
        assert [c["source_id"] for c in gold.claims_snapshot] == [c["source_id"] for c in claims]
    History = apps.get_model("claims", "HistoricalGoldLabel")
    assert [
        [c["source_id"] for c in r.claims_snapshot] for r in History.objects.order_by("history_id")
    ] == [
        [r["source_id"]] if r["is_claim"] else []
        for r in sorted(before["HistoricalGoldLabel"].values(), key=lambda r: r["history_id"])
    ]
    # Label changes: the claims shape, the same label.
    Event = apps.get_model("claims", "AnnotationEvent")
    s1 = world["sentences"][1]
    for event in Event.objects.all():
        old = events_before[event.pk]
        assert (event.action, event.undone, event.created_at) == (
            old["action"],
            old["undone"],
            old["created_at"],
        )
        for new, was in ((event.before, old["before"]), (event.after, old["after"])):
            if was is None:
                assert new is None
                continue
            assert (new["is_claim"], new["note"]) == (was["is_claim"], was["note"])
            assert [c["source_id"] for c in new["claims"]] == (
                [was["source_id"]] if was["is_claim"] else []
            )
    narrower = Event.objects.get(action="updated").after["claims"][0]
    assert (narrower["content_start"], narrower["content_end"]) == (s1.start + 4, s1.start + 12)
    # The queue: states kept; buckets by the claim-by-claim rule.
    ReviewItem = apps.get_model("claims", "ReviewItem")
    buckets = dict(ReviewItem.objects.values_list("sentence_id", "bucket"))
    # s0: a span and no span differ beyond the tolerance, and a non-claim: a disagreement.
    # s1: the same claim twice: unanimous.
    assert [buckets[s.pk] for s in world["sentences"]] == [0, 2, 1, 1]

    # And back: the label changes read exactly as they did, and the claims are gone.
    apps = _migrate(BEFORE)
    Event = apps.get_model("claims", "AnnotationEvent")
    assert {e.pk: (e.before, e.after) for e in Event.objects.all()} == {
        pk: (row["before"], row["after"]) for pk, row in events_before.items()
    }
    assert apps.get_model("claims", "Claim").objects.count() == 0


def test_undo_of_a_change_made_before_the_migration_still_works(at_0011):
    """The history rewritten in the claims shape is what undo compares and restores."""
    world = _world(at_0011)
    _migrate(_leaf())  # the current models (used below) need every later migration
    from django.contrib.auth.models import User

    from claims import services
    from claims.models import Annotation, AnnotationEvent

    a1 = User.objects.get(username="a1")
    # The newest change by a1 is the non-claim of sentence 2 (created): undo deletes it.
    s2 = world["sentences"][2].pk
    AnnotationEvent.objects.filter(annotator=a1).exclude(sentence_id=s2).update(undone=True)

    services.annotation_undo(annotator=a1)

    assert not Annotation.objects.filter(sentence_id=s2, annotator=a1).exists()


def test_the_database_refuses_a_claim_past_the_end_of_the_body(at_0011):
    world = _world(at_0011)
    _migrate(_leaf())  # the current models (used below) need every later migration
    from claims.models import Annotation, Claim

    annotation = Annotation.objects.filter(is_claim=True).first()
    unverified = world["unverified"]
    for field, value in [("content_end", len(BODY) + 1), ("cue_end", len(BODY) + 5)]:
        values = {"content_start": 0, "content_end": 5, field: value}
        if field == "cue_end":
            values["cue_start"] = 1
        with pytest.raises(IntegrityError), transaction.atomic():
            Claim.objects.create(
                annotation=annotation, position=9, status_id=unverified.pk, **values
            )
    Claim.objects.create(
        annotation=annotation,
        position=9,
        status_id=unverified.pk,
        content_start=0,
        content_end=len(BODY),
    )
    claim = Claim.objects.get(annotation=annotation, position=9)
    claim.mention_start, claim.mention_end = 3, len(BODY) + 1
    with pytest.raises(IntegrityError), transaction.atomic():
        claim.save()
