"""Reads for the quality dashboard: agreement, accuracy against gold, progress, suggestions."""

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, F, Q

from claims import agreement, spans
from claims.models import (
    Annotation,
    Assignment,
    Claim,
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
class SpanCell:
    """One figure of the span agreement table and what it was computed from."""

    value: float | None
    detail: str


@dataclass
class SpanRow:
    label: str
    pooled: SpanCell
    mean: SpanCell | None  # the mean of the pairs' F1; None for the other measures
    pairs: list[SpanCell]


@dataclass
class SpanReport:
    pairs: list[str]  # "a / b", the table's columns
    rows: list[SpanRow]
    sentences: int  # sentence labels compared, summed over the pairs
    matched_claims: int  # summed over the pairs
    tolerance: int = spans.TOLERANCE


SPAN_KINDS = {"content": "Content", "cue": "Cue", "mention": "Source mention"}
SPAN_RULES = {agreement.EXACT: "exact", agreement.OVERLAP: "overlap"}


@dataclass
class Report:
    fields: list[FieldReport]
    per_article: list[dict]
    annotators: list[str]
    progress: dict
    suggestions: dict
    spans: SpanReport


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
        spans=_span_report(rows, annotators),
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


def _claim_labels(rows, annotators) -> dict[str, dict[int, list[spans.ClaimSpans] | None]]:
    """Each annotator's claims per sentence, from the annotation rows and one query for all
    claims. "Not a claim" is no claims; a claim label without claim rows (none yet) is left
    out as not labelled."""
    labels: dict[str, dict[int, list[spans.ClaimSpans] | None]] = {a: {} for a in annotators}
    for sentence_id, _, _, annotator, is_claim, *_ in rows:
        labels[annotator][sentence_id] = None if is_claim else []
    claims = (
        Claim.objects.filter(annotation__isnull=False)
        .order_by("annotation_id", "position")
        .values_list(
            "annotation__annotator__username",
            "annotation__sentence_id",
            "content_start",
            "content_end",
            "cue_start",
            "cue_end",
            "mention_start",
            "mention_end",
            "source_id",
            "attribution_type",
            "status_id",
        )
    )
    for annotator, sentence_id, c0, c1, q0, q1, m0, m1, source_id, kind, status_id in claims:
        sentence_labels = labels.setdefault(annotator, {})
        if sentence_labels.get(sentence_id) is None:
            sentence_labels[sentence_id] = []
        sentence_labels[sentence_id].append(
            spans.ClaimSpans(
                content=spans.Span(c0, c1),
                cue=spans.Span.of(q0, q1),
                mention=spans.Span.of(m0, m1),
                source_id=source_id,
                attribution_type=kind,
                status_id=status_id,
            )
        )
    return labels


def _f1_cell(result: agreement.SpanF1) -> SpanCell:
    return SpanCell(result.f1, f"{result.matched} of {result.n_a} + {result.n_b}")


def _span_report(rows, annotators) -> SpanReport:
    """Span agreement of every annotator pair and pooled (no rows with fewer than two)."""
    result = agreement.span_agreement(_claim_labels(rows, annotators))
    pooled = result.pooled
    if pooled is None:
        return SpanReport(pairs=[], rows=[], sentences=0, matched_claims=0)
    both = [pooled, *result.pairs.values()]
    table = [
        SpanRow(
            label=f"{kind_label}, {rule_label}",
            pooled=_f1_cell(pooled.f1[(kind, rule)]),
            mean=SpanCell(result.mean_f1[(kind, rule)], ""),
            pairs=[_f1_cell(p.f1[(kind, rule)]) for p in both[1:]],
        )
        for kind, kind_label in SPAN_KINDS.items()
        for rule, rule_label in SPAN_RULES.items()
    ]
    for name, label in (
        ("source_alpha", "\N{GREEK SMALL LETTER ALPHA} source"),
        ("status_alpha", "\N{GREEK SMALL LETTER ALPHA} status"),
    ):
        cells = [SpanCell(getattr(p, name), f"n={p.matched_claims}") for p in both]
        table.append(SpanRow(f"{label} (matched claims)", cells[0], None, cells[1:]))
    cells = [SpanCell(p.claim_count.share, f"n={p.claim_count.n}") for p in both]
    table.append(SpanRow("Same number of claims", cells[0], None, cells[1:]))
    return SpanReport(
        pairs=[f"{a} / {b}" for a, b in result.pairs],
        rows=table,
        sentences=pooled.claim_count.n,
        matched_claims=pooled.matched_claims,
    )


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
    """How often annotators keep what was suggested, from the suggestion each label started
    from: the taxonomy source suggested (kept: the label's source is it), and the new source
    suggested for a speaker the taxonomy lacked (kept: the label's source is called so, by
    name or by an alias, the name a proposal leaves behind when an editor merges it)."""
    counts = Annotation.objects.filter(suggested_source__isnull=False).aggregate(
        offered=Count("id"), kept=Count("id", filter=Q(source_id=F("suggested_source_id")))
    )
    # One row per annotation and alias of its source (a LEFT JOIN): compared here, as names
    # are compared everywhere (whitespace and case folded; SQLite folds ASCII only).
    names: dict[int, tuple[str, set[str]]] = {}
    rows = Annotation.objects.exclude(suggested_new_source_name="").values_list(
        "id", "suggested_new_source_name", "source__name", "source__aliases__alias"
    )
    for pk, suggested, name, alias in rows:
        chosen = names.setdefault(pk, (_fold(suggested), set()))[1]
        chosen.update(_fold(n) for n in (name, alias) if n)
    new_kept = sum(suggested in chosen for suggested, chosen in names.values())
    return {
        **counts,
        "rate_pct": _pct(counts["kept"], counts["offered"]),
        "new_offered": len(names),
        "new_kept": new_kept,
        "new_rate_pct": _pct(new_kept, len(names)),
    }


def _fold(name: str) -> str:
    return " ".join(name.split()).casefold()


def _pct(part: int, whole: int) -> int | None:
    return round(100 * part / whole) if whole else None
