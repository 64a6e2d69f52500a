"""Compare sentence splitters on the news gold set: exact-span P/R/F1 and throughput.

Run from the repo root:  .venv/bin/python bench/segmentation_compare.py [--write]

Scoring (`load_gold`, `score`) lives here and is imported by tests/test_segmentation.py, so the
test and the table use one definition. Third-party splitters are imported lazily: importing this
module needs nothing beyond the standard library and claims.segmentation.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make `claims` importable
    sys.path.insert(0, str(ROOT))

from claims.segmentation import CREDIT, DATELINE, segment  # noqa: E402

GOLD_PATH = ROOT / "tests" / "data" / "segmentation_gold.jsonl"
SEED_PATH = ROOT / "claims" / "demo" / "000_4c1d6ae57306abb2.txt"
DOC_PATH = ROOT / "docs" / "segmentation.md"
CORPUS_BYTES = 2_000_000

Span = tuple[int, int]


@dataclass(frozen=True)
class GoldDoc:
    id: str
    text: str
    spans: list[Span]  # expected segments, in order
    kinds: list[str]  # "sentence" / "credit" / "dateline", parallel to spans


@dataclass(frozen=True)
class Score:
    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def align(text: str, pieces: Iterable[str]) -> list[Span]:
    """Map segment strings back to (start, end) offsets in text, in order.

    Each piece is stripped and searched from the end of the previous one; a piece the
    library altered (so it is not in the text) is dropped and so counts as a miss.
    """
    spans: list[Span] = []
    cursor = 0
    for piece in pieces:
        piece = piece.strip()
        if not piece:
            continue
        pos = text.find(piece, cursor)
        if pos < 0:
            continue
        spans.append((pos, pos + len(piece)))
        cursor = pos + len(piece)
    return spans


def load_gold(path: Path = GOLD_PATH) -> list[GoldDoc]:
    """Read the gold JSONL; each object has id, text and ordered [kind, segment text] pairs."""
    docs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        obj = json.loads(line)
        kinds = [kind for kind, _ in obj["segments"]]
        spans = align(obj["text"], (seg for _, seg in obj["segments"]))
        if len(spans) != len(kinds):
            raise ValueError(f"gold {obj['id']}: a segment is not found verbatim in its text")
        docs.append(GoldDoc(obj["id"], obj["text"], spans, kinds))
    return docs


def score(predicted: Iterable[Span], gold: Iterable[Span]) -> Score:
    """Exact span match: a predicted (start, end) counts only if a gold segment has both."""
    pred, ref = set(predicted), set(gold)
    return Score(tp=len(pred & ref), fp=len(pred - ref), fn=len(ref - pred))


def score_ends(predicted: Iterable[Span], gold: Iterable[Span]) -> Score:
    """Boundary match: compares only the set of segment end offsets (laxer than spans)."""
    return score(((0, e) for _, e in predicted), ((0, e) for _, e in gold))


# --- candidates ----------------------------------------------------------------------------

Splitter = Callable[[str], list[Span]]


def _pysbd() -> Splitter:
    import pysbd

    seg = pysbd.Segmenter(language="en", clean=False)
    return lambda text: align(text, seg.segment(text))


def _syntok() -> Splitter:
    from syntok import segmenter

    def split(text: str) -> list[Span]:
        spans = []
        for paragraph in segmenter.analyze(text):
            for sentence in paragraph:
                tokens = list(sentence)
                # token.offset is exact; the sentence ends with its last token's value
                spans.append((tokens[0].offset, tokens[-1].offset + len(tokens[-1].value)))
        return spans

    return split


def _sentencex() -> Splitter:
    import sentencex

    return lambda text: align(text, sentencex.segment("en", text))


def _spacy() -> Splitter:
    import spacy

    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    return lambda text: align(text, (s.text for s in nlp(text).sents))


def _final() -> Splitter:
    return lambda text: [(s.start, s.end) for s in segment(text)]


CANDIDATES: list[tuple[str, str | None, Callable[[], Splitter]]] = [
    ("pysbd (raw)", "pysbd", _pysbd),
    ("syntok (raw)", "syntok", _syntok),
    ("sentencex (raw)", "sentencex", _sentencex),
    ("spaCy sentencizer (raw)", "spacy", _spacy),
    ("claims.segmentation.segment (final)", None, _final),
]


@dataclass
class Result:
    name: str
    version: str
    span: Score | None = None
    ends: Score | None = None
    sents_per_s: float = 0.0
    mb_per_s: float = 0.0
    error: str = ""


def build_corpus(gold: list[GoldDoc]) -> tuple[list[str], int]:
    """Repeat gold texts plus the seed article to >= CORPUS_BYTES; return docs and gold count."""
    base = [d.text for d in gold]
    base_count = sum(len(d.spans) for d in gold)
    if SEED_PATH.exists():
        seed = SEED_PATH.read_text(encoding="utf-8")
        base.append(seed)
        base_count += len(segment(seed))
    unit = sum(len(t.encode()) for t in base)
    copies = -(-CORPUS_BYTES // unit)
    return base * copies, base_count * copies


def run_candidate(
    name: str, dist: str | None, factory: Callable[[], Splitter], gold, corpus, corpus_sents
) -> Result:
    result = Result(name, "this repo")
    try:
        # PackageNotFoundError is an ImportError too: a missing library is reported, not raised.
        result.version = metadata.version(dist) if dist else "this repo"
        split = factory()
    except ImportError as exc:
        result.version = "-"
        result.error = f"not installed ({exc})"
        return result
    preds = [split(d.text) for d in gold]
    result.span = score(
        ((i, *s) for i, p in enumerate(preds) for s in p),
        ((i, *s) for i, d in enumerate(gold) for s in d.spans),
    )
    result.ends = score(
        ((i, e) for i, p in enumerate(preds) for _, e in p),
        ((i, e) for i, d in enumerate(gold) for _, e in d.spans),
    )
    nbytes = sum(len(t.encode()) for t in corpus)
    best = min(_timed(split, corpus) for _ in range(3))
    result.sents_per_s = corpus_sents / best
    result.mb_per_s = nbytes / best / 1e6
    return result


def _timed(split: Splitter, corpus: list[str]) -> float:
    start = time.perf_counter()
    for text in corpus:
        split(text)
    return time.perf_counter() - start


def final_errors(gold: list[GoldDoc]) -> list[str]:
    """Describe every gold document where the final splitter's spans or kinds differ."""
    lines = []
    for doc in gold:
        got = segment(doc.text)
        expected = list(zip(doc.spans, doc.kinds, strict=True))
        actual = [((s.start, s.end), s.kind) for s in got]
        if actual != expected:
            missing = [doc.text[a:b] for (a, b), _ in expected if ((a, b), _) not in actual]
            extra = [doc.text[a:b] for (a, b), _ in actual if ((a, b), _) not in expected]
            lines.append(f"- `{doc.id}`: expected {missing!r}, got {extra!r}")
    return lines


def machine() -> str:
    mem = "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return (
        f"{platform.machine()}, nproc={os.cpu_count()}, memory={mem}, "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}"
    )


def table(results: list[Result]) -> str:
    rows = [
        "| splitter | version | span P | span R | span F1 | end-boundary F1 "
        "| sentences/s | MB/s |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        if r.span is None or r.ends is None:
            rows.append(f"| {r.name} | {r.version} | {r.error} | | | | | |")
            continue
        rows.append(
            f"| {r.name} | {r.version} | {r.span.precision:.3f} | {r.span.recall:.3f} "
            f"| {r.span.f1:.3f} | {r.ends.f1:.3f} | {r.sents_per_s:,.0f} | {r.mb_per_s:.2f} |"
        )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"rewrite {DOC_PATH.name}")
    args = parser.parse_args(argv)

    gold = load_gold()
    corpus, corpus_sents = build_corpus(gold)
    results = [run_candidate(*c, gold, corpus, corpus_sents) for c in CANDIDATES]
    n_gold = sum(len(d.spans) for d in gold)
    n_credit = sum(k == CREDIT for d in gold for k in d.kinds)
    n_dateline = sum(k == DATELINE for d in gold for k in d.kinds)
    corpus_mb = sum(len(t.encode()) for t in corpus) / 1e6
    summary = (
        f"Gold: {len(gold)} documents, {n_gold} segments ({n_credit} credits, "
        f"{n_dateline} datelines). "
        f"Throughput corpus: {corpus_mb:.1f} MB ({corpus_sents:,} segments), best of 3.\n"
        f"Machine: {machine()}."
    )
    report = table(results)
    errors = final_errors(gold)
    print(summary, "", report, "", "Final splitter errors:", *(errors or ["- none"]), sep="\n")
    if args.write:
        write_doc(summary, report, errors)
        print(f"\nwrote {DOC_PATH.relative_to(ROOT)}")
    return 0


BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"


def write_doc(summary: str, report: str, errors: list[str]) -> None:
    """Replace the generated block of docs/segmentation.md; the prose around it is kept."""
    block = "\n".join(
        [
            BEGIN,
            summary.replace("\n", "  \n"),
            "",
            report,
            "",
            "Gold documents the final splitter still gets wrong:",
            "",
            *(errors or ["- none"]),
            END,
        ]
    )
    doc = DOC_PATH.read_text(encoding="utf-8") if DOC_PATH.exists() else f"{BEGIN}\n{END}\n"
    head, _, rest = doc.partition(BEGIN)
    _, _, tail = rest.partition(END)
    DOC_PATH.write_text(head + block + tail, encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
