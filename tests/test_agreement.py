"""Agreement statistics: textbook values, reference implementations on random data, edge cases."""

import math
import random
import subprocess
import sys
from pathlib import Path

import pytest

from claims.agreement import (
    AccuracyResult,
    ConfusionMatrix,
    KappaResult,
    accuracy_against_gold,
    cohen_kappa,
    confusion_matrix,
    krippendorff_alpha_nominal,
    paired,
    pairwise_kappas,
)

ROOT = Path(__file__).resolve().parent.parent
N = None  # missing
SEEDS = range(400)
TOLERANCE = 1e-9


def table(rows: dict[str, list]) -> dict[str, dict[int, object]]:
    """Coder -> list of labels (one per unit, None = missing) as coder -> unit -> label."""
    return {coder: dict(enumerate(labels)) for coder, labels in rows.items()}


def from_counts(cells: dict[tuple[str, str], int]) -> tuple[list[str], list[str]]:
    """Two aligned rating lists from a 2x2 (or larger) table of counts."""
    a, b = [], []
    for (x, y), count in cells.items():
        a += [x] * count
        b += [y] * count
    return a, b


# --- Textbook values -------------------------------------------------------------------------


def test_kappa_wikipedia_worked_example():
    # Wikipedia, "Cohen's kappa", simple example: 50 proposals, 20 yes/yes, 5 yes/no,
    # 10 no/yes, 15 no/no: p_o = 0.7, p_e = 0.5, kappa = 0.4.
    a, b = from_counts({("yes", "yes"): 20, ("yes", "no"): 5, ("no", "yes"): 10, ("no", "no"): 15})
    assert cohen_kappa(a, b) == pytest.approx(0.4, abs=1e-12)


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        # Wikipedia, "Cohen's kappa", same percentages but different numbers: both p_o = 0.6,
        # kappa 0.1304 (= 0.06 / 0.46) and 0.2593 (= 0.14 / 0.54).
        ({("y", "y"): 45, ("y", "n"): 15, ("n", "y"): 25, ("n", "n"): 15}, 3 / 23),
        ({("y", "y"): 25, ("y", "n"): 35, ("n", "y"): 5, ("n", "n"): 35}, 7 / 27),
    ],
)
def test_kappa_wikipedia_same_agreement_different_kappa(cells, expected):
    a, b = from_counts(cells)
    assert cohen_kappa(a, b) == pytest.approx(expected, abs=1e-12)
    assert round(cohen_kappa(a, b), 4) in {0.1304, 0.2593}


def test_alpha_krippendorff_2011_nominal_with_missing_values():
    # Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", C: nominal data,
    # 4 observers x 12 units, missing values; alpha = 0.743 (exactly 113/152). Unit 12 has a
    # single value and is unpairable.
    data = table(
        {
            "A": [1, 2, 3, 3, 2, 1, 4, 1, 2, N, N, N],
            "B": [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, N, 3],
            "C": [N, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, N],
            "D": [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, N],
        }
    )
    alpha = krippendorff_alpha_nominal(data)
    assert round(alpha, 3) == 0.743
    assert alpha == pytest.approx(113 / 152, abs=1e-12)


def test_alpha_krippendorff_2011_binary_two_observers():
    # Krippendorff (2011), A: binary data, two observers, 10 units; alpha = 0.095 (= 2/21).
    data = table({"A": [0, 1, 0, 0, 0, 0, 0, 0, 1, 0], "B": [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]})
    alpha = krippendorff_alpha_nominal(data)
    assert round(alpha, 3) == 0.095
    assert alpha == pytest.approx(2 / 21, abs=1e-12)


def test_alpha_wikipedia_example():
    # Wikipedia, "Krippendorff's alpha": 3 coders x 15 units, nominal alpha = 0.691 (= 56/81).
    data = table(
        {
            "A": [N, N, N, N, N, 3, 4, 1, 2, 1, 1, 3, 3, N, 3],
            "B": [1, N, 2, 1, 3, 3, 4, 3, N, N, N, N, N, N, N],
            "C": [N, N, 2, 1, 3, 4, 4, N, 2, 1, 1, 3, 3, N, 4],
        }
    )
    alpha = krippendorff_alpha_nominal(data)
    assert round(alpha, 3) == 0.691
    assert alpha == pytest.approx(56 / 81, abs=1e-12)


# --- Reference implementations on random data ------------------------------------------------

LABEL_SETS = [
    [True, False],
    ["claim", "not_claim", "unsure"],
    [1, 2, 3, 4, 5],
    ["verified", "false", "misleading", "unverifiable", "pending", "disputed"],
]


def random_ratings(
    rng: random.Random, n_coders: int, n_units: int
) -> dict[str, dict[int, object]]:
    """Random labels from a few categories, with missing values both as None and as absent keys."""
    labels = rng.choice(LABEL_SETS)[: rng.randint(1, 6)]  # sometimes a single category
    missing = rng.choice([0.0, 0.1, 0.3, 0.6])
    data = {}
    for c in range(n_coders):
        coder = {}
        for u in range(n_units):
            if rng.random() >= missing:
                coder[u] = rng.choice(labels)
            elif rng.random() < 0.5:
                coder[u] = None
        data[f"coder{c}"] = coder
    return data


@pytest.mark.filterwarnings("ignore")
def test_kappa_matches_scikit_learn_on_random_data():
    metrics = pytest.importorskip("sklearn.metrics")
    rng = random.Random(20240601)
    compared = undefined = 0
    worst = 0.0
    for _ in SEEDS:
        data = random_ratings(rng, rng.randint(2, 4), rng.randint(1, 60))
        for (c1, c2), result in pairwise_kappas(data).items():
            a, b = paired(data[c1], data[c2])
            assert result.n == len(a)
            if not a:
                assert result == KappaResult(None, 0, None)
                undefined += 1
                continue
            expected = metrics.cohen_kappa_score(a, b)
            if math.isnan(expected):
                assert result.kappa is None
                undefined += 1
            else:
                worst = max(worst, abs(result.kappa - expected))
                compared += 1
            assert result.agreement == pytest.approx(metrics.accuracy_score(a, b), abs=1e-12)
    assert worst <= TOLERANCE
    assert compared > 500
    assert undefined > 10  # the degenerate branches were exercised too


@pytest.mark.filterwarnings("ignore")
def test_cohen_kappa_on_sequences_with_missing_matches_scikit_learn():
    metrics = pytest.importorskip("sklearn.metrics")
    rng = random.Random(7)
    for _ in SEEDS:
        n = rng.randint(1, 50)
        labels = rng.choice(LABEL_SETS)
        a = [rng.choice([*labels, None]) for _ in range(n)]
        b = [rng.choice([*labels, None]) for _ in range(n)]
        both = [(x, y) for x, y in zip(a, b, strict=True) if x is not None and y is not None]
        kappa = cohen_kappa(a, b)
        expected = (
            metrics.cohen_kappa_score([x for x, _ in both], [y for _, y in both])
            if both
            else math.nan
        )
        if math.isnan(expected):
            assert kappa is None
        else:
            assert abs(kappa - expected) <= TOLERANCE


@pytest.mark.filterwarnings("ignore")
def test_alpha_matches_krippendorff_package_on_random_data():
    krippendorff = pytest.importorskip("krippendorff")
    np = pytest.importorskip("numpy")
    rng = random.Random(12345)
    compared = undefined = 0
    worst = 0.0
    for _ in SEEDS:
        n_coders, n_units = rng.randint(1, 6), rng.randint(1, 40)
        data = random_ratings(rng, n_coders, n_units)
        # The package wants a coders x units float matrix, np.nan for missing: code labels.
        codes: dict[object, int] = {}
        matrix = np.full((n_coders, n_units), np.nan)
        for row, coder in enumerate(data.values()):
            for unit, label in coder.items():
                if label is not None:
                    matrix[row, unit] = codes.setdefault(label, len(codes))
        ours = krippendorff_alpha_nominal(data)
        try:
            expected = krippendorff.alpha(reliability_data=matrix, level_of_measurement="nominal")
        except ValueError:  # "more than one value in the domain" / "at least two coders"
            expected = math.nan
        if math.isnan(expected):
            assert ours is None
            undefined += 1
        else:
            worst = max(worst, abs(ours - expected))
            compared += 1
    assert worst <= TOLERANCE
    assert compared > 250
    assert undefined > 10


@pytest.mark.filterwarnings("ignore")
def test_confusion_matrix_matches_scikit_learn_on_random_data():
    metrics = pytest.importorskip("sklearn.metrics")
    rng = random.Random(99)
    for _ in range(100):
        labels = rng.choice(LABEL_SETS)
        n = rng.randint(1, 50)
        a = [rng.choice(labels) for _ in range(n)]
        b = [rng.choice(labels) for _ in range(n)]
        matrix = confusion_matrix(a, b)
        assert matrix.labels == sorted(set(a) | set(b))
        expected = metrics.confusion_matrix(a, b, labels=matrix.labels)
        assert matrix.counts == expected.tolist()
        assert matrix.n == n


# --- Degenerate cases --------------------------------------------------------------------------


def test_one_category_only_is_undefined_not_perfect():
    data = table({"A": ["x", "x", "x"], "B": ["x", "x", "x"], "C": ["x", N, "x"]})
    assert cohen_kappa(list(data["A"].values()), list(data["B"].values())) is None
    assert pairwise_kappas(data)[("A", "B")] == KappaResult(None, 3, 1.0)
    assert pairwise_kappas(data)[("A", "C")] == KappaResult(None, 2, 1.0)
    assert krippendorff_alpha_nominal(data) is None
    assert confusion_matrix(list(data["A"].values()), list(data["B"].values())) == (
        ConfusionMatrix(["x"], [[3]])
    )
    assert accuracy_against_gold(data, {0: "x", 1: "x", 2: "x"})["A"] == AccuracyResult(1.0, 3)


def test_one_category_among_pairable_values_only():
    # Two categories overall, but the second appears only in an unpairable unit.
    data = table({"A": ["x", "x", "y"], "B": ["x", "x", N]})
    assert krippendorff_alpha_nominal(data) is None


def test_one_annotator():
    data = table({"A": ["x", "y", "x"]})
    assert pairwise_kappas(data) == {}
    assert krippendorff_alpha_nominal(data) is None  # no unit has two values
    assert accuracy_against_gold(data, {0: "x", 1: "x", 2: "x"}) == {"A": AccuracyResult(2 / 3, 3)}


def test_no_annotators():
    assert pairwise_kappas({}) == {}
    assert krippendorff_alpha_nominal({}) is None
    assert accuracy_against_gold({}, {0: "x"}) == {}


def test_all_missing():
    data = table({"A": [N, N], "B": [N, N]})
    assert cohen_kappa([N, N], [N, N]) is None
    assert cohen_kappa([], []) is None
    assert pairwise_kappas(data) == {("A", "B"): KappaResult(None, 0, None)}
    assert krippendorff_alpha_nominal(data) is None
    assert confusion_matrix([N, N], [N, N]) == ConfusionMatrix([], [])
    assert accuracy_against_gold(data, {0: N, 1: "x"}) == {
        "A": AccuracyResult(None, 0),
        "B": AccuracyResult(None, 0),
    }


def test_no_overlapping_items():
    data = {"A": {1: "x", 2: "y"}, "B": {3: "x", 4: "y"}, "C": {1: N, 5: "y"}}
    assert pairwise_kappas(data) == {
        ("A", "B"): KappaResult(None, 0, None),
        ("A", "C"): KappaResult(None, 0, None),
        ("B", "C"): KappaResult(None, 0, None),
    }
    assert krippendorff_alpha_nominal(data) is None
    assert cohen_kappa(["x", N], [N, "y"]) is None
    assert accuracy_against_gold(data, {9: "x"})["A"] == AccuracyResult(None, 0)


def test_perfect_agreement():
    data = table({"A": ["x", "y", "z", "x"], "B": ["x", "y", "z", "x"], "C": ["x", N, "z", N]})
    assert all(r.kappa == 1.0 and r.agreement == 1.0 for r in pairwise_kappas(data).values())
    assert krippendorff_alpha_nominal(data) == 1.0


def test_perfect_disagreement():
    # Swapped labels: observed agreement 0 against expected 0.5 -> kappa -1.
    assert cohen_kappa(["x", "y", "x", "y"], ["y", "x", "y", "x"]) == -1.0
    # Alpha's floor depends on the sample: with 2 coders and N units all in disagreement
    # (balanced), alpha = -1 + 1/N.
    data = table({"A": ["x", "y", "x", "y"], "B": ["y", "x", "y", "x"]})
    assert krippendorff_alpha_nominal(data) == pytest.approx(-1 + 1 / 4, abs=1e-12)
    # Each rater constant on a different label: never agree, but no agreement was expected
    # by chance either, so kappa = 0 (scikit-learn agrees), not -1.
    assert cohen_kappa(["x", "x"], ["y", "y"]) == 0.0


def test_cohen_kappa_rejects_unaligned_sequences():
    with pytest.raises(ValueError, match="differ in length"):
        cohen_kappa(["x", "y"], ["x"])
    with pytest.raises(ValueError, match="differ in length"):
        confusion_matrix(["x"], [])


# --- Confusion matrix and accuracy on hand-made data --------------------------------------------


def test_confusion_matrix_small():
    annotator = ["verified", "false", "false", N, "pending", "verified", "false"]
    gold = ["verified", "false", "verified", "false", "pending", N, "pending"]
    matrix = confusion_matrix(annotator, gold)
    assert matrix.labels == ["false", "pending", "verified"]
    # rows: annotator, columns: gold
    assert matrix.counts == [
        [1, 1, 1],
        [0, 1, 0],
        [0, 0, 1],
    ]
    assert matrix.n == 5
    assert matrix.count("false", "verified") == 1
    assert matrix.count("verified", "false") == 0
    assert matrix.count("unknown", "false") == 0


def test_confusion_matrix_with_fixed_labels():
    # Rows and columns in the given order, including a category nobody used.
    matrix = confusion_matrix(["yes", "yes", "no"], ["yes", "no", "no"], labels=["yes", "no", "?"])
    assert matrix.labels == ["yes", "no", "?"]
    assert matrix.counts == [[1, 1, 0], [0, 1, 0], [0, 0, 0]]
    with pytest.raises(ValueError, match="'maybe' is not in labels"):
        confusion_matrix(["maybe"], [True], labels=[True, False])
    with pytest.raises(ValueError, match="duplicates"):
        confusion_matrix([True], [True], labels=[True, True])


def test_confusion_matrix_sorts_mixed_label_types():
    matrix = confusion_matrix([1, "a", 2], ["a", "a", 1])
    assert matrix.labels == [1, 2, "a"]  # by type name ("int" < "str"), then repr
    assert matrix.counts == [[0, 0, 1], [1, 0, 0], [0, 0, 1]]


def test_pairwise_kappas_and_accuracy_small():
    labels = {
        "ann": {1: "src_a", 2: "src_b", 3: "src_a", 4: "src_c", 5: None},
        "bob": {1: "src_a", 2: "src_a", 3: "src_a", 4: "src_c", 6: "src_b"},
        "cy": {2: "src_b", 4: "src_b"},
    }
    gold = {1: "src_a", 2: "src_b", 3: "src_b", 4: "src_c", 5: "src_a", 6: "src_b"}

    kappas = pairwise_kappas(labels)
    assert list(kappas) == [("ann", "bob"), ("ann", "cy"), ("bob", "cy")]
    # ann vs bob on units 1-4: agree on 3 of 4; ann a,b,a,c / bob a,a,a,c:
    # p_o = 3/4, p_e = (2*3 + 1*0 + 1*1) / 16 = 7/16, kappa = (12 - 7) / (16 - 7) = 5/9.
    assert kappas[("ann", "bob")].n == 4
    assert kappas[("ann", "bob")].agreement == 0.75
    assert kappas[("ann", "bob")].kappa == pytest.approx(5 / 9, abs=1e-12)
    # ann vs cy on units 2, 4: b/b, c/b -> p_o = 1/2, p_e = (1*2 + 1*0) / 4 = 1/2 -> kappa 0.
    assert kappas[("ann", "cy")] == KappaResult(0.0, 2, 0.5)

    assert accuracy_against_gold(labels, gold) == {
        "ann": AccuracyResult(3 / 4, 4),  # unit 5 unlabelled by ann; unit 3 wrong
        "bob": AccuracyResult(3 / 5, 5),  # units 1-4 and 6; units 2 and 3 wrong
        "cy": AccuracyResult(1 / 2, 2),
    }

    # Annotator-vs-gold confusion matrix via paired().
    mine, truth = paired(labels["bob"], gold)
    assert confusion_matrix(mine, truth).counts == [[1, 2, 0], [0, 1, 0], [0, 0, 1]]


def test_alpha_ignores_coder_identity_and_order():
    a = table({"A": ["x", "y", N, "x"], "B": ["x", "x", "y", "x"], "C": [N, "y", "y", N]})
    shuffled = {"C": a["C"], "A": dict(reversed(a["A"].items())), "B": a["B"]}
    assert krippendorff_alpha_nominal(a) == krippendorff_alpha_nominal(shuffled)


# --- Packaging -----------------------------------------------------------------------------------


def test_module_needs_neither_numpy_nor_django():
    code = (
        "import sys\n"
        "sys.modules['numpy'] = None\n"
        "sys.modules['django'] = None\n"
        "import claims.agreement as m\n"
        "print(m.krippendorff_alpha_nominal({'a': {1: 'x', 2: 'y'}, 'b': {1: 'x', 2: 'y'}}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "1.0"
