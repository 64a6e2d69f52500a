"""Agreement between annotators on nominal labels: kappa, alpha, confusion matrices, accuracy."""

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

from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from itertools import combinations

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
