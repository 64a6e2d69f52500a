"""Reads: queries that pages need, kept out of the views."""

import bisect
import datetime
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import connection, connections, transaction
from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    F,
    Func,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    StringAgg,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, Lower, Substr
from django.db.models.sql.constants import MULTI
from django.shortcuts import get_object_or_404
from django.utils.safestring import mark_safe

from claims import highlight, jobs, segmentation, spans
from claims.models import (
    Annotation,
    Article,
    Assignment,
    Claim,
    GoldLabel,
    Job,
    ReviewItem,
    SendBack,
    SendBackResponse,
    Sentence,
    Source,
    SourceAlias,
    SourceMerge,
    VerificationStatus,
)
from claims.roles import EDITOR, has_role


def article_list(*, search: str = "") -> QuerySet[Article]:
    articles = Article.objects.annotate(
        sentence_total=Count("sentences", filter=Q(sentences__kind=Sentence.Kind.SENTENCE)),
        # photo credits and agency datelines: shown, never annotated
        other_total=Count("sentences", filter=~Q(sentences__kind=Sentence.Kind.SENTENCE)),
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
    # From the article's sentences, each looked up in the (sentence, annotator) index of the
    # labels. Filtered on the annotator, the database read all of the user's labels for every
    # assignment (SQLite always did): work growing with labels times assignments.
    labelled = Annotation.objects.filter(sentence=OuterRef("pk"), annotator=user)
    return Subquery(
        Sentence.objects.filter(Exists(labelled), article=article_ref)
        .values("article")
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
    # The current sentence's suggested claim shows its suggested status: joined, not read later.
    sentences = list(
        article.sentences.order_by("position")
        .select_related("suggested_source", "suggested_status")
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
    """Give each sentence `.marked`: its text as HTML with the spans of the user's claims
    (`.mine`) of all these sentences that reach into it (a quote over two sentences, a mention
    in an earlier one) as marks. A sentence's row then shows every marked span it holds."""
    starts = [sentence.start for sentence in sentences]
    reaching: list[list] = [[] for _ in sentences]
    for sentence in sentences:
        if sentence.mine is None:
            continue
        for claim in claims_of(sentence.mine):
            for span in highlight.claim_spans(claim, owner=sentence.pk):
                # the sentences the span touches: from the one it starts in, onwards
                index = max(bisect.bisect_right(starts, span.start) - 1, 0)
                while index < len(sentences) and sentences[index].start < span.end:
                    if sentences[index].end > span.start:
                        reaching[index].append(span)
                    index += 1
    for sentence, inside in zip(sentences, reaching, strict=True):
        claims = claims_of(sentence.mine) if sentence.mine is not None else []
        # the statuses of its claims, each once, for the row's chip
        sentence.claim_statuses = list({c.status_id: c.status for c in claims}.values())
        segments = highlight.segments(sentence.text, sentence.start, sorted(inside))
        sentence.marked = mark_safe(highlight.marked_html(segments))  # the pieces are escaped


def with_suggestion(sentence: Sentence, *, user) -> Sentence:
    """Set `.suggested_marked`: the text with the suggested content, cue and source mention
    marked; and `.suggested_new_source`: for a suggested new source, the source of that name
    the user can already use (they proposed it, or it was approved since), else None."""
    marks = [(*span, role) for role in highlight.ROLES if (span := sentence.suggested_span(role))]
    sentence.suggested_marked = mark_safe(highlight.suggested_html(sentence.text, marks))
    name = sentence.suggested_new_source_name
    sentence.suggested_new_source = (
        resolve_source_name(name, user=user, article_id=sentence.article_id)
        if name and sentence.suggested_source_id is None
        else None
    )
    return sentence


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


def _usable_by(user, article_id: int | None = None) -> Q:
    """Active sources, the pending ones the user proposed (or proposed again) and, on an
    article, the pending ones proposed by anyone assigned to it: a proposal is seen by the
    others working the same article, so that nobody proposes it again under another spelling.
    The caller has checked that the user works on `article_id`."""
    if user is None:
        return Q(status=Source.Status.ACTIVE)
    usable = Q(status=Source.Status.ACTIVE) | Q(pk__in=user.co_proposed_sources.values("pk"))
    if article_id is not None:
        proposed_here = Source.proposers.through.objects.filter(
            user__assignments__article_id=article_id
        ).values("source_id")
        usable |= Q(status=Source.Status.PENDING, pk__in=proposed_here)
    return usable


def source_search(
    *, query: str, user, article_id: int | None = None, limit: int = 8
) -> list[Source]:
    """Active sources (and the pending ones the user may use, see `_usable_by`) whose name or
    an alias contains the query."""
    query = " ".join(query.split())
    usable = Source.objects.filter(merged_into=None).filter(_usable_by(user, article_id))
    if query:
        usable = usable.filter(Q(name__icontains=query) | Q(aliases__alias__icontains=query))
    return list(usable.distinct().prefetch_related("aliases").order_by("name")[:limit])


def working_on(*, user, article_id) -> int | None:
    """The article id, if `article_id` (as sent) names an article assigned to the user."""
    if not str(article_id).isdigit() or not 0 < int(article_id) < 2**63:
        return None
    assigned = Assignment.objects.filter(article_id=int(article_id), annotator=user).exists()
    return int(article_id) if assigned else None


def resolve_source_name(name: str, *, user=None, article_id: int | None = None) -> Source | None:
    """The source a typed name or alias means: active ones, and the pending ones the user may
    use (their own; on an article, those proposed by the others working on it)."""
    return _source_named(name, Source.objects.filter(_usable_by(user, article_id)))


def source_named(name: str) -> Source | None:
    """The source a name or alias means, whatever its status (proposals are refused by it)."""
    return _source_named(name, Source.objects.all())


def source_usable(source: Source, *, user) -> bool:
    return Source.objects.filter(_usable_by(user), pk=source.pk).exists()


def _source_named(name: str, candidates: QuerySet[Source]) -> Source | None:
    name = " ".join(name.split())
    # One query: the source of that name, else the one with that alias (both are unique).
    source = (
        candidates.filter(Q(name__iexact=name) | Q(aliases__alias__iexact=name))
        .annotate(by_alias=Case(When(name__iexact=name, then=Value(0)), default=Value(1)))
        .order_by("by_alias")
        .first()
    )
    seen = set()
    while source is not None and source.merged_into_id is not None and source.pk not in seen:
        seen.add(source.pk)  # a loop of merges (never made by source_merge) must not hang us
        source = source.merged_into
    return source


# --- the sources page (editors) ------------------------------------------------------------


def _count_of(queryset, field: str) -> Subquery:
    """The number of distinct `field` values among the rows of `queryset` naming the source."""
    return Coalesce(
        Subquery(
            queryset.filter(source=OuterRef("pk"))
            .values("source")
            .annotate(n=Count(field, distinct=True))
            .values("n")[:1],
            output_field=IntegerField(),
        ),
        0,
    )


def _with_usage(sources: QuerySet[Source]) -> QuerySet[Source]:
    """Annotate `label_count` (annotators' labels), `claim_count` (their claims), `gold_count`
    (gold claims) and `article_count` (articles with an annotator's claim naming it)."""
    claims = Claim.objects.filter(annotation__isnull=False)
    return sources.annotate(
        label_count=_count_of(claims, "annotation"),
        claim_count=_count_of(claims, "pk"),
        article_count=_count_of(claims, "annotation__sentence__article"),
        gold_count=_count_of(Claim.objects.filter(gold__isnull=False), "pk"),
    )


def taxonomy_sources(*, query: str = "") -> QuerySet[Source]:
    """The taxonomy as editors work it: sources not merged away, the pending proposals first
    (oldest first: they have waited longest), then the rest by name; with their usage, aliases
    and proposers. `query` matches a name or an alias, in any case."""
    query = " ".join(query.split())
    sources = Source.objects.filter(merged_into=None)
    if query:
        named = SourceAlias.objects.filter(source=OuterRef("pk"), alias__icontains=query)
        sources = sources.filter(Q(name__icontains=query) | Exists(named))
    pending_first = Case(When(status=Source.Status.PENDING, then=Value(0)), default=Value(1))
    return (
        _with_usage(sources)
        .select_related("proposed_by")
        .prefetch_related("aliases", "proposers")
        .order_by(
            pending_first,
            Case(When(status=Source.Status.PENDING, then=F("created_at"))),
            Lower("name"),
            "pk",
        )
    )


def taxonomy_source(*, source_id: int) -> Source:
    """One source with its usage, aliases and proposers, or 404."""
    return get_object_or_404(
        _with_usage(Source.objects.all())
        .select_related("proposed_by", "merged_into")
        .prefetch_related("aliases", "proposers"),
        pk=source_id,
    )


def source_articles(*, source: Source, limit: int = 20) -> list[Article]:
    """The articles where annotators' claims name the source, most claims first."""
    return list(
        Article.objects.filter(sentences__annotations__claims__source=source)
        .annotate(claim_count=Count("sentences__annotations__claims", distinct=True))
        .only("id", "title")
        .order_by("-claim_count", "pk")[:limit]
    )


@dataclass(frozen=True)
class MergePreview:
    """What merging `source` into `into` would move, as the confirm page states it."""

    source: Source
    into: Source
    labels: int
    claims: int
    gold_claims: int
    suggestions: int
    aliases_added: list[str]


def source_merge_preview(*, source: Source, into: Source) -> MergePreview:
    claims = Claim.objects.filter(source=source)
    names = [source.name, *source.aliases.values_list("alias", flat=True)]
    kept = SourceAlias.objects.filter(alias__iexact=source.name).exclude(source=source).exists()
    return MergePreview(
        source=source,
        into=into,
        labels=Annotation.objects.filter(claims__source=source).distinct().count(),
        claims=claims.filter(annotation__isnull=False).count(),
        gold_claims=claims.filter(gold__isnull=False).count(),
        suggestions=Sentence.objects.filter(suggested_source=source).count(),
        aliases_added=names[1:] if kept else names,
    )


def source_merges(*, source: Source) -> list[SourceMerge]:
    """The merges of and into the source, newest first, with who merged and who undid."""
    return list(
        SourceMerge.objects.filter(Q(source=source) | Q(into=source)).select_related(
            "source", "into", "merged_by", "undone_by"
        )
    )


def source_history(*, source: Source, limit: int = 50) -> list:
    """The history records of the source and of its aliases (also those since removed or
    moved away), newest first: when, who, what (+ added, ~ changed, - removed)."""
    records = list(source.history.select_related("history_user")[:limit])
    records += SourceAlias.history.filter(source_id=source.pk).select_related("history_user")[
        :limit
    ]
    records.sort(key=lambda r: (r.history_date, r.history_id), reverse=True)
    return records[:limit]


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
    """A sentence for adjudication: article, suggestion, gold label, every annotator's label,
    each with its claims (`.claim_list`), and `.overlay`: the labels' spans over the text."""
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
        sentence.annotations.select_related("annotator", "source", "status")
        .prefetch_related(_claims())
        .order_by("annotator__username")
    )
    gold = getattr(sentence, "gold", None)
    if gold is not None:
        gold.claim_list = list(gold.claims.select_related("source", "status").order_by("position"))
    sentence.paragraph = paragraph_of(sentence)
    sentence.overlay = review_overlay(sentence, gold)
    sentence.neighbours = neighbours_of(sentence)
    return sentence


def neighbours_of(sentence: Sentence) -> tuple[Sentence | None, Sentence | None]:
    """The annotatable sentences before and after this one in its article (or None): the
    correction form's word cursor reaches into them, for a quote that runs over a sentence
    boundary and a source mention in the sentence before."""
    siblings = Sentence.objects.annotatable().filter(article_id=sentence.article_id)
    fields = ("id", "position", "start", "end", "text")
    before = siblings.filter(position__lt=sentence.position).order_by("-position").only(*fields)
    after = siblings.filter(position__gt=sentence.position).order_by("position").only(*fields)
    return before.first(), after.first()


@dataclass(frozen=True)
class OverlayClaim:
    claim: Claim
    verdict: str  # "agrees", "differs", "alone" (claims.spans.claim_verdicts); "" for gold
    content: str
    cue: str
    mention: str


@dataclass(frozen=True)
class OverlayRow:
    who: str
    label: object  # the Annotation or the GoldLabel
    segments: list
    claims: list[OverlayClaim]


def review_overlay(sentence: Sentence, gold: GoldLabel | None) -> list[OverlayRow]:
    """One row per annotator (and the gold label last): the text from the earliest to the
    latest span of any label (at least the sentence), cut at every span edge, and the label's
    claims with their texts and how they compare with the other annotators' claims."""
    body = sentence.article.body
    owners = [(label.annotator.username, label) for label in sentence.labels]
    if gold is not None:
        owners.append(("gold", gold))
    edges = [
        offset
        for _, label in owners
        for claim in label.claim_list
        for role in highlight.ROLES
        for offset in (getattr(claim, f"{role}_start"), getattr(claim, f"{role}_end"))
        if offset is not None
    ]
    start = min([sentence.start, *edges])
    end = max([sentence.end, *edges])
    verdicts = spans.claim_verdicts(
        [[spans.ClaimSpans.from_claim(c) for c in label.claim_list] for label in sentence.labels]
    )
    rows = []
    for index, (who, label) in enumerate(owners):
        marks = [
            highlight.Span(
                getattr(claim, f"{role}_start"), getattr(claim, f"{role}_end"), role, position
            )
            for position, claim in enumerate(label.claim_list, start=1)
            for role in highlight.ROLES
            if getattr(claim, f"{role}_start") is not None
        ]
        claims = [
            OverlayClaim(
                claim=claim,
                verdict=verdicts[index][position] if index < len(verdicts) else "",
                **{
                    role: body[getattr(claim, f"{role}_start") : getattr(claim, f"{role}_end")]
                    if getattr(claim, f"{role}_start") is not None
                    else ""
                    for role in highlight.ROLES
                },
            )
            for position, claim in enumerate(label.claim_list)
        ]
        rows.append(
            OverlayRow(who, label, highlight.segments(body[start:end], start, marks), claims)
        )
    return rows


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


@dataclass(frozen=True)
class _Paths:
    """Where a row's parts are, from the export queryset's model, at one level."""

    article: str  # prefix of the article's fields
    sentence: str  # prefix of the labelled sentence's fields
    label: str  # prefix of the label's fields (gold label or annotation)
    claim: str  # prefix of the claim's fields (a LEFT JOIN: NULL for a label without claims)


_GOLD = _Paths(article="article__", sentence="", label="gold__", claim="gold__claims__")
_ANNOTATIONS = _Paths(
    article="sentence__article__", sentence="sentence__", label="", claim="claims__"
)


def _span_text(paths: _Paths, name: str):
    """body[start:end] of one of the claim's spans, cut by the database (NULL: no span), so
    that no article body crosses the wire once per row. A span inside the labelled sentence
    (nearly all) is cut from the sentence's text: SUBSTRING walks the characters from the
    start of its text, and a body is a hundred times longer than a sentence."""
    start, end = F(f"{paths.claim}{name}_start"), F(f"{paths.claim}{name}_end")
    sentence_start = F(f"{paths.sentence}start")
    inside = Q(
        **{
            f"{paths.claim}{name}_start__gte": sentence_start,
            f"{paths.claim}{name}_end__lte": F(f"{paths.sentence}end"),
        }
    )
    return Case(
        When(
            inside, then=Substr(f"{paths.sentence}text", start - sentence_start + 1, end - start)
        ),
        default=Substr(f"{paths.article}body", start + 1, end - start),
        output_field=CharField(),
    )


class _IsoDate(Func):
    """A date as ISO 8601 text (``2024-03-02``), formatted by the database: the text
    claims.exporting writes for a date, without a date object per row in Python."""

    output_field = CharField()

    def as_sqlite(self, compiler, connection, **extra):
        # SQLite keeps a date as this very text; the CAST only hides the column's declared
        # type, so that the driver passes the text through instead of parsing it.
        return self.as_sql(compiler, connection, template="CAST(%(expressions)s AS TEXT)")

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="to_char(%(expressions)s, 'YYYY-MM-DD')")

    def as_sql(self, compiler, connection, **extra):
        if "template" not in extra:  # another database: the date itself, formatted in Python
            return compiler.compile(self.source_expressions[0])
        return super().as_sql(compiler, connection, **extra)


class _IsoDateTime(_IsoDate):
    """A timestamp as ISO 8601 UTC text to the second (``2024-03-05T09:14:02Z``, fractions
    cut, not rounded), formatted by the database: exactly exporting.format_datetime."""

    def as_sqlite(self, compiler, connection, **extra):
        # Django stores a datetime as UTC text "YYYY-MM-DD HH:MM:SS[.ffffff]".
        template = "substr(%(expressions)s, 1, 10) || 'T' || substr(%(expressions)s, 12, 8) || 'Z'"
        sql, params = self.as_sql(compiler, connection, template=template)
        return sql, (*params, *params)

    def as_postgresql(self, compiler, connection, **extra):
        template = "to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
        return self.as_sql(compiler, connection, template=template)


def _content_sentence_ids(paths: _Paths):
    """The ids of the sentences the content span touches, space-separated, in article order.

    Almost always the labelled sentence itself, which costs nothing; a span beyond it (a
    quote over several sentences) asks the sentence index of its article.
    """
    claim, sentence = paths.claim, paths.sentence
    sentence_id = "id" if not sentence else f"{sentence}id"
    overlapping = Sentence.objects.filter(
        article_id=OuterRef(f"{sentence}article_id"),
        start__lt=OuterRef(f"{claim}content_end"),
        end__gt=OuterRef(f"{claim}content_start"),
    )
    # Ordered by position where the database can order an aggregate (PostgreSQL; SQLite from
    # 3.44); older SQLite concatenates in the order it reads the (article, position) index.
    ordered = connection.features.supports_aggregate_order_by_clause
    ids = StringAgg(Cast("id", CharField()), Value(" "), order_by="position" if ordered else None)
    return Case(
        When(**{f"{claim}id__isnull": True}, then=Value(None)),
        When(
            **{
                f"{claim}content_start__gte": F(f"{sentence}start"),
                f"{claim}content_end__lte": F(f"{sentence}end"),
            },
            then=Cast(sentence_id, CharField()),
        ),
        default=Subquery(
            overlapping.order_by().values("article_id").annotate(ids=ids).values("ids")[:1]
        ),
        output_field=CharField(),
    )


def _export_columns(gold: bool) -> list:
    """The columns in claims.exporting.COLUMNS order, as ORM paths and expressions."""
    p = _GOLD if gold else _ANNOTATIONS
    a, s, label, c = p.article, p.sentence, p.label, p.claim
    empty = Value(None, output_field=CharField())
    return [
        f"{s}article_id",
        f"{a}external_id",
        f"{a}title",
        f"{a}outlet",
        f"{a}url",
        _IsoDate(f"{a}published_on"),
        "id" if gold else "sentence_id",
        f"{s}position",
        f"{s}start",
        f"{s}end",
        f"{s}text",
        f"{label}is_claim",
        f"{c}position",
        _content_sentence_ids(p),
        f"{c}content_start",
        f"{c}content_end",
        _span_text(p, "content"),
        f"{c}cue_start",
        f"{c}cue_end",
        _span_text(p, "cue"),
        f"{c}mention_start",
        f"{c}mention_end",
        _span_text(p, "mention"),
        f"{c}source__name",
        f"{c}source__kind",
        f"{c}source__side",
        f"{c}attribution_type",
        f"{c}status__code",
        f"{c}note",
        f"{c}evidence_url",
        "gold__comment" if gold else "note",
        empty if gold else "evidence_url",
        Value("gold", output_field=CharField()) if gold else "annotator_id",
        empty if gold else _IsoDateTime("updated_at"),
        "gold__origin" if gold else empty,
        "gold__editor_id" if gold else empty,
        _IsoDateTime("gold__updated_at") if gold else empty,
    ]


# Where _export_values finds the user ids to pseudonymise (claims.exporting.COLUMNS order).
_ANNOTATOR, _REVIEWED_BY = 32, 35


def _export_labels(filters: ExportFilters):
    """The labels an export reads (sentences at gold level, annotations otherwise), filtered
    by article and review, before any claims join."""
    gold = filters.level == "gold"
    p = _GOLD if gold else _ANNOTATIONS
    rows = Sentence.objects.annotatable() if gold else Annotation.objects.all()
    article_conditions = {
        f"{p.article}published_on__gte": filters.date_from,
        f"{p.article}published_on__lte": filters.date_to,
        f"{p.article}outlet__in": filters.outlets,
        f"{p.article}id__in": filters.articles,
    }
    rows = rows.filter(**{k: v for k, v in article_conditions.items() if v not in (None, ())})
    if filters.reviewed_only:
        rows = (
            rows.filter(gold__isnull=False) if gold else rows.filter(sentence__gold__isnull=False)
        )
    return rows


def _claim_conditions(filters: ExportFilters) -> dict:
    p = _GOLD if filters.level == "gold" else _ANNOTATIONS
    conditions = {
        f"{p.claim}source_id__in": filters.sources,
        f"{p.claim}source__kind__in": filters.source_kinds,
        f"{p.claim}source__side__in": filters.sides,
        f"{p.claim}status__code__in": filters.statuses,
        f"{p.claim}isnull": False if filters.claims_only else None,
    }
    return {k: v for k, v in conditions.items() if v not in (None, ())}


def export_queryset(filters: ExportFilters):
    """(queryset, columns): one row per claim, or per label without claims (and, at gold
    level, per sentence without a gold label), in article, sentence, annotator and claim
    order. The claim filters (sources, kinds, sides, statuses, claims_only) keep the rows of
    the claims that pass them; they are applied in one filter() so that the columns read the
    same claims join."""
    gold = filters.level == "gold"
    if gold:
        order = ("article_id", "position", "gold__claims__position")
    else:
        order = ("sentence__article_id", "sentence__position", "annotator_id", "claims__position")
    # One filter() call: the claims join it makes is the one the columns read.
    rows = _export_labels(filters).filter(**_claim_conditions(filters))
    return rows.order_by(*order), _export_columns(gold)


def export_count(*, filters: ExportFilters) -> int:
    """The number of rows export_queryset gives. Without claim filters, a label is
    max(1, its claims) rows: the labels, plus their claims after the first (positions are
    0, 1, … in each label) — two counts without the claims join, which would otherwise
    visit every sentence of the database at gold level."""
    conditions = _claim_conditions(filters)
    if conditions:
        rows, _ = export_queryset(filters)
        claim = (_GOLD if filters.level == "gold" else _ANNOTATIONS).claim
        return rows.values_list(f"{claim}id").count()
    labels = _export_labels(filters)
    if filters.level == "gold":
        more = Claim.objects.filter(position__gt=0, gold__sentence__in=labels)
    else:
        more = Claim.objects.filter(position__gt=0, annotation__in=labels)
    return labels.count() + more.count()


@contextmanager
def export_snapshot():
    """The context to read an export in. On PostgreSQL one transaction, so that a server-side
    cursor needs no WITH HOLD (the first rows arrive at once, not after the whole result is
    materialised) and every statement sees committed data of one moment per statement; and
    without JIT compilation, which costs seconds of a one-pass export and saves nothing.
    SQLite would block writers meanwhile, so there nothing."""
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")
        yield


@contextmanager
def bundle_snapshot():
    """The context to read a whole bundle in: on PostgreSQL one REPEATABLE READ, read-only
    transaction, so that its passes (data, attributions, brat, ClaimReview, counts) all see the
    database of one moment; a label saved meanwhile is in none of them or in all. (Inside a
    transaction already — the tests — the caller's stands.) SQLite: the passes are short
    reads of a database that changes by whole transactions; nothing."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SET LOCAL jit = off")
        yield


def export_rows(*, filters: ExportFilters, pseudonymize, chunk_size: int = 5000, snapshot=True):
    """Rows in claims.exporting.COLUMNS order, streamed from a chunked cursor.

    The database returns the columns already in order (span texts cut out of the body by
    the database, empty ones as NULL), so each row only gets its pseudonyms in Python.
    ``snapshot=False``: the caller holds export_snapshot() around several streams.
    """
    rows, columns = export_queryset(filters)
    with export_snapshot() if snapshot else nullcontext():
        values = _driver_rows(rows.values_list(*columns), chunk_size=chunk_size)
        yield from _export_values(values, pseudonymize, gold=filters.level == "gold")


def _driver_rows(queryset, *, chunk_size: int):
    """The queryset's rows as the database driver returns them, streamed in chunks.

    What QuerySet.iterator() does, less its per-row converters: the export's columns need
    none (dates and times are formatted by the database, booleans come as booleans from both
    drivers). On SQLite a date and a time per row were parsed, made aware, then formatted
    again: a quarter of the CSV export's time in a profile.
    """
    db = connections[queryset.db]
    compiler = queryset.query.get_compiler(using=queryset.db)
    chunked_fetch = not db.settings_dict.get("DISABLE_SERVER_SIDE_CURSORS")
    chunks = compiler.execute_sql(MULTI, chunked_fetch=chunked_fetch, chunk_size=chunk_size)
    for chunk in chunks:
        yield from chunk


def _export_values(values_iterator, pseudonymize, *, gold: bool):
    if gold:
        for values in values_iterator:
            if values[_REVIEWED_BY] is None:
                yield values
            else:
                row = list(values)
                row[_REVIEWED_BY] = pseudonymize(row[_REVIEWED_BY])
                yield row
    else:
        for values in values_iterator:
            row = list(values)
            row[_ANNOTATOR] = pseudonymize(row[_ANNOTATOR])
            yield row


def export_article_bodies(filters: ExportFilters, *, chunk_size: int = 200):
    """(article id, body) of every article with rows in the export, in id order (the rows'
    article order), streamed: for the brat files of the bundle."""
    rows, _ = export_queryset(filters)
    article_ids = rows.order_by().values(
        "article_id" if filters.level == "gold" else "sentence__article_id"
    )
    articles = Article.objects.filter(pk__in=article_ids).order_by("pk")
    return articles.values_list("pk", "body").iterator(chunk_size=chunk_size)


# --- jobs ----------------------------------------------------------------------------------


def jobs_for(user):
    """The jobs a user may see: their own; admins see everyone's."""
    rows = Job.objects.select_related("started_by")
    return rows if user.is_superuser else rows.filter(started_by=user)


def job_kind_allowed(user, kind: str) -> bool:
    """May the user (still) start this kind of job, run it again, or take its file? A
    researcher who lost the export permission no longer downloads the exports they made."""
    if kind == Job.Kind.EXPORT:
        return user.has_perm("claims.export_dataset")
    return has_role(user, EDITOR)


def job_is_stale(job: Job) -> bool:
    return not job.finished and jobs.jobs_stale().filter(pk=job.pk).exists()


def job_article_ids(*, user, job_id) -> list[str]:
    """The articles an import job of the user's created or updated (ids as text, as a form's
    initial value), to preselect them on the assign page; [] for anything else."""
    if not (
        isinstance(job_id, str) and job_id.isascii() and job_id.isdigit() and len(job_id) < 19
    ):
        return []
    job = jobs_for(user).filter(pk=int(job_id), kind=Job.Kind.IMPORT).first()
    ids = (job.result or {}).get("article_ids") or [] if job else []
    return [str(pk) for pk in ids if isinstance(pk, int)]
