"""Measure attribution suggestions on the hand-written dev set: source, spans, false suggestions.

Run from the repo root:
  .venv/bin/python bench/attribution.py                 # tables for dev and heldout
  .venv/bin/python bench/attribution.py --write         # ... into docs/attribution.md
  .venv/bin/python bench/attribution.py --errors        # the misses of the dev part
  .venv/bin/python bench/attribution.py --check FILE..  # validate data files
  .venv/bin/python bench/attribution.py --languages     # language detectors compared

The data (tests/data/attribution/, format in its README.md) is written by the project: news
style, invented. `dev/` is what the rules were tuned on; `heldout/` was written in the same
session by other hands and is only ever scored, never read for tuning. Scoring lives here and
tests/test_attribution_corpus.py imports it, so the test and the table share one definition.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make `claims` importable
    sys.path.insert(0, str(ROOT))

from claims.attribution import (  # noqa: E402
    SourceEntry,
    SourceMatcher,
    Suggestion,
    paragraph_starts,
)
from claims.segmentation import SENTENCE, segment  # noqa: E402

DATA = ROOT / "tests" / "data" / "attribution"
TAXONOMY = ROOT / "claims" / "demo" / "sources.json"
DOC_PATH = ROOT / "docs" / "attribution.md"
SPLITS = ("dev", "heldout")
LANGS = ("en", "ru", "uk")
KINDS = frozenset(
    "government military emergency head_of_state unnamed_officials media social_media "
    "international individual".split()
)


# --- the data --------------------------------------------------------------------------------


@dataclass(frozen=True)
class GoldLabel:
    sentence: str
    attributed: bool
    source: str | None = None  # taxonomy name
    new_source: dict | None = None  # {"name", "kind", "side"} when the speaker is not in it
    mention: str = ""
    cue: str = ""
    content: str = ""
    pattern: str = ""


@dataclass(frozen=True)
class GoldArticle:
    id: str
    lang: str
    format: str
    body: str
    labels: tuple[GoldLabel, ...]
    split: str


def taxonomy() -> list[SourceEntry]:
    """The starter taxonomy, numbered 1..N in file order like a fresh database."""
    data = json.loads(TAXONOMY.read_text(encoding="utf-8"))
    return [
        SourceEntry(i, d["name"], d["kind"], tuple(d.get("aliases", ())), d.get("side", ""))
        for i, d in enumerate(data, start=1)
    ]


def _label(raw: dict) -> GoldLabel:
    return GoldLabel(
        sentence=raw["sentence"],
        attributed=raw.get("attributed", True),
        source=raw.get("source"),
        new_source=raw.get("new_source"),
        mention=raw.get("mention") or "",
        cue=raw.get("cue") or "",
        content=raw.get("content") or "",
        pattern=raw.get("pattern", ""),
    )


def load(paths: Iterable[Path]) -> list[GoldArticle]:
    articles = []
    for path in paths:
        split = path.parent.name
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            raw = json.loads(line)
            labels = tuple(_label(label) for label in raw.get("labels", ()))
            articles.append(
                GoldArticle(
                    raw["id"], raw["lang"], raw.get("format", ""), raw["body"], labels, split
                )
            )
    return articles


def split_files(split: str) -> list[Path]:
    return sorted((DATA / split).glob("*.jsonl"))


def check(path: Path, names: set[str]) -> list[str]:
    """Problems of one data file, as messages naming the article and the sentence."""
    problems: list[str] = []
    try:
        articles = load([path])
    except (json.JSONDecodeError, KeyError) as exc:
        return [f"{path}: {exc}"]
    for article in articles:
        if article.lang not in LANGS:
            problems.append(f"{article.id}: lang {article.lang!r} not one of {LANGS}")
        for label in article.labels:
            where = f"{article.id}: {label.sentence[:60]!r}"
            if label.sentence not in article.body:
                problems.append(f"{where}: sentence not in body")
            if not label.attributed:
                continue
            if label.source is not None and label.source not in names:
                problems.append(f"{where}: source {label.source!r} not in the taxonomy")
            if label.source is None:
                new = label.new_source or {}
                if not new.get("name"):
                    problems.append(f"{where}: source null needs new_source.name")
                elif new.get("kind") not in KINDS:
                    problems.append(f"{where}: new_source.kind {new.get('kind')!r} unknown")
            for part in ("mention", "cue", "content"):
                text = getattr(label, part)
                if text and text not in label.sentence:
                    problems.append(f"{where}: {part} {text!r} not in the sentence")
    return problems


# --- scoring ---------------------------------------------------------------------------------

_TRIM = " \t\n,.;:!?\"'\u201c\u201d\u2018\u2019\u00ab\u00bb\u2014\u2013-"


def _trimmed(text: str, span: tuple[int, int]) -> tuple[int, int]:
    start, end = span
    while start < end and text[start] in _TRIM:
        start += 1
    while end > start and text[end - 1] in _TRIM:
        end -= 1
    return start, end


def _words(name: str) -> list[str]:
    words = re.findall(r"\w+", name.casefold())
    return words[1:] if words[:1] == ["the"] else words


def _same_word(a: str, b: str) -> bool:
    """Equal up to an inflected ending: "Ивана" ~ "Иван", "Коваля" ~ "Коваль"."""
    common = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        common += 1
    return a == b or common >= max(3, min(len(a), len(b)) - 2)


def same_name(gold: str, suggested: str) -> bool:
    """A suggested new source names the gold speaker: every gold word is there (inflection
    allowed), and at most three words more ("Kharkiv governor Oleh Kovalenko")."""
    want, got = _words(gold), _words(suggested)
    if not want or len(got) > len(want) + 3:
        return False
    return all(any(_same_word(w, g) for g in got) for w in want)


@dataclass
class Tally:
    attributed: int = 0
    source_ok: int = 0
    claim_found: int = 0
    spans: Counter = field(default_factory=Counter)  # "<part>_n", "<part>_exact", ...
    plain: int = 0  # sentences with no attribution (lookalikes and narrative)
    plain_false: int = 0
    lookalikes: int = 0
    lookalike_false: int = 0

    def add(self, other: Tally) -> None:
        for name in ("attributed", "source_ok", "claim_found", "plain", "plain_false"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.lookalikes += other.lookalikes
        self.lookalike_false += other.lookalike_false
        self.spans.update(other.spans)


@dataclass(frozen=True)
class Row:
    """One scored sentence: what the data says and what was suggested."""

    article: GoldArticle
    text: str
    gold: GoldLabel | None
    got: Suggestion
    source_ok: bool
    names: dict[int, str]
    shift: int = 0  # where the labelled sentence starts, relative to the segment

    @property
    def suggested(self) -> str:
        if self.got.source_id is not None:
            return self.names[self.got.source_id]
        if self.got.new_source is not None:
            return f"new: {self.got.new_source.name}"
        return "-"


def _has_source(got: Suggestion) -> bool:
    return got.source_id is not None or got.new_source is not None


def score_article(
    article: GoldArticle, matcher: SourceMatcher, ids: dict[str, int], names: dict[int, str]
) -> list[Row]:
    segments = [s for s in segment(article.body) if s.kind == SENTENCE]
    spans = [(s.start, s.end) for s in segments]
    got = matcher.suggest([s.text for s in segments], paragraph_starts(article.body, spans))
    by_segment: dict[int, GoldLabel] = {}
    for label in article.labels:
        # the sentence segment sharing most characters with the labelled sentence (a dateline
        # split off its first sentence leaves the label on the sentence)
        start = article.body.find(label.sentence)
        end = start + len(label.sentence)
        overlaps = [(min(end, s.end) - max(start, s.start), i) for i, s in enumerate(segments)]
        best, i = max(overlaps, default=(0, -1))
        if best > 0:
            by_segment.setdefault(i, label)
    rows = []
    for i, s in enumerate(segments):
        gold = by_segment.get(i)
        ok = False
        if gold is not None and gold.attributed:
            if gold.source is not None:
                ok = got[i].source_id == ids[gold.source]
            elif gold.new_source and got[i].source_id is None and got[i].new_source:
                ok = same_name(gold.new_source["name"], got[i].new_source.name)
        shift = article.body.find(gold.sentence) - s.start if gold is not None else 0
        rows.append(Row(article, s.text, gold, got[i], ok, names, shift))
    return rows


def _span_scores(row: Row) -> Counter:
    out: Counter = Counter()
    gold, got = row.gold, row.got
    assert gold is not None
    sentence = gold.sentence
    for part in ("mention", "cue", "content"):
        text = getattr(gold, part)
        if not text:
            continue
        out[f"{part}_n"] += 1
        start = sentence.find(text) + row.shift  # into the segment's coordinates
        span = (max(0, start), min(len(row.text), start + len(text)))
        want = _trimmed(row.text, span) if span[1] > span[0] else (0, 0)
        span = getattr(got, f"{part}_span")
        if span is None:
            continue
        have = _trimmed(row.text, span)
        if have == want:
            out[f"{part}_exact"] += 1
        if have[0] < want[1] and want[0] < have[1]:
            out[f"{part}_overlap"] += 1
    return out


def tally(rows: Iterable[Row]) -> Tally:
    t = Tally()
    for row in rows:
        if row.gold is not None and row.gold.attributed:
            t.attributed += 1
            t.source_ok += row.source_ok
            t.claim_found += row.got.is_claim
            t.spans.update(_span_scores(row))
        else:
            t.plain += 1
            t.plain_false += _has_source(row.got)
            if row.gold is not None:
                t.lookalikes += 1
                t.lookalike_false += _has_source(row.got)
    return t


def score(articles: Sequence[GoldArticle], entries: Sequence[SourceEntry]) -> list[Row]:
    matcher = SourceMatcher(entries)
    ids = {e.name: e.id for e in entries}
    names = {e.id: e.name for e in entries}
    rows: list[Row] = []
    for article in articles:
        rows.extend(score_article(article, matcher, ids, names))
    return rows


# --- reporting -------------------------------------------------------------------------------


def _pct(num: int, den: int) -> str:
    return f"{100 * num / den:.1f}" if den else "—"


def _line(label: str, t: Tally) -> str:
    s = t.spans
    cells = [
        label,
        str(t.attributed),
        _pct(t.source_ok, t.attributed),
        _pct(t.claim_found, t.attributed),
        *(
            f"{_pct(s[f'{p}_exact'], s[f'{p}_n'])} / {_pct(s[f'{p}_overlap'], s[f'{p}_n'])}"
            for p in ("mention", "cue", "content")
        ),
        str(t.plain),
        _pct(t.plain_false, t.plain),
        _pct(t.lookalike_false, t.lookalikes),
    ]
    return "| " + " | ".join(cells) + " |"


HEADER = (
    "| part | attributed | source right % | claim found % | mention exact / overlap % "
    "| cue exact / overlap % | content exact / overlap % | not attributed | false suggestion % "
    "| of lookalikes % |\n|" + " --- |" * 10
)


def report(rows_by_split: dict[str, list[Row]]) -> str:
    out = ["### By language\n", HEADER]
    for split in SPLITS:
        rows = rows_by_split.get(split, [])
        for lang in LANGS:
            out.append(_line(f"{split} {lang}", tally(r for r in rows if r.article.lang == lang)))
        out.append(_line(f"**{split} all**", tally(rows)))
    out += ["", "### By pattern (dev + heldout, attributed and lookalike sentences)\n", HEADER]
    patterns: dict[str, list[Row]] = defaultdict(list)
    for split in SPLITS:
        for row in rows_by_split.get(split, []):
            if row.gold is not None:
                patterns[f"{row.gold.pattern or '?'} ({split})"].append(row)
    for name in sorted(patterns):
        out.append(_line(name, tally(patterns[name])))
    out += ["", "### By format\n", HEADER]
    formats: dict[str, list[Row]] = defaultdict(list)
    for split in SPLITS:
        for row in rows_by_split.get(split, []):
            formats[f"{row.article.format} ({split})"].append(row)
    for name in sorted(formats):
        out.append(_line(name, tally(formats[name])))
    return "\n".join(out)


def errors(rows: Iterable[Row]) -> str:
    out = []
    for row in rows:
        gold = row.gold
        if gold is not None and gold.attributed and not row.source_ok:
            want = gold.source or f"new: {(gold.new_source or {}).get('name')}"
            out.append(
                f"MISS {row.article.id} [{gold.pattern}] want {want!r} got {row.suggested!r}"
                f" cue={row.got.cue!r}\n     {row.text}"
            )
        elif (gold is None or not gold.attributed) and _has_source(row.got):
            tag = gold.pattern if gold else "narrative"
            out.append(
                f"FALSE {row.article.id} [{tag}] got {row.suggested!r} cue={row.got.cue!r}"
                f"\n     {row.text}"
            )
    return "\n".join(out)


# --- language detectors and lemmatisers, measured on the same data ----------------------------


def _detectors() -> dict[str, object]:
    """name -> text -> "en"/"ru"/"uk" for each detector installed (requirements-bench.txt)."""
    from claims.attribution import language

    found: dict[str, object] = {"claimdesk (script letters)": language.detect}
    try:
        import py3langid

        py3langid.set_languages(["en", "ru", "uk"])
        found["py3langid (en/ru/uk)"] = lambda text: py3langid.classify(text)[0]
    except ImportError:
        pass
    try:
        from lingua import Language, LanguageDetectorBuilder

        codes = {Language.ENGLISH: "en", Language.RUSSIAN: "ru", Language.UKRAINIAN: "uk"}
        detector = LanguageDetectorBuilder.from_languages(*codes).build()

        def lingua_detect(text: str) -> str:
            found_language = detector.detect_language_of(text)
            return codes.get(found_language, "en")

        found["lingua (en/ru/uk)"] = lingua_detect
    except ImportError:
        pass
    return found


def languages_report(articles: Sequence[GoldArticle]) -> str:
    """Accuracy on whole articles and on single sentences, and time per sentence."""
    sentences = [(a.lang, s.text) for a in articles for s in segment(a.body) if s.kind == SENTENCE]
    lines = [
        "| detector | articles right | sentences right | µs per sentence |",
        "| --- | --- | --- | --- |",
    ]
    for name, detect in _detectors().items():
        right_articles = sum(detect(a.body) == a.lang for a in articles)
        started = time.perf_counter()
        right_sentences = sum(detect(text) == lang for lang, text in sentences)
        per = (time.perf_counter() - started) / max(len(sentences), 1) * 1e6
        lines.append(
            f"| {name} | {right_articles}/{len(articles)} | "
            f"{right_sentences}/{len(sentences)} ({_pct(right_sentences, len(sentences))} %) "
            f"| {per:.0f} |"
        )
    return "\n".join(lines)


def _simplemma_analyse(word: str, lang: str) -> tuple[str, str, str, bool, bool, str]:
    """simplemma in place of pymorphy3: lemma only, no part of speech, case or name tags."""
    import simplemma

    if not any("\u0400" <= ch <= "\u04ff" for ch in word):
        return word.lower(), "", "", False, False, ""
    return simplemma.lemmatize(word, lang=lang).lower(), "", "", False, False, ""


def lemmatisers_report(articles: Sequence[GoldArticle], entries: Sequence[SourceEntry]) -> str:
    """Russian and Ukrainian: taxonomy names found in the sentences that name them (recall of
    the gold source among the sentence's matches), and source accuracy, per lemmatiser."""
    from claims.attribution import lemmas

    slavic = [a for a in articles if a.lang in ("ru", "uk")]
    by_name = {e.name: e for e in entries}
    real = lemmas.analyse
    options = {
        "pymorphy3 (ru/uk dictionaries)": real,
        "simplemma": _simplemma_analyse,
        "none (lowercase only)": lambda word, lang: (word.lower(), "", "", False, False, ""),
    }
    lines = [
        "| lemmatiser | taxonomy names found | source right % (ru+uk) | ms per article |",
        "| --- | --- | --- | --- |",
    ]
    for name, analyse in options.items():
        lemmas.analyse = analyse
        try:
            matcher = SourceMatcher(entries)
            found = total = 0
            for article in slavic:
                for label in article.labels:
                    if label.attributed and label.source in by_name:
                        total += 1
                        hits = matcher.find(label.sentence, article.lang)
                        found += any(e.name == label.source for _, _, e in hits)
            started = time.perf_counter()
            t = tally(score(slavic, entries))
            per = (time.perf_counter() - started) / max(len(slavic), 1) * 1000
        finally:
            lemmas.analyse = real
        lines.append(
            f"| {name} | {found}/{total} ({_pct(found, total)} %) | "
            f"{_pct(t.source_ok, t.attributed)} | {per:.1f} |"
        )
    return "\n".join(lines)


def _write(section: str, name: str = "attribution") -> None:
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    doc = DOC_PATH.read_text(encoding="utf-8")
    head, _, rest = doc.partition(start)
    _, _, tail = rest.partition(end)
    DOC_PATH.write_text(f"{head}{start}\n{section}\n{end}{tail}", encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", nargs="+", type=Path, metavar="FILE")
    parser.add_argument("--errors", action="store_true", help="print the dev part's misses")
    parser.add_argument("--write", action="store_true", help="update docs/attribution.md")
    parser.add_argument(
        "--languages", action="store_true", help="compare language detectors and lemmatisers"
    )
    args = parser.parse_args(argv)
    entries = taxonomy()
    if args.check:
        names = {e.name for e in entries}
        problems = [p for path in args.check for p in check(path, names)]
        for path in args.check:
            arts = load([path])
            labels = [label for a in arts for label in a.labels]
            counts = Counter((label.attributed, label.pattern) for label in labels)
            print(
                f"{path}: {len(arts)} articles, "
                f"{sum(label.attributed for label in labels)} attributed, "
                f"{sum(not label.attributed for label in labels)} lookalikes"
            )
            for (attributed, pattern), n in sorted(counts.items()):
                print(f"  {'attr' if attributed else 'look'} {pattern}: {n}")
        print("\n".join(problems) or "no problems")
        return 1 if problems else 0
    if args.languages:
        everything = load([p for split in (*SPLITS, "demo") for p in split_files(split)])
        section = "#### Language\n\n" + languages_report(everything)
        section += "\n\n#### Lemmatiser\n\n" + lemmatisers_report(everything, entries)
        print(section)
        if args.write:
            _write(section, "languages")
        return 0
    started = time.perf_counter()
    rows = {split: score(load(split_files(split)), entries) for split in SPLITS}
    elapsed = time.perf_counter() - started
    if args.errors:
        print(errors(rows["dev"]))
        return 0
    section = report(rows)
    print(section)
    print(f"\n{sum(map(len, rows.values()))} sentences scored in {elapsed:.2f} s")
    if args.write:
        _write(section)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
