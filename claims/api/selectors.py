"""The API's reads: what each user may see, filtered as on the export page."""

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from claims.models import Annotation, Article, Assignment, Claim, GoldLabel, Job, Source
from claims.roles import ANNOTATOR, EDITOR, RESEARCHER, has_role
from claims.selectors import ExportFilters, _usable_by


def sees_everything(user) -> bool:
    """Editors, researchers and admins read every article and label; annotators their own."""
    return has_role(user, EDITOR, RESEARCHER)


def articles_for(user) -> QuerySet[Article]:
    """Annotators see the articles assigned to them, as on their queue page."""
    articles = Article.objects.all()
    if not sees_everything(user):
        articles = articles.filter(assignments__annotator=user)
    return articles


def sources_for(user) -> QuerySet[Source]:
    """Editors see the whole taxonomy (pending and merged too); others what they may use."""
    sources = Source.objects.prefetch_related("aliases")
    if has_role(user, EDITOR):
        return sources
    return sources.filter(_usable_by(user), merged_into=None)


def assignments_for(user) -> QuerySet[Assignment]:
    assignments = Assignment.objects.select_related("annotator")
    if has_role(user, EDITOR):
        return assignments
    return assignments.filter(annotator=user) if has_role(user, ANNOTATOR) else assignments.none()


def _claims_prefetch() -> Prefetch:
    return Prefetch(
        "claims", queryset=Claim.objects.select_related("source", "status").order_by("position")
    )


def _label_conditions(filters: ExportFilters, *, gold: bool) -> Q:
    """The export filters as conditions on labels: article filters on the label's article, the
    claim filters (sources, kinds, sides, statuses) keep the labels with such a claim."""
    article = {
        "sentence__article__published_on__gte": filters.date_from,
        "sentence__article__published_on__lte": filters.date_to,
        "sentence__article__outlet__in": filters.outlets,
        "sentence__article_id__in": filters.articles,
    }
    conditions = Q(**{k: v for k, v in article.items() if v not in (None, ())})
    if filters.claims_only:
        conditions &= Q(is_claim=True)
    if filters.reviewed_only and not gold:
        conditions &= Q(sentence__gold__isnull=False)
    claim = {
        "source_id__in": filters.sources,
        "source__kind__in": filters.source_kinds,
        "source__side__in": filters.sides,
        "status__code__in": filters.statuses,
    }
    claim = {k: v for k, v in claim.items() if v}
    if claim:
        owner = "gold" if gold else "annotation"
        matching = Claim.objects.filter(**{owner: OuterRef("pk")}, **claim)
        conditions &= Q(Exists(matching))
    return conditions


def gold_labels(*, filters: ExportFilters) -> QuerySet[GoldLabel]:
    """Gold labels with their sentence and claims (two queries a page, whatever its size)."""
    return (
        GoldLabel.objects.filter(_label_conditions(filters, gold=True))
        .select_related("sentence")
        .prefetch_related(_claims_prefetch())
    )


def annotations_for(user, *, filters: ExportFilters) -> QuerySet[Annotation]:
    """All annotations for editors, researchers and admins; an annotator's own otherwise."""
    annotations = Annotation.objects.filter(_label_conditions(filters, gold=False))
    if not sees_everything(user):
        annotations = annotations.filter(annotator=user)
    return annotations.select_related("sentence").prefetch_related(_claims_prefetch())


def jobs_for(user, *, kind: str | None = None) -> QuerySet[Job]:
    """A user's own jobs (admins: everyone's), as on the jobs page."""
    jobs = Job.objects.all() if user.is_superuser else Job.objects.filter(started_by=user)
    return jobs.filter(kind=kind) if kind else jobs
