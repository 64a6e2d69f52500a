"""The API's reads: what each user may see, filtered as on the export page."""

from django.db.models import Exists, OuterRef, Q, QuerySet

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


# A page of labels is read as plain rows (values), not model instances: a thousand labels
# with their claims are built in a tenth of the time (bench/api.py).
SENTENCE_VALUES = {
    "id": "sentence_id",
    "article": "sentence__article_id",
    "position": "sentence__position",
    "start": "sentence__start",
    "end": "sentence__end",
    "text": "sentence__text",
}
GOLD_VALUES = ("id", "is_claim", "origin", "comment", "version", "editor_id", "updated_at")
ANNOTATION_VALUES = ("id", "annotator_id", "is_claim", "note", "evidence_url", "updated_at")
CLAIM_VALUES = (  # the first seven as they are; the source and status named
    "position",
    "content_start",
    "content_end",
    "cue_start",
    "cue_end",
    "mention_start",
    "mention_end",
    "source_id",
    "source__name",
    "attribution_type",
    "status__code",
    "note",
    "evidence_url",
)


def gold_labels(*, filters: ExportFilters) -> QuerySet:
    """Gold labels (as rows for `labels_with_claims`), filtered as the export is."""
    rows = GoldLabel.objects.filter(_label_conditions(filters, gold=True))
    return rows.values(*GOLD_VALUES, *SENTENCE_VALUES.values())


def annotations_for(user, *, filters: ExportFilters) -> QuerySet:
    """All annotations for editors, researchers and admins; an annotator's own otherwise."""
    rows = Annotation.objects.filter(_label_conditions(filters, gold=False))
    if not sees_everything(user):
        rows = rows.filter(annotator=user)
    return rows.values(*ANNOTATION_VALUES, *SENTENCE_VALUES.values())


def labels_with_claims(rows: list[dict], *, gold: bool, pseudonymize) -> list[dict]:
    """A page of label rows as the API shows them (serializers.GoldLabelSerializer,
    AnnotationSerializer): the sentence nested, the claims attached (one query), users as
    pseudonyms."""
    owner = "gold_id" if gold else "annotation_id"
    claims: dict[int, list[dict]] = {row["id"]: [] for row in rows}
    found = Claim.objects.filter(**{f"{owner}__in": list(claims)}).order_by(owner, "position")
    for row in found.values(owner, *CLAIM_VALUES):
        claim = {name: row[name] for name in CLAIM_VALUES[:7]}
        source_id = row["source_id"]
        claim["source"] = (
            None if source_id is None else {"id": source_id, "name": row["source__name"]}
        )
        claim["attribution_type"] = row["attribution_type"]
        claim["status"] = row["status__code"]
        claim["note"], claim["evidence_url"] = row["note"], row["evidence_url"]
        claims[row[owner]].append(claim)
    labels = []
    for row in rows:
        label = {"id": row["id"]}
        label["sentence"] = {key: row[path] for key, path in SENTENCE_VALUES.items()}
        if gold:
            label.update({k: row[k] for k in ("is_claim", "origin", "comment", "version")})
            label["reviewed_by"] = pseudonymize(row["editor_id"])
        else:
            label["annotator"] = pseudonymize(row["annotator_id"])
            label.update({k: row[k] for k in ("is_claim", "note", "evidence_url")})
        label["claims"] = claims[row["id"]]
        label["updated_at"] = row["updated_at"]
        labels.append(label)
    return labels


def jobs_for(user, *, kind: str | None = None) -> QuerySet[Job]:
    """A user's own jobs (admins: everyone's), as on the jobs page."""
    jobs = Job.objects.all() if user.is_superuser else Job.objects.filter(started_by=user)
    return jobs.filter(kind=kind) if kind else jobs
