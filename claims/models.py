"""The claimdesk data model: articles split into sentences, a source taxonomy, labels."""

from django.conf import settings
from django.core.files.storage import storages
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Length, Lower
from simple_history.models import HistoricalRecords


class Language(models.TextChoices):
    ENGLISH = "en", "English"
    RUSSIAN = "ru", "Russian"
    UKRAINIAN = "uk", "Ukrainian"


class Article(models.Model):
    title = models.CharField(max_length=500)
    # The text exactly as imported; sentence offsets point into it, so it is never altered.
    body = models.TextField()
    published_on = models.DateField(null=True, blank=True)
    outlet = models.CharField(max_length=200, blank=True)
    url = models.URLField(max_length=1000, blank=True)
    # NULL, not "", when absent: the unique constraint must not treat absent ids as equal.
    external_id = models.CharField(max_length=200, null=True, blank=True)  # noqa: DJ001
    checksum = models.CharField(max_length=64, help_text="SHA-256 of the body.")
    # Detected at import (claims.attribution.language); the attribution rules differ by it.
    language = models.CharField(max_length=2, choices=Language.choices, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Who created, changed or deleted it, and when: a deleted article keeps its last version.
    history = HistoricalRecords()

    class Meta:
        ordering = ["-published_on", "-id"]
        permissions = [("export_dataset", "Can export labelled datasets")]
        indexes = [
            # The article list and the export page's "most recent articles" (ORDER BY … LIMIT),
            # and the outlet filter lists (SELECT DISTINCT outlet) read these, not the bodies.
            models.Index(fields=["-published_on", "-id"], name="article_recent_idx"),
            models.Index(fields=["outlet"], name="article_outlet_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["external_id"],
                condition=Q(external_id__isnull=False),
                name="article_external_id_unique",
            ),
            models.UniqueConstraint(fields=["checksum"], name="article_checksum_unique"),
            models.CheckConstraint(
                condition=~Q(external_id=""), name="article_external_id_null_not_blank"
            ),
            models.CheckConstraint(
                condition=Q(checksum__regex=r"^[0-9a-f]{64}$"), name="article_checksum_sha256"
            ),
            models.CheckConstraint(
                condition=Q(language__in=["", *Language.values]), name="article_language_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class SentenceKind(models.TextChoices):
    SENTENCE = "sentence", "Sentence"
    CREDIT = "credit", "Credit / boilerplate"
    DATELINE = "dateline", "Dateline"


class AttributionType(models.TextChoices):
    DIRECT_QUOTE = "direct_quote", "Direct quote"
    PARAPHRASE = "paraphrase", "Paraphrase"
    UNNAMED = "unnamed", "Unnamed / anonymous source"
    NONE = "none", "No attribution"


class SourceKind(models.TextChoices):
    GOVERNMENT = "government", "Ministry / government"
    MILITARY = "military", "Military"
    EMERGENCY = "emergency", "Emergency service"
    HEAD_OF_STATE = "head_of_state", "Head of state or office"
    UNNAMED_OFFICIALS = "unnamed_officials", "Unnamed officials"
    MEDIA = "media", "Media or news agency"
    SOCIAL_MEDIA = "social_media", "Social media"
    INTERNATIONAL = "international", "International organisation or NGO"
    INDIVIDUAL = "individual", "Individual"
    UNKNOWN = "unknown", "Unknown"


def _sentence_span_valid(role: str) -> models.CheckConstraint:
    start, end = f"{role}_start", f"{role}_end"
    inside = {
        f"{start}__isnull": False,
        f"{end}__isnull": False,  # else "end > start" is NULL, which a CHECK lets pass
        f"{end}__gt": F(start),
        f"{end}__lte": F("end") - F("start"),
    }
    return models.CheckConstraint(
        condition=Q(**{f"{start}__isnull": True, f"{end}__isnull": True}) | Q(**inside),
        name=f"sentence_{role}_span_valid",
    )


class SentenceQuerySet(models.QuerySet):
    def annotatable(self):
        return self.filter(kind=Sentence.Kind.SENTENCE)


class Sentence(models.Model):
    Kind = SentenceKind

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="sentences")
    position = models.PositiveIntegerField()
    start = models.PositiveIntegerField(help_text="Offset of the first character in the body.")
    end = models.PositiveIntegerField(help_text="Offset just past the last character.")
    text = models.TextField()
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.SENTENCE)
    # The suggestion computed from attribution cues (claims.attribution), stored so that
    # pages and saves need no per-request analysis; refreshed when the taxonomy changes.
    suggested_source = models.ForeignKey(
        "Source", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    suggested_attribution = models.CharField(
        max_length=16, choices=AttributionType.choices, blank=True
    )
    suggested_status = models.ForeignKey(
        "VerificationStatus", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    suggested_is_claim = models.BooleanField(default=False)
    # The suggested spans, as offsets into the sentence text (not the body): the cue ("said"),
    # the source mention ("the ministry") and the content (what is claimed).
    cue_start = models.PositiveIntegerField(null=True, blank=True)
    cue_end = models.PositiveIntegerField(null=True, blank=True)
    mention_start = models.PositiveIntegerField(null=True, blank=True)
    mention_end = models.PositiveIntegerField(null=True, blank=True)
    content_start = models.PositiveIntegerField(null=True, blank=True)
    content_end = models.PositiveIntegerField(null=True, blank=True)
    # A speaker the taxonomy does not know, as the annotator would propose it (one key).
    suggested_new_source_name = models.CharField(max_length=200, blank=True)
    suggested_new_source_kind = models.CharField(
        max_length=32, choices=SourceKind.choices, blank=True
    )
    suggested_new_source_side = models.CharField(max_length=100, blank=True)

    objects = SentenceQuerySet.as_manager()

    class Meta:
        ordering = ["article", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["article", "position"], name="sentence_position_unique"
            ),
            models.CheckConstraint(
                condition=Q(end__gt=F("start")), name="sentence_end_after_start"
            ),
            # body[start:end] == text implies the text is exactly end - start characters long.
            models.CheckConstraint(
                condition=Q(end=F("start") + Length("text")), name="sentence_text_matches_offsets"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=SentenceKind.values), name="sentence_kind_valid"
            ),
            # Suggested spans: both ends or neither, ordered, inside the sentence's text.
            *(_sentence_span_valid(role) for role in ("cue", "mention", "content")),
            models.CheckConstraint(
                condition=Q(suggested_new_source_kind__in=["", *SourceKind.values]),
                name="sentence_new_source_kind_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.article_id}#{self.position}: {self.text[:60]}"

    @property
    def is_annotatable(self) -> bool:
        return self.kind == self.Kind.SENTENCE

    def suggested_span(self, role: str, *, body: bool = False) -> tuple[int, int] | None:
        """A suggested span ("cue", "mention", "content") as offsets into the sentence text,
        or into the article body with `body`; None when the suggestion has none."""
        start, end = getattr(self, f"{role}_start"), getattr(self, f"{role}_end")
        if start is None or end is None:
            return None
        shift = self.start if body else 0
        return start + shift, end + shift

    def suggested_claim_spans(self) -> dict[str, int | None]:
        """The spans of the claim the suggestion proposes, in body offsets (as claims hold
        them): the suggested content, else the whole sentence; the cue; the source mention."""
        content = self.suggested_span("content", body=True) or (self.start, self.end)
        cue = self.suggested_span("cue", body=True) or (None, None)
        mention = self.suggested_span("mention", body=True) or (None, None)
        return {
            "content_start": content[0],
            "content_end": content[1],
            "cue_start": cue[0],
            "cue_end": cue[1],
            "mention_start": mention[0],
            "mention_end": mention[1],
        }


class Source(models.Model):
    Kind = SourceKind

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        PENDING = "pending", "Pending approval"

    name = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=32, choices=SourceKind.choices, default=SourceKind.UNKNOWN)
    side = models.CharField(
        max_length=100, blank=True, help_text="Side or country, e.g. Russia, Ukraine, Poland."
    )
    description = models.TextField(blank=True)
    # The Wikidata item of the source (Q-id), for linking datasets; NULL when not known, so that
    # the unique constraint does not treat unknown ids as equal.
    wikidata_id = models.CharField(  # noqa: DJ001
        "Wikidata id", max_length=20, null=True, blank=True, help_text="e.g. Q2019016"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged_sources"
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="proposed_sources",
    )
    # Everyone who proposed this name while it was pending (the first proposer included):
    # a pending source is usable by them, and only them, until an editor approves it.
    proposers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="co_proposed_sources"
    )
    history = HistoricalRecords()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(Lower("name"), name="source_name_ci_unique"),
            models.CheckConstraint(condition=~Q(name=""), name="source_name_not_blank"),
            models.CheckConstraint(
                condition=Q(kind__in=SourceKind.values), name="source_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["active", "pending"]), name="source_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(merged_into=F("id")), name="source_not_merged_into_itself"
            ),
            models.UniqueConstraint(fields=["wikidata_id"], name="source_wikidata_id_unique"),
            models.CheckConstraint(
                condition=Q(wikidata_id__isnull=True)
                | Q(wikidata_id__regex=r"^Q[1-9][0-9]{0,18}$"),
                name="source_wikidata_id_is_qid",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE and self.merged_into_id is None


class SourceAlias(models.Model):
    """Another name a text uses for a source ("Russia's Defence Ministry", "Russian MoD")."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="aliases")
    alias = models.CharField(max_length=200)
    history = HistoricalRecords()

    class Meta:
        ordering = ["alias"]
        verbose_name_plural = "source aliases"
        constraints = [
            # One alias names one source, so matching an alias is never ambiguous.
            models.UniqueConstraint(Lower("alias"), name="source_alias_ci_unique"),
            models.CheckConstraint(condition=~Q(alias=""), name="source_alias_not_blank"),
        ]

    def __str__(self) -> str:
        return self.alias


class SourceMerge(models.Model):
    """One merge of a source into another, with what it moved, so that it can be undone exactly.

    `moved` holds the ids the merge re-pointed (see services.source_merge): the annotations,
    claims, gold labels (with the positions of their snapshot's claims), suggestions, aliases
    and earlier merged sources that named the merged source, the alias made of its name, and
    the proposers the target gained. An undo moves back those still pointing at the target.
    """

    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="merges")
    into = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="merges_in")
    # The merged source's status before the merge (a merged source is stored as active).
    source_status = models.CharField(max_length=16, choices=Source.Status.choices)
    moved = models.JSONField(default=dict)
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    merged_at = models.DateTimeField(auto_now_add=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    undone_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-merged_at", "-pk"]
        constraints = [
            # A source is merged once at a time: its open merge is the one an undo reverses.
            models.UniqueConstraint(
                fields=["source"],
                condition=Q(undone_at__isnull=True),
                name="source_merge_one_open",
            ),
            models.CheckConstraint(condition=~Q(source=F("into")), name="source_merge_not_itself"),
        ]

    def __str__(self) -> str:
        return f"{self.source} → {self.into}"

    @property
    def label_count(self) -> int:
        return len(self.moved.get("claims", []))


class VerificationStatus(models.Model):
    code = models.SlugField(max_length=32, unique=True)
    label = models.CharField(max_length=100)
    guideline = models.TextField(blank=True, help_text="When to choose this status.")
    order = models.PositiveSmallIntegerField(default=0)
    key = models.CharField(
        max_length=1, null=True, blank=True, unique=True, help_text="Keyboard key, 1 to 9."
    )
    colour = models.CharField(max_length=7, default="#6b7280", help_text="Hex colour, #rrggbb.")
    is_active = models.BooleanField(default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["order", "code"]
        verbose_name_plural = "verification statuses"
        constraints = [
            models.CheckConstraint(
                condition=Q(key__isnull=True) | Q(key__in=list("123456789")),
                name="status_key_is_digit",
            ),
            models.CheckConstraint(
                condition=Q(colour__regex=r"^#[0-9a-fA-F]{6}$"), name="status_colour_hex"
            ),
        ]

    def __str__(self) -> str:
        return self.label


def label_constraints(prefix: str) -> list[models.CheckConstraint]:
    """What makes a label consistent, for annotations and gold labels alike: a claim has a
    status, a non-claim has no source, status or attribution, and a claim span is ordered."""
    return [
        models.CheckConstraint(
            condition=Q(is_claim=False) | Q(status__isnull=False),
            name=f"{prefix}_claim_has_status",
        ),
        models.CheckConstraint(
            condition=Q(is_claim=True)
            | Q(source__isnull=True, status__isnull=True, attribution_type=""),
            name=f"{prefix}_non_claim_unlabelled",
        ),
        models.CheckConstraint(
            condition=Q(span_start__isnull=True, span_end__isnull=True)
            | Q(span_start__isnull=False, span_end__gt=F("span_start")),
            name=f"{prefix}_span_valid",
        ),
    ]


class Annotation(models.Model):
    """One annotator's label for one sentence."""

    AttributionType = AttributionType

    # PROTECT: deleting an article or a source must never silently delete labels.
    sentence = models.ForeignKey(Sentence, on_delete=models.PROTECT, related_name="annotations")
    annotator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="annotations"
    )
    is_claim = models.BooleanField()
    source = models.ForeignKey(
        Source, null=True, blank=True, on_delete=models.PROTECT, related_name="annotations"
    )
    attribution_type = models.CharField(max_length=16, choices=AttributionType.choices, blank=True)
    status = models.ForeignKey(
        VerificationStatus,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="annotations",
    )
    # The claim's span inside the sentence text, as offsets relative to the sentence.
    span_start = models.PositiveIntegerField(null=True, blank=True)
    span_end = models.PositiveIntegerField(null=True, blank=True)
    # The suggestion the annotator started from, so suggestion accuracy can be measured.
    suggested_source = models.ForeignKey(
        Source, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # … and the new source it suggested when the speaker is not in the taxonomy.
    suggested_new_source_name = models.CharField(max_length=200, blank=True)
    note = models.TextField(blank=True)
    evidence_url = models.URLField(max_length=1000, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["sentence", "annotator"]
        constraints = [
            models.UniqueConstraint(
                fields=["sentence", "annotator"], name="annotation_one_per_annotator"
            ),
            *label_constraints("annotation"),
            models.CheckConstraint(
                condition=Q(attribution_type__in=["", *AttributionType.values]),
                name="annotation_attribution_type_valid",
            ),
            models.CheckConstraint(
                condition=Q(version__gte=1), name="annotation_version_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sentence_id} by {self.annotator_id}"

    @property
    def span_text(self) -> str:
        if self.span_start is None:
            return ""
        return self.sentence.text[self.span_start : self.span_end]


def _span_valid(prefix: str, name: str, *, optional: bool) -> models.CheckConstraint:
    start, end = f"{name}_start", f"{name}_end"
    ordered = Q(**{f"{start}__isnull": False, f"{end}__gt": F(start)})
    if optional:
        ordered |= Q(**{f"{start}__isnull": True, f"{end}__isnull": True})
    return models.CheckConstraint(condition=ordered, name=f"{prefix}_{name}_span_valid")


class Claim(models.Model):
    """One attribution in a label: who (the source mention, resolved to a taxonomy source)
    claims what (the content), by which words (the cue), and how far it is verified.

    A claim belongs to exactly one label: one annotator's annotation of a sentence, or the
    sentence's gold label. Its spans are character offsets into the article body (not the
    sentence), so a content span may run over several sentences (a quote ending in "he said")
    and a source mention may lie in an earlier sentence. The database keeps each span ordered
    and inside the body (a trigger, migration 0013), and a claim's status required.
    """

    AttributionType = AttributionType

    annotation = models.ForeignKey(
        "Annotation", null=True, blank=True, on_delete=models.CASCADE, related_name="claims"
    )
    gold = models.ForeignKey(
        "GoldLabel", null=True, blank=True, on_delete=models.CASCADE, related_name="claims"
    )
    # The claim's place among its label's claims (0, 1, …), the order the annotator made them.
    position = models.PositiveSmallIntegerField(default=0)
    content_start = models.PositiveIntegerField()
    content_end = models.PositiveIntegerField()
    cue_start = models.PositiveIntegerField(null=True, blank=True)
    cue_end = models.PositiveIntegerField(null=True, blank=True)
    mention_start = models.PositiveIntegerField(null=True, blank=True)
    mention_end = models.PositiveIntegerField(null=True, blank=True)
    # NULL: unattributed (the text names nobody).
    source = models.ForeignKey(
        Source, null=True, blank=True, on_delete=models.PROTECT, related_name="claims"
    )
    attribution_type = models.CharField(max_length=16, choices=AttributionType.choices, blank=True)
    status = models.ForeignKey(VerificationStatus, on_delete=models.PROTECT, related_name="claims")
    note = models.TextField(blank=True)
    evidence_url = models.URLField(max_length=1000, blank=True)

    class Meta:
        ordering = ["annotation", "gold", "position"]
        constraints = [
            models.CheckConstraint(
                condition=Q(annotation__isnull=False, gold__isnull=True)
                | Q(annotation__isnull=True, gold__isnull=False),
                name="claim_one_label",
            ),
            models.UniqueConstraint(
                fields=["annotation", "position"],
                condition=Q(annotation__isnull=False),
                name="claim_position_in_annotation",
            ),
            models.UniqueConstraint(
                fields=["gold", "position"],
                condition=Q(gold__isnull=False),
                name="claim_position_in_gold",
            ),
            _span_valid("claim", "content", optional=False),
            _span_valid("claim", "cue", optional=True),
            _span_valid("claim", "mention", optional=True),
            models.CheckConstraint(
                condition=Q(attribution_type__in=["", *AttributionType.values]),
                name="claim_attribution_type_valid",
            ),
        ]

    def __str__(self) -> str:
        owner = (
            f"annotation {self.annotation_id}" if self.annotation_id else f"gold {self.gold_id}"
        )
        return f"claim {self.position} of {owner}"


class Assignment(models.Model):
    """An article in an annotator's queue."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="assignments")
    annotator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assignments"
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["article", "annotator"], name="assignment_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.article_id} → {self.annotator_id}"


class AnnotationEvent(models.Model):
    """One change to a label, with the values before and after: the history, and what undo uses."""

    class Action(models.TextChoices):
        CREATED = "created", "Created"
        UPDATED = "updated", "Updated"
        UNDONE = "undone", "Undone"

    sentence = models.ForeignKey(Sentence, on_delete=models.PROTECT, related_name="events")
    annotator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="annotation_events"
    )
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(max_length=16, choices=Action.choices)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    undone = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["annotator", "-id"], name="event_annotator_recent")]
        constraints = [
            models.CheckConstraint(
                condition=Q(action__in=["created", "updated", "undone"]), name="event_action_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.sentence_id} by {self.actor_id}"


class GoldLabel(models.Model):
    """The editor's final label for a sentence: one per sentence."""

    class Origin(models.TextChoices):
        ACCEPTED = "accepted", "Accepted annotation"
        CORRECTED = "corrected", "Corrected by editor"

    sentence = models.OneToOneField(Sentence, on_delete=models.PROTECT, related_name="gold")
    is_claim = models.BooleanField()
    source = models.ForeignKey(
        Source, null=True, blank=True, on_delete=models.PROTECT, related_name="gold_labels"
    )
    attribution_type = models.CharField(max_length=16, choices=AttributionType.choices, blank=True)
    status = models.ForeignKey(
        VerificationStatus,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="gold_labels",
    )
    span_start = models.PositiveIntegerField(null=True, blank=True)
    span_end = models.PositiveIntegerField(null=True, blank=True)
    origin = models.CharField(max_length=16, choices=Origin.choices)
    accepted_annotation = models.ForeignKey(
        Annotation, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    editor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="gold_labels"
    )
    comment = models.TextField(blank=True)
    # The claims as they were saved with this version (kept by the services with the Claim
    # rows), so that the gold label's history records what each version said.
    claims_snapshot = models.JSONField(default=list, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        constraints = [
            *label_constraints("gold"),
            models.CheckConstraint(
                condition=Q(origin__in=["accepted", "corrected"]), name="gold_origin_valid"
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="gold_version_positive"),
        ]

    def __str__(self) -> str:
        return f"gold {self.sentence_id}"


class SendBack(models.Model):
    """An editor's request that the annotators look at a sentence again, with a comment."""

    sentence = models.ForeignKey(Sentence, on_delete=models.PROTECT, related_name="send_backs")
    editor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    comment = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["sentence"],
                condition=Q(resolved_at__isnull=True),
                name="send_back_one_open_per_sentence",
            ),
            models.CheckConstraint(condition=~Q(comment=""), name="send_back_has_comment"),
        ]

    def __str__(self) -> str:
        return f"send back {self.sentence_id}"


class SendBackResponse(models.Model):
    """One annotator's answer to a send-back: they saved a changed label or confirmed theirs.

    A send-back leaves an annotator's queue when they respond, and is resolved (the queue row
    open again) when every annotator who has a label of the sentence has responded.
    """

    class Kind(models.TextChoices):
        CHANGED = "changed", "Changed the label"
        CONFIRMED = "confirmed", "Confirmed the label"

    send_back = models.ForeignKey(SendBack, on_delete=models.CASCADE, related_name="responses")
    annotator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["send_back", "annotator"], name="send_back_response_one_per_annotator"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["changed", "confirmed"]), name="send_back_response_kind"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.send_back_id} by {self.annotator_id}"


class ReviewItem(models.Model):
    """The review queue's row for an annotated sentence, kept in step by the services.

    Stored (not computed per request) so that the queue orders and pages by an index:
    disagreements first, then single annotations, then unanimous ones, oldest first.
    """

    class Bucket(models.IntegerChoices):
        DISAGREEMENT = 0, "Disagreement"
        SINGLE = 1, "Single annotation"
        UNANIMOUS = 2, "Unanimous"

    class State(models.TextChoices):
        OPEN = "open", "Open"
        REVIEWED = "reviewed", "Reviewed"
        SENT_BACK = "sent_back", "Sent back"

    sentence = models.OneToOneField(
        Sentence, on_delete=models.CASCADE, primary_key=True, related_name="review"
    )
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="+")
    bucket = models.PositiveSmallIntegerField(choices=Bucket.choices)
    annotation_count = models.PositiveIntegerField()
    first_annotated_at = models.DateTimeField()
    state = models.CharField(max_length=16, choices=State.choices, default=State.OPEN)

    class Meta:
        indexes = [
            models.Index(
                fields=["state", "bucket", "first_annotated_at", "sentence"],
                name="review_queue_order",
            ),
            models.Index(
                fields=["article", "state", "bucket", "first_annotated_at", "sentence"],
                name="review_queue_article_order",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(bucket__in=[0, 1, 2]), name="review_bucket_valid"),
            models.CheckConstraint(
                condition=Q(state__in=["open", "reviewed", "sent_back"]),
                name="review_state_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"review {self.sentence_id}"


def job_file_path(job: "Job", filename: str) -> str:
    return f"jobs/{job.pk}/{filename}"


def job_storage():
    """Private storage for job files (settings.STORAGES["jobs"]), never under MEDIA_URL."""
    return storages["jobs"]


class Job(models.Model):
    """Long work run by a worker (django.tasks): an import, an export, a recomputation.

    The row is the user's view of the work: who started it, how far it got, what came of it.
    The task itself only carries the job's id, so that running it again (after a worker
    restart) repeats the same work: imports are idempotent by checksum and external id,
    exports are rewritten whole.
    """

    class Kind(models.TextChoices):
        IMPORT = "import", "Import"
        EXPORT = "export", "Export"
        REFRESH_SUGGESTIONS = "refresh_suggestions", "Refresh suggestions"

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Done"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=32, choices=Kind.choices)
    state = models.CharField(max_length=16, choices=State.choices, default=State.QUEUED)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="jobs",
    )
    # What to do (the form's choices, the uploaded files' names): the task reads only this.
    params = models.JSONField(default=dict, blank=True)
    done = models.PositiveBigIntegerField(default=0)
    total = models.PositiveBigIntegerField(null=True, blank=True)  # NULL: not known yet
    step = models.CharField(max_length=200, blank=True)  # "Parsing articles.csv"
    # The outcome (per-file summary of an import, row count of an export) and why it failed.
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    # An export's file, private: served only to who started the job and to admins.
    file = models.FileField(
        upload_to=job_file_path, storage=job_storage, max_length=300, blank=True
    )
    file_name = models.CharField(max_length=200, blank=True)  # the download's name
    expires_at = models.DateTimeField(null=True, blank=True)
    task_id = models.CharField(max_length=64, blank=True)  # the django.tasks result id
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)  # the last progress report
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["started_by", "-created_at"], name="job_user_recent_idx"),
            models.Index(fields=["state", "heartbeat_at"], name="job_state_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=["queued", "running", "succeeded", "failed"]),
                name="job_state_valid",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["import", "export", "refresh_suggestions"]),
                name="job_kind_valid",
            ),
            models.CheckConstraint(
                condition=Q(total__isnull=True) | Q(done__lte=F("total")),
                name="job_done_within_total",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} job {self.pk} ({self.state})"

    @property
    def finished(self) -> bool:
        return self.state in (self.State.SUCCEEDED, self.State.FAILED)

    @property
    def percent(self) -> int | None:
        if not self.total:
            return 100 if self.state == self.State.SUCCEEDED else None
        return min(100, self.done * 100 // self.total)


class ApiToken(models.Model):
    """A user's key for the REST API. Only its SHA-256 is stored: the key is shown once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)  # "newsroom scraper"
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=12)  # the key's first characters, to recognise it
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(name=""), name="api_token_has_name"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
