"""Reads: queries that pages need, kept out of the views."""

from dataclasses import dataclass

from django.db.models import Count, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404

from claims.models import Annotation, Article, Assignment, Sentence, Source, VerificationStatus


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
        )
        .order_by("created_at", "id")
    )
    return sorted(assignments, key=lambda a: a.done >= a.total)


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
        queryset=Annotation.objects.filter(annotator=user).select_related("source", "status"),
        to_attr="my_annotations",
    )
    sentences = list(
        article.sentences.order_by("position")
        .select_related("suggested_source")
        .prefetch_related(mine)
    )
    previous_end = None
    for sentence in sentences:
        sentence.mine = sentence.my_annotations[0] if sentence.my_annotations else None
        gap = article.body[previous_end : sentence.start] if previous_end is not None else "\n"
        sentence.new_paragraph = "\n" in gap
        previous_end = sentence.end
    return sentences


def sentence_for_edit(*, user, article: Article, sentence_id: int) -> Sentence:
    sentence = get_object_or_404(
        Sentence.objects.annotatable().select_related("suggested_source", "suggested_status"),
        pk=sentence_id,
        article=article,
    )
    sentence.mine = (
        Annotation.objects.filter(sentence=sentence, annotator=user)
        .select_related("source", "status")
        .first()
    )
    return sentence


def next_sentence(*, sentences: list[Sentence], after: Sentence | None) -> Sentence | None:
    """The next annotatable sentence after `after` that is still unlabelled, else the next one."""
    annotatable = [s for s in sentences if s.is_annotatable]
    if after is None:
        return next(
            (s for s in annotatable if s.mine is None), annotatable[0] if annotatable else None
        )
    later = [s for s in annotatable if s.position > after.position]
    return next((s for s in later if s.mine is None), later[0] if later else None)


def next_sentence_id(*, user, article: Article, after: Sentence) -> int | None:
    """Like next_sentence, in one query: the next unlabelled sentence, else simply the next."""
    later = Sentence.objects.filter(
        article=article, kind=Sentence.Kind.SENTENCE, position__gt=after.position
    ).order_by("position")
    unlabelled = later.exclude(annotations__annotator=user)
    candidate = unlabelled.values_list("id", flat=True).first()
    return candidate if candidate is not None else later.values_list("id", flat=True).first()


def statuses() -> list[VerificationStatus]:
    return list(VerificationStatus.objects.filter(is_active=True).order_by("order", "code"))


def source_search(*, query: str, user, limit: int = 8) -> list[Source]:
    """Active sources (and the user's own proposals) whose name or an alias contains the query."""
    query = " ".join(query.split())
    usable = Source.objects.filter(merged_into=None).filter(
        Q(status=Source.Status.ACTIVE) | Q(proposed_by=user)
    )
    if query:
        usable = usable.filter(Q(name__icontains=query) | Q(aliases__alias__icontains=query))
    return list(usable.distinct().prefetch_related("aliases").order_by("name")[:limit])


def resolve_source_name(name: str, *, user=None) -> Source | None:
    """The source a typed name or alias means: active ones, and the user's own proposals."""
    name = " ".join(name.split())
    usable = Q(status=Source.Status.ACTIVE) | Q(proposed_by=user) if user else Q(status="active")
    candidates = Source.objects.filter(usable)
    source = candidates.filter(name__iexact=name).first() or (
        candidates.filter(aliases__alias__iexact=name).first()
    )
    while source is not None and source.merged_into_id is not None:
        source = source.merged_into
    return source


def articles_for_assignment() -> QuerySet[Article]:
    """Articles with how many annotators have them, the least-covered first."""
    return Article.objects.annotate(assigned=Count("assignments")).order_by(
        "assigned", "-published_on", "-id"
    )
