"""The hand-written dev set (tests/data/attribution): valid, and the suggestions hold on it.

The floors are for the tuned part only; the untouched part is measured, not asserted (its
figures are in docs/attribution.md). Scoring is bench/attribution.py's, shared with the doc.
"""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

import attribution as bench

from claims.attribution import language

ENTRIES = bench.taxonomy()
ALL_FILES = [p for split in (*bench.SPLITS, "demo") for p in bench.split_files(split)]


@pytest.fixture(scope="module")
def dev_rows():
    return bench.score(bench.load(bench.split_files("dev")), ENTRIES)


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_data_file_is_valid(path: Path) -> None:
    assert bench.check(path, {e.name for e in ENTRIES}) == []


def test_the_dev_set_is_as_large_as_promised() -> None:
    labels = [
        (article.lang, label)
        for split in bench.SPLITS
        for article in bench.load(bench.split_files(split))
        for label in article.labels
    ]
    attributed = [lang for lang, label in labels if label.attributed]
    assert attributed.count("en") >= 250
    assert attributed.count("ru") >= 75
    assert attributed.count("uk") >= 75
    assert sum(not label.attributed for _, label in labels) >= 150


def test_every_article_language_is_detected() -> None:
    for path in ALL_FILES:
        for article in bench.load([path]):
            assert language.detect(article.body) == article.lang, article.id


@pytest.mark.parametrize("lang", ["ru", "uk"])
def test_demo_article_gets_every_attributed_sentence_right(lang: str) -> None:
    rows = bench.score(bench.load([bench.DATA / "demo" / f"{lang}.jsonl"]), ENTRIES)
    tally = bench.tally(rows)
    assert tally.attributed >= 10
    assert tally.source_ok == tally.attributed, bench.errors(rows)
    assert tally.plain_false == 0, bench.errors(rows)


# Floors a little under today's scores, to catch a regression. The Russian one went from 0.80
# to 0.78 when the blind batch ru-c (first score 54 %) joined the tuned part.
@pytest.mark.parametrize(("lang", "floor"), [("en", 0.78), ("ru", 0.78), ("uk", 0.84)])
def test_source_right_on_the_tuned_part(dev_rows, lang: str, floor: float) -> None:
    tally = bench.tally(r for r in dev_rows if r.article.lang == lang)
    assert tally.source_ok / tally.attributed >= floor


def test_few_false_suggestions_on_the_tuned_part(dev_rows) -> None:
    tally = bench.tally(dev_rows)
    assert tally.plain_false / tally.plain <= 0.03


def test_spans_overlap_the_gold_ones_on_the_tuned_part(dev_rows) -> None:
    spans = bench.tally(dev_rows).spans
    for part in ("mention", "cue", "content"):
        assert spans[f"{part}_overlap"] / spans[f"{part}_n"] >= 0.85, part


def test_same_name_allows_inflection_and_a_role() -> None:
    assert bench.same_name("Иван Петров", "Ивана Петрова")
    assert bench.same_name("Oleh Kovalenko", "Kharkiv governor Oleh Kovalenko")
    assert not bench.same_name("Oleh Kovalenko", "Oleh Kovalchuk")
    assert not bench.same_name("Ukrenergo", "Ukraine's national grid operator called Ukrenergo")
