"""Reads for the quality dashboard: agreement, accuracy against gold, progress, suggestions."""

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, F, Q

from claims import agreement
from claims.models import (
    Annotation,
    Assignment,
    GoldLabel,
    ReviewItem,
    Sentence,
    Source,
    VerificationStatus,
)

FIELDS = {"is_claim": "Claim?", "source_id": "Source", "status_id": "Status"}


@dataclass
class FieldReport:
    name: str
    label: str
    alpha: float | None
    kappas: list[tuple[str, str, agreement.KappaResult]]
    accuracy: dict[str, agreement.AccuracyResult]
    confusion: agreement.ConfusionMatrix | None
    confusion_title: str
    confusion_names: list[str] = field(default_factory=list)

    @property
    def confusion_rows(self) -> list[tuple[str, list[int]]]:
        if self.confusion is None:
            return []
        return list(zip(self.confusion_names, self.confusion.counts, strict=True))


@dataclass
class Report:
    fields: list[FieldReport]
    per_article: list[dict]
    annotators: list[str]
    progress: dict
    suggestions: dict


def report() -> Report:
    """Everything the dashboard shows, from one pass over the labels."""
    rows = list(
        Annotation.objects.values_list(
            "sentence_id",
            "sentence__article_id",
            "sentence__article__title",
            "annotator__username",
            "is_claim",
            "source_id",
            "status_id",
        )
    )
    gold_rows = list(
        GoldLabel.objects.values_list("sentence_id", "is_claim", "source_id", "status_id")
    )
    names = _label_names()
    annotators = sorted({row[3] for row in rows})
    articles: dict[int, str] = {row[1]: row[2] for row in rows}
    fields = []
    per_article: dict[int, dict] = {a: {"title": t, "alpha": {}} for a, t in articles.items()}
    for index, (name, label) in enumerate(FIELDS.items()):
        labels: dict[str, dict[int, object]] = defaultdict(dict)
        by_article: dict[int, dict[str, dict[int, object]]] = defaultdict(
            lambda: defaultdict(dict)
        )
        for sentence_id, article_id, _, annotator, *values in rows:
            labels[annotator][sentence_id] = values[index]
            by_article[article_id][annotator][sentence_id] = values[index]
        gold = {row[0]: row[1 + index] for row in gold_rows}
        for article_id, article_labels in by_article.items():
            per_article[article_id]["alpha"][name] = agreement.krippendorff_alpha_nominal(
                article_labels
            )
        kappas = [(a, b, k) for (a, b), k in agreement.pairwise_kappas(labels).items()]
        confusion, title = _confusion(labels, gold, annotators)
        fields.append(
            FieldReport(
                name=name,
                label=label,
                alpha=agreement.krippendorff_alpha_nominal(labels),
                kappas=kappas,
                accuracy=agreement.accuracy_against_gold(labels, gold) if gold else {},
                confusion=confusion,
                confusion_title=title,
                confusion_names=[names[name](v) for v in confusion.labels] if confusion else [],
            )
        )
    for article in per_article.values():  # in the order of FIELDS, for the table's columns
        article["values"] = [article["alpha"].get(name) for name in FIELDS]
    return Report(
        fields=fields,
        per_article=sorted(per_article.values(), key=lambda a: a["title"]),
        annotators=annotators,
        progress=_progress(),
        suggestions=_suggestions(),
    )


def _confusion(labels, gold, annotators):
    """Annotators (pooled) against gold when there is gold, else the first pair."""
    if gold:
        pooled_a, pooled_b = [], []
        for annotator in annotators:
            a, b = agreement.paired(labels[annotator], gold)
            pooled_a += a
            pooled_b += b
        if pooled_a:
            return agreement.confusion_matrix(
                pooled_a, pooled_b
            ), "annotators (rows) against gold (columns)"
    if len(annotators) >= 2:
        first, second = annotators[:2]
        a, b = agreement.paired(labels[first], labels[second])
        if a:
            return agreement.confusion_matrix(a, b), f"{first} (rows) against {second} (columns)"
    return None, ""


def _label_names():
    sources = dict(Source.objects.values_list("id", "name"))
    statuses = dict(VerificationStatus.objects.values_list("id", "label"))
    return {
        "is_claim": lambda v: {True: "claim", False: "not a claim"}.get(v, "—"),
        "source_id": lambda v: sources.get(v, "no source"),
        "status_id": lambda v: statuses.get(v, "no status"),
    }


def _progress() -> dict:
    assigned_articles = Assignment.objects.values("article_id").distinct()
    sentences = Sentence.objects.annotatable().filter(article_id__in=assigned_articles)
    total = sentences.count()
    annotated = sentences.filter(annotations__isnull=False).distinct().count()
    states = dict(ReviewItem.objects.values_list("state").annotate(n=Count("pk")))
    reviewed = states.get(ReviewItem.State.REVIEWED, 0)
    items = sum(states.values())
    return {
        "sentences": total,
        "annotated": annotated,
        "annotated_pct": _pct(annotated, total),
        "items": items,
        "reviewed": reviewed,
        "reviewed_pct": _pct(reviewed, items),
        "sent_back": states.get(ReviewItem.State.SENT_BACK, 0),
        "labels": Annotation.objects.count(),
    }


def _suggestions() -> dict:
    counts = Annotation.objects.filter(suggested_source__isnull=False).aggregate(
        offered=Count("id"), kept=Count("id", filter=Q(source_id=F("suggested_source_id")))
    )
    return {**counts, "rate_pct": _pct(counts["kept"], counts["offered"])}


def _pct(part: int, whole: int) -> int | None:
    return round(100 * part / whole) if whole else None
