"""Every label becomes claims: each annotation and gold label that is a claim gets one Claim.

The claim's content is the label's claim span (sentence offsets, made body offsets), or the
whole sentence when it had none; its source, attribution type and status are the label's. The
label's note and evidence URL stay the label's (claims start with notes of their own, empty). The
gold labels' history gets the claims each version held (claims_snapshot), the label changes in
AnnotationEvent are rewritten in the claims shape (so that undo keeps working), and the review
queue rows are recomputed with the claim-by-claim rule (claims.spans). Nothing else changes:
versions, timestamps, review states, send-backs stay as they were.

Reversible: going back, the first claim of each label is written to the old fields again.
"""

from django.db import migrations

from claims import spans

BATCH = 2000


def _claim(sentence, *, span_start, span_end, source_id, attribution_type, status_id):
    if span_start is None:
        start, end = sentence["start"], sentence["end"]
    else:
        start, end = sentence["start"] + span_start, sentence["start"] + span_end
    return {
        "content_start": start,
        "content_end": end,
        "cue_start": None,
        "cue_end": None,
        "mention_start": None,
        "mention_end": None,
        "source_id": source_id,
        "attribution_type": attribution_type or "",
        "status_id": status_id,
        "note": "",
        "evidence_url": "",
    }


def label_in_claims_shape(old: dict | None, sentence: dict) -> dict | None:
    """An old label dict (is_claim, source_id, attribution_type, status_id, span_start,
    span_end, note, evidence_url) in the claims shape the services use now."""
    if old is None or "claims" in old:
        return old
    label = {
        "is_claim": bool(old.get("is_claim")),
        "note": old.get("note") or "",
        "evidence_url": old.get("evidence_url") or "",
        "claims": [],
    }
    if label["is_claim"]:
        claim = _claim(
            sentence,
            span_start=old.get("span_start"),
            span_end=old.get("span_end"),
            source_id=old.get("source_id"),
            attribution_type=old.get("attribution_type"),
            status_id=old.get("status_id"),
        )
        label["claims"].append(claim)
    return label


def forwards(apps, schema_editor):
    Sentence = apps.get_model("claims", "Sentence")
    Annotation = apps.get_model("claims", "Annotation")
    GoldLabel = apps.get_model("claims", "GoldLabel")
    Claim = apps.get_model("claims", "Claim")
    Event = apps.get_model("claims", "AnnotationEvent")
    ReviewItem = apps.get_model("claims", "ReviewItem")
    HistoricalGoldLabel = apps.get_model("claims", "HistoricalGoldLabel")

    labelled = (
        set(Annotation.objects.values_list("sentence_id", flat=True))
        | set(GoldLabel.objects.values_list("sentence_id", flat=True))
        | set(Event.objects.values_list("sentence_id", flat=True))
        | set(HistoricalGoldLabel.objects.values_list("sentence_id", flat=True))
    )
    sentences = {}
    ids = sorted(labelled)
    for start in range(0, len(ids), BATCH):
        chunk = Sentence.objects.filter(pk__in=ids[start : start + BATCH])
        sentences.update((row["id"], row) for row in chunk.values("id", "start", "end"))

    claims = []
    for a in Annotation.objects.filter(is_claim=True).iterator(chunk_size=BATCH):
        claim = _claim(
            sentences[a.sentence_id],
            span_start=a.span_start,
            span_end=a.span_end,
            source_id=a.source_id,
            attribution_type=a.attribution_type,
            status_id=a.status_id,
        )
        claims.append(Claim(annotation_id=a.pk, position=0, **claim))
        if len(claims) >= BATCH:
            Claim.objects.bulk_create(claims)
            claims = []
    Claim.objects.bulk_create(claims)

    for gold in GoldLabel.objects.iterator(chunk_size=BATCH):
        new = label_in_claims_shape(_gold_label(gold), sentences[gold.sentence_id])
        for position, claim in enumerate(new["claims"]):
            Claim.objects.create(gold_id=gold.pk, position=position, **claim)
        GoldLabel.objects.filter(pk=gold.pk).update(claims_snapshot=new["claims"])
    for record in HistoricalGoldLabel.objects.iterator(chunk_size=BATCH):
        new = label_in_claims_shape(_gold_label(record), sentences[record.sentence_id])
        HistoricalGoldLabel.objects.filter(pk=record.pk).update(claims_snapshot=new["claims"])

    changed = []
    for event in Event.objects.iterator(chunk_size=BATCH):
        sentence = sentences[event.sentence_id]
        before = label_in_claims_shape(event.before, sentence)
        after = label_in_claims_shape(event.after, sentence)
        if (before, after) != (event.before, event.after):
            event.before, event.after = before, after
            changed.append(event)
        if len(changed) >= BATCH:
            Event.objects.bulk_update(changed, ["before", "after"])
            changed = []
    Event.objects.bulk_update(changed, ["before", "after"])

    _review_buckets_recompute(Annotation, Claim, ReviewItem)


def _gold_label(gold) -> dict:
    return {
        "is_claim": gold.is_claim,
        "source_id": gold.source_id,
        "attribution_type": gold.attribution_type,
        "status_id": gold.status_id,
        "span_start": gold.span_start,
        "span_end": gold.span_end,
    }


def _review_buckets_recompute(Annotation, Claim, ReviewItem):
    """The queue rows' buckets by the claim-by-claim rule (the services' from now on)."""
    labels: dict[int, dict[int, list]] = {}
    sentence_of: dict[int, int] = {}
    for sentence_id, annotation_id in Annotation.objects.values_list("sentence_id", "id"):
        labels.setdefault(sentence_id, {})[annotation_id] = []
        sentence_of[annotation_id] = sentence_id
    claims = Claim.objects.filter(annotation__isnull=False).order_by("annotation", "position")
    for claim in claims.iterator(chunk_size=BATCH):
        of_sentence = labels[sentence_of[claim.annotation_id]]
        of_sentence[claim.annotation_id].append(spans.ClaimSpans.from_claim(claim))
    changed = []
    for item in ReviewItem.objects.iterator(chunk_size=BATCH):
        if item.sentence_id not in labels:
            continue
        of_sentence = list(labels[item.sentence_id].values())
        bucket = 1 if len(of_sentence) == 1 else 0 if spans.sentence_disagrees(of_sentence) else 2
        if bucket != item.bucket:
            item.bucket = bucket
            changed.append(item)
    ReviewItem.objects.bulk_update(changed, ["bucket"], batch_size=BATCH)


def backwards(apps, schema_editor):
    """The old fields were kept in step with the first claim: only the claims go, and the
    label changes take their old shape again."""
    Claim = apps.get_model("claims", "Claim")
    Event = apps.get_model("claims", "AnnotationEvent")
    Sentence = apps.get_model("claims", "Sentence")
    bounds = {pk: (start, end) for pk, start, end in Sentence.objects.values_list("id", "start", "end")}
    changed = []
    for event in Event.objects.iterator(chunk_size=BATCH):
        event.before = _old_shape(event.before, bounds[event.sentence_id])
        event.after = _old_shape(event.after, bounds[event.sentence_id])
        changed.append(event)
    Event.objects.bulk_update(changed, ["before", "after"], batch_size=BATCH)
    Claim.objects.all().delete()


def _old_shape(label: dict | None, sentence: tuple[int, int]) -> dict | None:
    """The first claim in the old fields; a content over the whole sentence was no span."""
    if label is None or "claims" not in label:
        return label
    first = label["claims"][0] if label["claims"] else {}
    span = first.get("content_start"), first.get("content_end")
    start = sentence[0]
    if span == sentence:
        span = None, None
    return {
        "is_claim": label["is_claim"],
        "source_id": first.get("source_id"),
        "attribution_type": first.get("attribution_type", ""),
        "status_id": first.get("status_id"),
        "span_start": None if span[0] is None else span[0] - start,
        "span_end": None if span[1] is None else span[1] - start,
        "note": label["note"],
        "evidence_url": label["evidence_url"],
    }


class Migration(migrations.Migration):
    dependencies = [("claims", "0011_claim")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
