"""Reads: queries that pages need, kept out of the views."""

import datetime
from contextlib import nullcontext
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.models import (
    CharField,
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404

from claims import highlight, segmentation
from claims.models import (
    Annotation,
    Article,
    Assignment,
    Claim,
    GoldLabel,
    ReviewItem,
    SendBack,
    SendBackResponse,
    Sentence,
    Source,
    VerificationStatus,
)


def article_list(*, search: str = "") -> QuerySet[Article]:
    articles = Article.objects.annotate(
        sentence_total=Count("sentences", filter=Q(sentences__kind=Sentence.Kind.SENTENCE)),
        credit_total=Count("sentences", filter=Q(sentences__kind=Sentence.Kind.CREDIT)),
    ).only("id", "title", "published_on", "outlet", "url")
    if search:
        articles = articles.filter(Q(title__icontains=search) | Q(outlet__icontains=search))
    return articles.order_by("-published_on", "-id")


@dataclass(frozen=True)
class Paragraph:
    sentences: list[Sentence]


def article_paragraphs(*, article: Article) -> list[Paragraph]:
    """The article's sentences grouped by the paragraph breaks of its body."""
    paragraphs: list[Paragraph] = []
    previous_end = None
    for sentence in article.sentences.order_by("position"):
        gap = article.body[previous_end : sentence.start] if previous_end is not None else "\n"
        if "\n" in gap:
            paragraphs.append(Paragraph(sentences=[]))
        paragraphs[-1].sentences.append(sentence)
        previous_end = sentence.end
    return paragraphs


# --- the annotator's workspace -------------------------------------------------------------


def _done_count(user, article_ref):
    return Subquery(
        Annotation.objects.filter(annotator=user, sentence__article=article_ref)
        .values("annotator")
        .annotate(n=Count("id"))
        .values("n")[:1],
        output_field=IntegerField(),
    )


def _total_count(article_ref):
    return Subquery(
        Sentence.objects.filter(article=article_ref, kind=Sentence.Kind.SENTENCE)
        .values("article")
        .annotate(n=Count("id"))
        .values("n")[:1],
        output_field=IntegerField(),
    )


def annotator_queue(*, user) -> list[Assignment]:
    """The user's assignments with progress, unfinished work first."""
    assignments = list(
        Assignment.objects.filter(annotator=user)
        .select_related("article")
        .annotate(
            done=Coalesce(_done_count(user, OuterRef("article")), 0),
            total=Coalesce(_total_count(OuterRef("article")), 0),
            sent_back=Coalesce(
                Subquery(
                    _awaiting(user)
                    .filter(sentence__article=OuterRef("article"))
                    .values("resolved_at")
                    .annotate(n=Count("id"))
                    .values("n")[:1],
                    output_field=IntegerField(),
                ),
                0,
            ),
        )
        .order_by("created_at", "id")
    )
    return sorted(assignments, key=lambda a: a.done >= a.total and not a.sent_back)


def assignment_for(*, user, article_id: int) -> Assignment:
    """The user's assignment of the article, or 404: annotators see only their own articles."""
    return get_object_or_404(
        Assignment.objects.select_related("article"), article_id=article_id, annotator=user
    )


@dataclass(frozen=True)
class Progress:
    done: int
    total: int

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 100


def progress_of(sentences: list[Sentence]) -> Progress:
    """Progress from the workspace's sentences (each with `.mine`): no query of its own."""
    annotatable = [s for s in sentences if s.is_annotatable]
    return Progress(done=sum(s.mine is not None for s in annotatable), total=len(annotatable))


def progress(*, user, article: Article) -> Progress:
    # distinct: the join to annotations must not count other annotators' labels.
    counts = Sentence.objects.filter(article=article, kind=Sentence.Kind.SENTENCE).aggregate(
        total=Count("id", distinct=True),
        done=Count("annotations", filter=Q(annotations__annotator=user)),
    )
    return Progress(done=counts["done"], total=counts["total"])


def workspace_sentences(*, user, article: Article) -> list[Sentence]:
    """All sentences in order, each with `.mine`: this user's label or None (never others')."""
    mine = Prefetch(
        "annotations",
        queryset=Annotation.objects.filter(annotator=user).prefetch_related(_claims()),
        to_attr="my_annotations",
    )
    sentences = list(
        article.sentences.order_by("position")
        .select_related("suggested_source")
        .prefetch_related(mine)
    )
    send_backs = open_send_backs(user=user, article=article)
    previous_end = None
    for sentence in sentences:
        sentence.mine = sentence.my_annotations[0] if sentence.my_annotations else None
        sentence.send_back = send_backs.get(sentence.pk)
        gap = article.body[previous_end : sentence.start] if previous_end is not None else "\n"
        sentence.new_paragraph = "\n" in gap
        previous_end = sentence.end
    attach_segments(sentences)
    return sentences


def _claims() -> Prefetch:
    """A label's claims in order, with their source and status (`label.claim_list`)."""
    return Prefetch(
        "claims",
        queryset=Claim.objects.select_related("source", "status").order_by("position"),
        to_attr="claim_list",
    )


def claims_of(label) -> list[Claim]:
    """A label's claims in order: as prefetched (`claim_list`), else read."""
    claims = getattr(label, "claim_list", None)
    if claims is None:
        claims = label.claim_list = list(
            label.claims.select_related("source", "status").order_by("position")
        )
    return claims


def attach_segments(sentences: list[Sentence]) -> None:
    """Give each sentence `.segments`: its text cut at the spans of the user's claims (`.mine`)
    of all these sentences that reach into it (a quote over two sentences, a mention in an
    earlier one). A sentence's row then shows the pieces of every marked span it holds."""
    spans = [
        span
        for sentence in sentences
        if sentence.mine is not None
        for claim in claims_of(sentence.mine)
        for span in highlight.claim_spans(claim, owner=sentence.pk)
    ]
    spans.sort()
    for sentence in sentences:
        claims = claims_of(sentence.mine) if sentence.mine is not None else []
        # the statuses of its claims, each once, for the row's chip
        sentence.claim_statuses = list({c.status_id: c.status for c in claims}.values())
        inside = [s for s in spans if s.start < sentence.end and s.end > sentence.start]
        sentence.segments = highlight.segments(sentence.text, sentence.start, inside)


# No gold label here: nothing the annotator is shown may depend on it (blind annotation).
_EDIT_RELATED = ("suggested_source", "suggested_status", "review")


def sentence_for_edit(*, user, article: Article, sentence_id: int) -> Sentence:
    """An annotatable sentence of the article with `.mine` and `.send_back`, or 404."""
    sentence = get_object_or_404(
        Sentence.objects.annotatable().select_related(*_EDIT_RELATED),
        pk=sentence_id,
        article=article,
    )
    return with_my_label(sentence, user=user)


def assigned_sentence(*, user, article_id: int, sentence_id: int) -> Sentence:
    """An annotatable sentence of an article assigned to the user (with `.article`), or 404:
    the assignment check and the sentence in one query, for the save."""
    sentence = get_object_or_404(
        Sentence.objects.annotatable().select_related("article", *_EDIT_RELATED),
        pk=sentence_id,
        article_id=article_id,
        article__assignments__annotator=user,
    )
    sentence.mine = sentence.send_back = None  # set by with_my_label when needed
    return sentence


def with_my_label(sentence: Sentence, *, user) -> Sentence:
    """Set `.mine` (the user's label, with source and status) and `.send_back` (if open)."""
    sentence.mine = (
        Annotation.objects.filter(sentence=sentence, annotator=user)
        .prefetch_related(_claims())
        .first()
    )
    review = getattr(sentence, "review", None)
    sentence.send_back = (
        _awaiting(user).filter(sentence=sentence).first()
        if sentence.mine and review and review.state == ReviewItem.State.SENT_BACK
        else None
    )
    return sentence


def next_for_edit(*, user, article: Article, after: Sentence) -> Sentence | None:
    """The sentence to edit after `after`, loaded as `sentence_for_edit` loads it: the next one
    the user has not labelled, else simply the next one; None after the last sentence.

    One query in the usual case: the next unlabelled sentence (the scan stops there).
    """
    later = (
        Sentence.objects.annotatable()
        .filter(article=article, position__gt=after.position)
        .select_related(*_EDIT_RELATED)
        .order_by("position")
    )
    labelled = Annotation.objects.filter(sentence=OuterRef("pk"), annotator=user)
    sentence = later.filter(~Exists(labelled)).first()
    if sentence is not None:  # unlabelled by this user: nothing more to read
        sentence.mine = sentence.send_back = None
        return sentence
    sentence = later.first()
    return with_my_label(sentence, user=user) if sentence is not None else None


def next_sentence(*, sentences: list[Sentence], after: Sentence | None) -> Sentence | None:
    """The next annotatable sentence after `after` that is still unlabelled, else the next one."""
    annotatable = [s for s in sentences if s.is_annotatable]
    if after is None:
        return next(
            (s for s in annotatable if s.mine is None), annotatable[0] if annotatable else None
        )
    later = [s for s in annotatable if s.position > after.position]
    return next((s for s in later if s.mine is None), later[0] if later else None)


def statuses() -> list[VerificationStatus]:
    return list(VerificationStatus.objects.filter(is_active=True).order_by("order", "code"))


def _usable_by(user) -> Q:
    """Active sources, and the pending ones the user proposed (or proposed again)."""
    if user is None:
        return Q(status=Source.Status.ACTIVE)
    return Q(status=Source.Status.ACTIVE) | Q(pk__in=user.co_proposed_sources.values("pk"))


def source_search(*, query: str, user, limit: int = 8) -> list[Source]:
    """Active sources (and the user's own proposals) whose name or an alias contains the query."""
    query = " ".join(query.split())
    usable = Source.objects.filter(merged_into=None).filter(_usable_by(user))
    if query:
        usable = usable.filter(Q(name__icontains=query) | Q(aliases__alias__icontains=query))
    return list(usable.distinct().prefetch_related("aliases").order_by("name")[:limit])


def resolve_source_name(name: str, *, user=None) -> Source | None:
    """The source a typed name or alias means: active ones, and the user's own proposals."""
    return _source_named(name, Source.objects.filter(_usable_by(user)))


def source_named(name: str) -> Source | None:
    """The source a name or alias means, whatever its status (proposals are refused by it)."""
    return _source_named(name, Source.objects.all())


def source_usable(source: Source, *, user) -> bool:
    return Source.objects.filter(_usable_by(user), pk=source.pk).exists()


def _source_named(name: str, candidates: QuerySet[Source]) -> Source | None:
    name = " ".join(name.split())
    source = candidates.filter(name__iexact=name).first() or (
        candidates.filter(aliases__alias__iexact=name).first()
    )
    seen = set()
    while source is not None and source.merged_into_id is not None and source.pk not in seen:
        seen.add(source.pk)  # a loop of merges (never made by source_merge) must not hang us
        source = source.merged_into
    return source


def articles_for_assignment() -> QuerySet[Article]:
    """Articles with how many annotators have them, the least-covered first."""
    return Article.objects.annotate(assigned=Count("assignments")).order_by(
        "assigned", "-published_on", "-id"
    )


# --- review queue (editors) ----------------------------------------------------------------

REVIEW_PAGE_SIZE = 25


@dataclass(frozen=True)
class ReviewFilters:
    """The allow-listed filters of the review queue (see forms.ReviewFilterForm)."""

    state: str = "open"  # open | sent_back | reviewed | all
    article: int | None = None
    outlet: str = ""
    source: int | None = None
    status: str = ""
    annotator: int | None = None
    q: str = ""


def _filtered_review_items(filters: ReviewFilters, *, with_state: bool = True):
    items = ReviewItem.objects.all()
    if with_state and filters.state != "all":
        items = items.filter(state=filters.state)
    if filters.article:
        items = items.filter(article_id=filters.article)
    if filters.outlet:
        items = items.filter(article__outlet=filters.outlet)
    if filters.q:
        items = items.filter(sentence__text__icontains=filters.q)
    labels = Annotation.objects.filter(sentence_id=OuterRef("sentence_id"))
    if filters.source:
        items = items.filter(
            Exists(labels.filter(source_id=filters.source))
            | Exists(
                GoldLabel.objects.filter(
                    sentence_id=OuterRef("sentence_id"), source_id=filters.source
                )
            )
        )
    if filters.status:
        items = items.filter(Exists(labels.filter(status__code=filters.status)))
    if filters.annotator:
        items = items.filter(Exists(labels.filter(annotator_id=filters.annotator)))
    return items


def review_state_counts(*, filters: ReviewFilters) -> dict[str, int]:
    counts = dict.fromkeys(ReviewItem.State.values, 0)
    rows = (
        _filtered_review_items(filters, with_state=False).values("state").annotate(n=Count("pk"))
    )
    for row in rows:
        counts[row["state"]] = row["n"]
    counts["all"] = sum(counts.values())
    return counts


def encode_cursor(item: ReviewItem) -> str:
    return f"{item.bucket}_{item.first_annotated_at.timestamp():.6f}_{item.sentence_id}"


def decode_cursor(cursor: str) -> tuple[int, datetime.datetime, int] | None:
    try:
        bucket, stamp, sentence_id = cursor.split("_")
        moment = datetime.datetime.fromtimestamp(float(stamp), tz=datetime.UTC)
        if not (0 <= int(bucket) <= 2 and 0 <= int(sentence_id) < 2**63):
            return None
        return int(bucket), moment, int(sentence_id)
    except (ValueError, OverflowError):
        return None


def review_queue(*, filters: ReviewFilters, after: str = "", size: int = REVIEW_PAGE_SIZE):
    """One page of the queue in (bucket, first annotated, sentence) order, from a keyset cursor.

    Returns (items, next_cursor). Each item carries its sentence with the article, the
    suggestion, the gold label and every annotator's label (editors see names).
    """
    items = _filtered_review_items(filters)
    position = decode_cursor(after) if after else None
    if position:
        bucket, moment, sentence_id = position
        items = items.filter(
            Q(bucket__gt=bucket)
            | Q(bucket=bucket, first_annotated_at__gt=moment)
            | Q(bucket=bucket, first_annotated_at=moment, sentence_id__gt=sentence_id)
        )
    labels = Prefetch(
        "sentence__annotations",
        queryset=Annotation.objects.select_related("annotator", "source", "status").order_by(
            "annotator__username"
        ),
    )
    page = list(
        items.order_by("bucket", "first_annotated_at", "sentence_id")
        .select_related(
            "sentence__article",
            "sentence__suggested_source",
            "sentence__gold__source",
            "sentence__gold__status",
        )
        .prefetch_related(labels)[: size + 1]
    )
    next_cursor = encode_cursor(page[size - 1]) if len(page) > size else ""
    return page[:size], next_cursor


def paragraph_of(sentence: Sentence) -> tuple[str, str, str]:
    """The paragraph around a sentence, split as (before, sentence, after)."""
    body = sentence.article.body
    start = body.rfind("\n", 0, sentence.start) + 1
    end = body.find("\n", sentence.end)
    end = len(body) if end < 0 else end
    _, header_end = segmentation.parse_header(body) if start == 0 else (None, 0)
    start = max(start, header_end)
    return body[start : sentence.start], sentence.text, body[sentence.end : end]


def review_detail(*, sentence_id: int) -> Sentence:
    """A sentence for adjudication: article, suggestion, gold label, every annotator's label."""
    sentence = get_object_or_404(
        Sentence.objects.annotatable().select_related(
            "article",
            "suggested_source",
            "suggested_status",
            "review",
            "gold__source",
            "gold__status",
            "gold__editor",
        ),
        pk=sentence_id,
    )
    sentence.labels = list(
        sentence.annotations.select_related("annotator", "source", "status").order_by(
            "annotator__username"
        )
    )
    sentence.paragraph = paragraph_of(sentence)
    return sentence


def review_neighbour(*, sentence: Sentence, filters: ReviewFilters) -> int | None:
    """The next sentence in the queue after this one (for "next" after a decision)."""
    review = getattr(sentence, "review", None)
    if review is None:
        return None
    items, _ = review_queue(filters=filters, after=encode_cursor(review), size=1)
    return items[0].sentence_id if items else None


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime.datetime
    who: str
    what: str
    detail: str


def sentence_history(*, sentence: Sentence) -> list[HistoryEntry]:
    """Every label change on the sentence, annotators' and editors', newest first."""
    sources = dict(Source.objects.values_list("id", "name"))
    statuses_by_id = dict(VerificationStatus.objects.values_list("id", "label"))

    def describe_claim(claim: dict) -> str:
        parts = [statuses_by_id.get(claim.get("status_id"), "?")]
        if claim.get("source_id"):
            parts.append(sources.get(claim["source_id"], "?"))
        if claim.get("attribution_type"):
            parts.append(claim["attribution_type"].replace("_", " "))
        return ", ".join(parts)

    def describe(label: dict | None) -> str:
        if not label:
            return "no label"
        if not label.get("is_claim"):
            return "not a claim"
        claims = label.get("claims") or []
        if len(claims) == 1:
            return "claim: " + describe_claim(claims[0])
        return f"{len(claims)} claims: " + "; ".join(map(describe_claim, claims))

    entries = [
        HistoryEntry(
            at=event.created_at,
            who=event.actor.username,
            what=f"annotation {event.get_action_display().lower()}",
            detail=f"{describe(event.before)} → {describe(event.after)}",
        )
        for event in sentence.events.select_related("actor")
    ]
    for record in GoldLabel.history.filter(sentence_id=sentence.pk).select_related("history_user"):
        label = {"is_claim": record.is_claim, "claims": record.claims_snapshot}
        entries.append(
            HistoryEntry(
                at=record.history_date,
                who=record.history_user.username if record.history_user else "—",
                what=f"gold label {record.get_history_type_display().lower()} ({record.origin})",
                detail=describe(label) + (f" — “{record.comment}”" if record.comment else ""),
            )
        )
    responses = SendBackResponse.objects.select_related("annotator").order_by("created_at", "id")
    for send_back in sentence.send_backs.select_related("editor").prefetch_related(
        Prefetch("responses", queryset=responses)
    ):
        answered = ", ".join(
            f"{r.annotator.username} {r.get_kind_display().lower()}"
            for r in send_back.responses.all()
        )
        entries.append(
            HistoryEntry(
                at=send_back.created_at,
                who=send_back.editor.username,
                what="sent back",
                detail=f"“{send_back.comment}”"
                + (" (resolved)" if send_back.resolved_at else "")
                + (f"; answered: {answered}" if answered else ""),
            )
        )
    return sorted(entries, key=lambda e: e.at, reverse=True)


def _awaiting(user) -> QuerySet[SendBack]:
    """Open send-backs that await this annotator's answer: of sentences they labelled, not yet
    answered by them (each annotator answers for themself; the others' answers are not shown)."""
    return SendBack.objects.filter(
        resolved_at=None, sentence__annotations__annotator=user
    ).exclude(responses__annotator=user)


def open_send_backs(*, user, article: Article) -> dict[int, SendBack]:
    """Open send-backs on the article's sentences that await this annotator's answer."""
    return {sb.sentence_id: sb for sb in _awaiting(user).filter(sentence__article=article)}


def unanimous_open_items(*, filters: ReviewFilters):
    """The open unanimous queue rows under the filters: what bulk-accept would take."""
    return _filtered_review_items(ReviewFilters(**{**filters.__dict__, "state": "open"})).filter(
        bucket=ReviewItem.Bucket.UNANIMOUS
    )


def annotators():
    return (
        User.objects.filter(groups__name="annotator").order_by("username").only("id", "username")
    )


# --- dataset export ------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportFilters:
    """The allow-listed export filters (see forms.ExportForm); empty means "any"."""

    level: str = "gold"  # gold | annotations
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None
    outlets: tuple[str, ...] = ()
    articles: tuple[int, ...] = ()
    sources: tuple[int, ...] = ()
    source_kinds: tuple[str, ...] = ()
    sides: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    claims_only: bool = False
    reviewed_only: bool = False

    def as_dict(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in self.__dict__.items()}


# Columns in claims.exporting.COLUMNS order, as ORM paths for each level. None marks a column
# filled in Python (pseudonyms, span text) or always empty at that level.
_GOLD_PATHS = (
    "article_id",
    "article__external_id",
    "article__title",
    "article__outlet",
    "article__url",
    "article__published_on",
    "id",
    "position",
    "start",
    "end",
    "text",
    "gold__is_claim",
    "gold__span_start",
    "gold__span_end",
    None,
    "gold__source__name",
    "gold__source__kind",
    "gold__source__side",
    "gold__attribution_type",
    "gold__status__code",
    None,
    None,
    "gold__origin",
    "gold__editor_id",
    "gold__updated_at",
)
_ANNOTATION_PATHS = (
    "sentence__article_id",
    "sentence__article__external_id",
    "sentence__article__title",
    "sentence__article__outlet",
    "sentence__article__url",
    "sentence__article__published_on",
    "sentence_id",
    "sentence__position",
    "sentence__start",
    "sentence__end",
    "sentence__text",
    "is_claim",
    "span_start",
    "span_end",
    None,
    "source__name",
    "source__kind",
    "source__side",
    "attribution_type",
    "status__code",
    "annotator_id",
    "updated_at",
    None,
    None,
    None,
)


def export_queryset(filters: ExportFilters):
    gold = filters.level == "gold"
    if gold:
        rows = Sentence.objects.annotatable()
        article, label = "article__", "gold__"
        order = ("article_id", "position")
    else:
        rows = Annotation.objects.all()
        article, label = "sentence__article__", ""
        order = ("sentence__article_id", "sentence__position", "annotator_id")
    conditions = {
        f"{article}published_on__gte": filters.date_from,
        f"{article}published_on__lte": filters.date_to,
        f"{article}outlet__in": filters.outlets,
        f"{article}id__in": filters.articles,
        f"{label}source_id__in": filters.sources,
        f"{label}source__kind__in": filters.source_kinds,
        f"{label}source__side__in": filters.sides,
        f"{label}status__code__in": filters.statuses,
    }
    rows = rows.filter(**{k: v for k, v in conditions.items() if v not in (None, ())})
    if filters.claims_only:
        rows = rows.filter(**{f"{label}is_claim": True})
    if filters.reviewed_only:
        rows = (
            rows.filter(gold__isnull=False) if gold else rows.filter(sentence__gold__isnull=False)
        )
    return rows.order_by(*order), (_GOLD_PATHS if gold else _ANNOTATION_PATHS)


def export_count(*, filters: ExportFilters) -> int:
    rows, _ = export_queryset(filters)
    return rows.count()


def export_rows(*, filters: ExportFilters, pseudonymize, chunk_size: int = 5000):
    """Rows in claims.exporting.COLUMNS order, streamed from a chunked cursor.

    The database returns the columns already in order (empty ones as NULL), so each row only
    gets its pseudonyms and claim-span text in Python.
    """
    rows, paths = export_queryset(filters)
    columns = [Value(None, output_field=CharField()) if p is None else p for p in paths]
    # On PostgreSQL read inside one transaction: the server-side cursor then needs no WITH
    # HOLD, so the first rows arrive at once (not after the whole result is materialised),
    # and the export is one consistent snapshot. SQLite would block writers meanwhile.
    snapshot = transaction.atomic() if connection.vendor == "postgresql" else nullcontext()
    with snapshot:
        yield from _export_values(
            rows.values_list(*columns).iterator(chunk_size=chunk_size), pseudonymize
        )


def _export_values(values_iterator, pseudonymize):
    for values in values_iterator:
        row = list(values)
        if row[20] is not None:
            row[20] = pseudonymize(row[20])  # annotator
        if row[23] is not None:
            row[23] = pseudonymize(row[23])  # reviewed_by
        if row[12] is not None:
            row[14] = row[10][row[12] : row[13]]  # the claim span's text
        yield row
