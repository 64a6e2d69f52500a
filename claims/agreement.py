"""Agreement between annotators: kappa, alpha, confusion matrices, accuracy; span F1 on claims."""

# Conventions shared by every function here:
#
# * A label is any hashable value compared with ``==`` (a string, an id, a bool...); ``None``
#   means "not labelled" and is skipped, never counted as a category of its own. Only ``None`` is
#   missing: ``float("nan")`` would be a (strange) label. Since ``True == 1`` in Python, don't mix
#   bools and ints within one field.
# * Annotations come as ``labels[coder][unit] = label``: one mapping per annotator from item
#   (sentence, claim...) to that annotator's label for one field. A unit an annotator did not
#   label may be absent or map to ``None``. The caller picks the field and the units (one
#   article, or all of them) before calling; these functions know nothing about Django.
# * A statistic that is undefined (0/0) is returned as ``None``, never as NaN.
#
# Everything is computed exactly with integers and fractions, then converted to float once.

from __future__ import annotations

import operator
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import reduce
from itertools import combinations

from claims.spans import TOLERANCE, ClaimSpans, Span, match_claims

type Label = Hashable  # None = missing
type Coder = Hashable
type Unit = Hashable
type Annotations = Mapping[Coder, Mapping[Unit, Label]]


@dataclass(frozen=True, slots=True)
class KappaResult:
    """Cohen's kappa of one annotator pair over the ``n`` items both labelled.

    ``agreement`` is the observed share of those items on which the two agree. Both ``kappa``
    and ``agreement`` are ``None`` when ``n == 0``; ``kappa`` alone is ``None`` when it is
    undefined although ``n > 0`` (both annotators used one and the same single label).
    """

    kappa: float | None
    n: int
    agreement: float | None


@dataclass(frozen=True, slots=True)
class AccuracyResult:
    """Share of the ``n`` items labelled by both annotator and gold on which they agree."""

    accuracy: float | None  # None when n == 0
    n: int


@dataclass(frozen=True, slots=True)
class ConfusionMatrix:
    """Counts of label pairs: ``counts[i][j]`` = items with ``a == labels[i]``, ``b == labels[j]``.

    Rows are the first sequence's labels (annotator A, or the annotator when compared with
    gold), columns the second's (annotator B, or gold). ``labels`` is sorted.
    """

    labels: list[Label]
    counts: list[list[int]]

    @property
    def n(self) -> int:
        """Number of items counted (items that both sides labelled)."""
        return sum(map(sum, self.counts))

    def count(self, a: Label, b: Label) -> int:
        """Items labelled ``a`` by the first side and ``b`` by the second (0 if unseen)."""
        try:
            return self.counts[self.labels.index(a)][self.labels.index(b)]
        except ValueError:
            return 0


def paired(a: Mapping[Unit, Label], b: Mapping[Unit, Label]) -> tuple[list[Label], list[Label]]:
    """Align two ``unit -> label`` mappings on the units both labelled (not ``None``).

    Returns two equally long lists, in the iteration order of ``a``, ready for
    :func:`cohen_kappa` or :func:`confusion_matrix`.
    """
    both = [(la, b[u]) for u, la in a.items() if la is not None and b.get(u) is not None]
    return [la for la, _ in both], [lb for _, lb in both]


def _pairs(a: Sequence[Label], b: Sequence[Label]) -> list[tuple[Label, Label]]:
    if len(a) != len(b):
        raise ValueError(f"sequences differ in length: {len(a)} != {len(b)}")
    return [(x, y) for x, y in zip(a, b, strict=True) if x is not None and y is not None]


def cohen_kappa(a: Sequence[Label], b: Sequence[Label]) -> float | None:
    """Cohen's kappa of two aligned label sequences (``a[i]``, ``b[i]`` label the same item).

    Items where either label is ``None`` are skipped. With ``p_o`` the observed agreement and
    ``p_e`` the agreement expected from each rater's own label frequencies,
    ``kappa = (p_o - p_e) / (1 - p_e)``; 1 is perfect agreement, 0 chance level, and it can be
    negative (down to -1).

    Returns ``None`` when kappa is undefined: no item labelled by both, or ``p_e == 1``, which
    happens exactly when both raters gave every item the same single label (they agree
    perfectly, but there is no variation to tell agreement from chance; scikit-learn returns
    NaN there). Raises ``ValueError`` if the sequences differ in length.
    """
    pairs = _pairs(a, b)
    n = len(pairs)
    agree = sum(x == y for x, y in pairs)
    count_a = Counter(x for x, _ in pairs)
    count_b = Counter(y for _, y in pairs)
    # Scaled by n*n: p_o = agree / n and p_e = chance / n**2, so exact integer arithmetic.
    chance = sum(count * count_b[label] for label, count in count_a.items())
    denominator = n * n - chance
    if denominator == 0:  # n == 0, or p_e == 1
        return None
    return (n * agree - chance) / denominator


def pairwise_kappas(labels: Annotations) -> dict[tuple[Coder, Coder], KappaResult]:
    """Cohen's kappa for every pair of annotators, on the units both labelled.

    ``labels[coder][unit]`` is a label or ``None``. Keys are ``(c1, c2)`` with ``c1`` before
    ``c2`` in ``labels``' iteration order; every pair is present, also those with no common
    unit (``n == 0``, kappa ``None``). Fewer than two annotators give an empty dict.
    """
    results = {}
    for c1, c2 in combinations(labels, 2):
        a, b = paired(labels[c1], labels[c2])
        n = len(a)
        agreement = sum(x == y for x, y in zip(a, b, strict=True)) / n if n else None
        results[(c1, c2)] = KappaResult(cohen_kappa(a, b), n, agreement)
    return results


def krippendorff_alpha_nominal(labels: Annotations) -> float | None:
    """Krippendorff's alpha with the nominal metric, across all annotators, missing values allowed.

    ``labels[coder][unit]`` is a label or ``None`` (missing), the same shape as for
    :func:`pairwise_kappas`; pass only the units of one article for a per-article value. Units
    with fewer than two labels are unpairable and ignored, as Krippendorff prescribes. With
    ``o_cc`` the coincidences of category ``c`` with itself, ``n_c`` the pairable values of
    ``c`` and ``n`` all pairable values::

        alpha = 1 - (n - 1) * (n - sum(o_cc)) / (n**2 - sum(n_c**2))

    Returns ``None`` when alpha is undefined (0/0): no unit has two labels, or all pairable
    values are one single category (perfect but uninformative agreement, as for kappa).
    """
    by_unit: dict[Unit, list[Label]] = {}
    for unit_labels in labels.values():
        for unit, label in unit_labels.items():
            if label is not None:
                by_unit.setdefault(unit, []).append(label)
    return _alpha_nominal(by_unit.values())


def krippendorff_alpha_nominal_units(units: Iterable[Sequence[Label]]) -> float | None:
    """The same alpha from the labels of one unit at a time (missing ones left out): a
    stream of units keeps memory flat over any number of them."""
    return _alpha_nominal(units)


def _alpha_nominal(units: Iterable[Sequence[Label]]) -> float | None:
    n = 0  # pairable values
    n_c: Counter[Label] = Counter()  # pairable values per category
    o_same = Fraction(0)  # sum over c of o_cc
    for values in units:
        m = len(values)
        if m < 2:
            continue
        counts = Counter(values)
        n += m
        n_c.update(counts)
        o_same += Fraction(sum(k * (k - 1) for k in counts.values()), m - 1)
    expected = n * n - sum(k * k for k in n_c.values())  # sum of n_c * n_k over c != k
    if expected == 0:
        return None
    return float(1 - (n - 1) * (n - o_same) / expected)


def _sorted_labels(labels: Iterable[Label]) -> list[Label]:
    unique = set(labels)
    try:
        return sorted(unique)
    except TypeError:  # labels of mixed, mutually unorderable types
        return sorted(unique, key=lambda label: (type(label).__name__, repr(label)))


def confusion_matrix(
    a: Sequence[Label], b: Sequence[Label], labels: Sequence[Label] | None = None
) -> ConfusionMatrix:
    """Count each ``(a[i], b[i])`` label pair over the items where neither is ``None``.

    The label set is every label either side used, sorted (by type name and ``repr`` when the
    labels cannot be compared with each other). Pass ``labels`` to fix the rows and columns
    instead, e.g. to show every category of a field even when nobody used it; a label outside
    it raises ``ValueError``, as do sequences of different lengths. For annotator vs gold, pass
    the annotator as ``a`` and gold as ``b`` (see :func:`paired` to align mappings).
    """
    pairs = _pairs(a, b)
    label_list = (
        list(labels) if labels is not None else _sorted_labels(x for pair in pairs for x in pair)
    )
    index = {label: i for i, label in enumerate(label_list)}
    if len(index) != len(label_list):
        raise ValueError("labels contains duplicates")
    counts = [[0] * len(label_list) for _ in label_list]
    for x, y in pairs:
        try:
            counts[index[x]][index[y]] += 1
        except KeyError as exc:
            raise ValueError(f"label {exc.args[0]!r} is not in labels") from None
    return ConfusionMatrix(label_list, counts)


def accuracy_against_gold(
    labels: Annotations, gold: Mapping[Unit, Label]
) -> dict[Coder, AccuracyResult]:
    """Each annotator's share of units labelled like gold, over the units both labelled.

    ``labels[coder][unit]`` and ``gold[unit]`` are labels or ``None``. Every annotator gets an
    entry, in ``labels``' order; ``accuracy`` is ``None`` when ``n == 0``.
    """
    results = {}
    for coder, coder_labels in labels.items():
        mine, truth = paired(coder_labels, gold)
        n = len(mine)
        correct = sum(x == y for x, y in zip(mine, truth, strict=True))
        results[coder] = AccuracyResult(correct / n if n else None, n)
    return results


# --- Agreement on spans ----------------------------------------------------------------------
#
# A label of a sentence (the unit) is a sequence of claims (``spans.ClaimSpans``); "not a
# claim" is the empty sequence and an unlabelled sentence is absent or ``None``. Only the
# sentences both annotators labelled are compared. A span belongs to the sentence whose label
# holds it, even when it runs over into the next sentence or lies in an earlier one.

type SpanLabels = Mapping[Unit, Sequence[Span] | None]
type ClaimLabels = Mapping[Unit, Sequence[ClaimSpans] | None]

EXACT = "exact"
OVERLAP = "overlap"
SPAN_KINDS = ("content", "cue", "mention")  # the ClaimSpans attributes compared
UNATTRIBUTED = "unattributed"  # the source label of a claim without source (None is missing)


@dataclass(frozen=True, slots=True)
class SpanF1:
    """Matched spans between annotator A (``n_a`` spans) and B (``n_b``).

    ``precision = matched / n_a`` and ``recall = matched / n_b`` (B read as the reference),
    ``f1 = 2 * matched / (n_a + n_b)``, which is symmetric. Each is ``None`` when its
    denominator is 0; ``f1`` is 0.0, not ``None``, when one side has spans and the other none.
    """

    precision: float | None
    recall: float | None
    f1: float | None
    matched: int
    n_a: int
    n_b: int

    @classmethod
    def of(cls, matched: int, n_a: int, n_b: int) -> SpanF1:
        return cls(
            precision=matched / n_a if n_a else None,
            recall=matched / n_b if n_b else None,
            f1=2 * matched / (n_a + n_b) if n_a + n_b else None,
            matched=matched,
            n_a=n_a,
            n_b=n_b,
        )

    def __add__(self, other: SpanF1) -> SpanF1:
        """Pooled (micro) figures: the counts added, the ratios computed again."""
        return SpanF1.of(self.matched + other.matched, self.n_a + other.n_a, self.n_b + other.n_b)


@dataclass(frozen=True, slots=True)
class ClaimCountResult:
    """Share of the ``n`` sentences both labelled on which both found ``same`` claims."""

    share: float | None  # None when n == 0
    same: int
    n: int


def _common_units(a: Mapping[Unit, object], b: Mapping[Unit, object]) -> list[Unit]:
    return [u for u, x in a.items() if x is not None and b.get(u) is not None]


def _matched_spans(xs: Sequence[Span], ys: Sequence[Span], rule: str, tolerance: int) -> int:
    """How many spans of ``xs`` pair one-to-one with spans of ``ys`` (see :func:`span_f1`)."""
    if rule == EXACT:
        candidates = sorted(
            (abs(x.start - y.start) + abs(x.end - y.end), i, j)
            for i, x in enumerate(xs)
            for j, y in enumerate(ys)
            if x.near(y, tolerance)
        )
    elif rule == OVERLAP:
        candidates = sorted(
            (-x.overlap(y), i, j)
            for i, x in enumerate(xs)
            for j, y in enumerate(ys)
            if x.overlap(y) > 0
        )
    else:
        raise ValueError(f"unknown rule {rule!r}: use {EXACT!r} or {OVERLAP!r}")
    used_x: set[int] = set()
    used_y: set[int] = set()
    for _, i, j in candidates:
        if i not in used_x and j not in used_y:
            used_x.add(i)
            used_y.add(j)
    return len(used_x)


def span_f1(
    a: SpanLabels, b: SpanLabels, rule: str = EXACT, *, tolerance: int = TOLERANCE
) -> SpanF1:
    """Span F1 of annotator A against B over the units (sentences) both labelled.

    ``a[unit]`` is the sequence of one kind of span (contents, cues or source mentions) in A's
    label of that unit; ``[]`` is a label without such spans, ``None`` or an absent unit is not
    labelled (its spans, on either side, are not counted). A sequence is a multiset: the same
    mention marked for two claims counts twice. Spans pair one-to-one, within a unit only:

    * ``rule="exact"``: two spans match when each end lies within ``tolerance`` characters of
      the other's (default ``spans.TOLERANCE``, as review uses; ``tolerance=0`` is strict
      equality). Closest pairs first (the smaller sum of the two ends' distances), ties in the
      order the spans come.
    * ``rule="overlap"``: two spans match when they share at least one character. Greedy by
      overlap size: the pair sharing the most characters is taken first, then the largest
      overlap among spans not yet used, and so on (ties in the order the spans come). So a long
      span overlapping two short ones matches one of them, the one it shares more with.

    A pair of identical spans is both an exact and an overlap match; every exact match with
    ``tolerance`` smaller than the spans' length is an overlap too.
    """
    matched = n_a = n_b = 0
    for unit in _common_units(a, b):
        xs, ys = a[unit], b[unit]
        n_a += len(xs)
        n_b += len(ys)
        matched += _matched_spans(xs, ys, rule, tolerance)
    return SpanF1.of(matched, n_a, n_b)


def claim_spans(labels: ClaimLabels, kind: str) -> dict[Unit, list[Span] | None]:
    """One kind of span (``"content"``, ``"cue"``, ``"mention"``) of each unit's claims, in
    the claims' order; a claim without a cue or mention contributes nothing."""
    if kind not in SPAN_KINDS:
        raise ValueError(f"unknown span kind {kind!r}: use one of {SPAN_KINDS}")
    return {
        unit: None
        if claims is None
        else [span for claim in claims if (span := getattr(claim, kind)) is not None]
        for unit, claims in labels.items()
    }


def _field_value(claim: ClaimSpans, name: str) -> Label:
    if name == "source":
        return UNATTRIBUTED if claim.source_id is None else claim.source_id
    if name == "status":
        return claim.status_id  # None (no status) is missing
    raise ValueError(f"unknown field {name!r}: use 'source' or 'status'")


def _matched_claims(a: ClaimLabels, b: ClaimLabels) -> list[tuple[Unit, ClaimSpans, ClaimSpans]]:
    """The pairs of matched claims, the ``k``-th pair of unit ``u`` as unit ``(u, k)``."""
    matched = []
    for unit in _common_units(a, b):
        xs, ys = a[unit], b[unit]
        for k, (i, j) in enumerate(match_claims(xs, ys).pairs):
            matched.append(((unit, k), xs[i], ys[j]))
    return matched


def matched_claim_labels(
    a: ClaimLabels, b: ClaimLabels, name: str
) -> tuple[dict[Unit, Label], dict[Unit, Label]]:
    """The source or status (``name``) of each pair of matched claims, for alpha or kappa.

    Claims are paired per unit with ``spans.match_claims`` (overlapping content, largest
    overlap first); the pair ``k`` of unit ``u`` becomes the unit ``(u, k)``. Unmatched claims
    have nothing to compare and are left out. A claim without source is labelled
    ``UNATTRIBUTED`` (a category), a claim without status ``None`` (missing).
    """
    matched = _matched_claims(a, b)
    return (
        {unit: _field_value(x, name) for unit, x, _ in matched},
        {unit: _field_value(y, name) for unit, _, y in matched},
    )


def matched_alpha(a: ClaimLabels, b: ClaimLabels, name: str) -> float | None:
    """Krippendorff's alpha (nominal) of two annotators on ``"source"`` or ``"status"``, over
    their matched claims (see :func:`matched_claim_labels`); ``None`` when undefined."""
    mine, theirs = matched_claim_labels(a, b, name)
    return krippendorff_alpha_nominal({0: mine, 1: theirs})


def same_claim_count(a: ClaimLabels, b: ClaimLabels) -> ClaimCountResult:
    """Share of the sentences both labelled where both found equally many claims ("not a
    claim" is 0 claims); ``share`` is ``None`` when no sentence was labelled by both."""
    units = _common_units(a, b)
    same = sum(len(a[u]) == len(b[u]) for u in units)
    return ClaimCountResult(same / len(units) if units else None, same, len(units))


@dataclass(frozen=True, slots=True)
class SpanAgreementResult:
    """Span agreement of one annotator pair, or of all pairs pooled.

    ``f1[(kind, rule)]`` for kind in ``SPAN_KINDS`` and rule in ``(EXACT, OVERLAP)``;
    ``source_alpha`` and ``status_alpha`` over the ``matched_claims`` matched pairs of claims;
    ``claim_count`` the same-number-of-claims share over the sentences both labelled.
    """

    f1: dict[tuple[str, str], SpanF1]
    source_alpha: float | None
    status_alpha: float | None
    matched_claims: int
    claim_count: ClaimCountResult


@dataclass(frozen=True, slots=True)
class SpanAgreement:
    """Every annotator pair's span agreement, and all pairs together.

    ``pooled`` adds up the pairs: span counts for F1 (micro average), the matched claims of
    every pair as units of one alpha, the sentences of every pair for the claim-count share;
    ``None`` with fewer than two annotators. ``mean_f1[(kind, rule)]`` is the mean of the
    pairs' F1 (macro average) over the pairs where it is defined, ``None`` when none is.
    """

    pairs: dict[tuple[Coder, Coder], SpanAgreementResult]
    pooled: SpanAgreementResult | None
    mean_f1: dict[tuple[str, str], float | None]


def span_agreement(
    labels: Mapping[Coder, ClaimLabels], *, tolerance: int = TOLERANCE
) -> SpanAgreement:
    """Span agreement between every pair of annotators.

    ``labels[coder][unit]`` is the sequence of ``spans.ClaimSpans`` of that annotator's label
    of the unit (a sentence): ``[]`` for "not a claim", ``None`` or absent when not labelled.
    Pairs are ``(c1, c2)`` with ``c1`` before ``c2`` in ``labels``' order, each with exact and
    overlap F1 of content, cue and mention spans (:func:`span_f1`), alpha on source and status
    over matched claims (:func:`matched_alpha`) and the same-number-of-claims share
    (:func:`same_claim_count`).
    """
    measures = [(kind, rule) for kind in SPAN_KINDS for rule in (EXACT, OVERLAP)]
    spans = {
        coder: {kind: claim_spans(coder_labels, kind) for kind in SPAN_KINDS}
        for coder, coder_labels in labels.items()
    }
    pairs = {}
    pooled: dict[str, tuple[dict, dict]] = {"source": ({}, {}), "status": ({}, {})}
    for c1, c2 in combinations(labels, 2):
        a, b = labels[c1], labels[c2]
        matched = _matched_claims(a, b)
        alphas = {}
        for name, (pooled_a, pooled_b) in pooled.items():
            mine = {unit: _field_value(x, name) for unit, x, _ in matched}
            theirs = {unit: _field_value(y, name) for unit, _, y in matched}
            alphas[name] = krippendorff_alpha_nominal({0: mine, 1: theirs})
            pooled_a.update({(c1, c2, unit): value for unit, value in mine.items()})
            pooled_b.update({(c1, c2, unit): value for unit, value in theirs.items()})
        pairs[(c1, c2)] = SpanAgreementResult(
            f1={
                (kind, rule): span_f1(spans[c1][kind], spans[c2][kind], rule, tolerance=tolerance)
                for kind, rule in measures
            },
            source_alpha=alphas["source"],
            status_alpha=alphas["status"],
            matched_claims=len(matched),
            claim_count=same_claim_count(a, b),
        )
    if not pairs:
        return SpanAgreement(pairs={}, pooled=None, mean_f1=dict.fromkeys(measures))
    results = list(pairs.values())
    same = sum(r.claim_count.same for r in results)
    n = sum(r.claim_count.n for r in results)
    mean_f1 = {}
    for m in measures:
        defined = [r.f1[m].f1 for r in results if r.f1[m].f1 is not None]
        mean_f1[m] = sum(defined) / len(defined) if defined else None
    return SpanAgreement(
        pairs=pairs,
        pooled=SpanAgreementResult(
            f1={m: reduce(operator.add, (r.f1[m] for r in results)) for m in measures},
            source_alpha=krippendorff_alpha_nominal(dict(enumerate(pooled["source"]))),
            status_alpha=krippendorff_alpha_nominal(dict(enumerate(pooled["status"]))),
            matched_claims=sum(r.matched_claims for r in results),
            claim_count=ClaimCountResult(same / n if n else None, same, n),
        ),
        mean_f1=mean_f1,
    )
