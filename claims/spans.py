"""Claims as spans, compared: when two annotators' claims are the same claim, and when they agree.

Plain Python, no Django: review (which sentences disagree), agreement (span F1) and the
adjudication page use these rules, so that "agree" means one thing everywhere.

* A span is a half-open range of character offsets into the article body.
* Two claims of one sentence **match** when their content spans overlap; each claim matches at
  most one claim of the other label, the pairs with the largest overlap first (ties: the
  overlap of the cues, then the order the claims were made).
* Two matched claims **agree** when they name the same source (or are both unattributed), the
  same attribution type and the same status, and each of their spans (content, cue, source
  mention) starts and ends within ``TOLERANCE`` characters of the other's — a space or a
  quotation mark more or less is not a disagreement. An absent cue or mention agrees only with
  an absent one.
* Two labels agree when they hold equally many claims, every claim matches, and every match
  agrees. "Not a claim" is a label with no claims, so it agrees only with another such label.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

TOLERANCE = 2  # characters, at each end of a span


@dataclass(frozen=True, slots=True)
class Span:
    start: int
    end: int

    @classmethod
    def of(cls, start: int | None, end: int | None) -> Span | None:
        return None if start is None or end is None else cls(start, end)

    def overlap(self, other: Span | None) -> int:
        """Characters the two spans share (0 when disjoint or `other` is None)."""
        if other is None:
            return 0
        return max(0, min(self.end, other.end) - max(self.start, other.start))

    def near(self, other: Span | None, tolerance: int = TOLERANCE) -> bool:
        return (
            other is not None
            and abs(self.start - other.start) <= tolerance
            and abs(self.end - other.end) <= tolerance
        )


def _near(a: Span | None, b: Span | None, tolerance: int) -> bool:
    if a is None:
        return b is None
    return a.near(b, tolerance)


@dataclass(frozen=True, slots=True)
class ClaimSpans:
    """What review and agreement compare of a claim."""

    content: Span
    cue: Span | None = None
    mention: Span | None = None
    source_id: int | None = None
    attribution_type: str = ""
    status_id: int | None = None

    @classmethod
    def from_dict(cls, claim: Mapping[str, Any]) -> ClaimSpans:
        """From a claim as the services, snapshots and history hold it."""
        return cls(
            content=Span(claim["content_start"], claim["content_end"]),
            cue=Span.of(claim.get("cue_start"), claim.get("cue_end")),
            mention=Span.of(claim.get("mention_start"), claim.get("mention_end")),
            source_id=claim.get("source_id"),
            attribution_type=claim.get("attribution_type") or "",
            status_id=claim.get("status_id"),
        )

    @classmethod
    def from_claim(cls, claim: Any) -> ClaimSpans:
        """From a Claim row (or anything with its attributes)."""
        return cls(
            content=Span(claim.content_start, claim.content_end),
            cue=Span.of(claim.cue_start, claim.cue_end),
            mention=Span.of(claim.mention_start, claim.mention_end),
            source_id=claim.source_id,
            attribution_type=claim.attribution_type or "",
            status_id=claim.status_id,
        )

    @property
    def fields(self) -> tuple:
        return (self.source_id, self.attribution_type, self.status_id)


def claims_agree(a: ClaimSpans, b: ClaimSpans, tolerance: int = TOLERANCE) -> bool:
    """Same source, type and status, and every span within the tolerance (see the module)."""
    return (
        a.fields == b.fields
        and a.content.near(b.content, tolerance)
        and _near(a.cue, b.cue, tolerance)
        and _near(a.mention, b.mention, tolerance)
    )


@dataclass(frozen=True, slots=True)
class Matching:
    """The pairs of matched claims (indexes into the two lists) and the claims left alone."""

    pairs: list[tuple[int, int]]
    only_a: list[int]
    only_b: list[int]


def match_claims(a: Sequence[ClaimSpans], b: Sequence[ClaimSpans]) -> Matching:
    """Pair the claims of two labels by overlapping content, largest overlap first."""
    candidates = sorted(
        (
            (-x.content.overlap(y.content), -(x.cue.overlap(y.cue) if x.cue else 0), i, j)
            for i, x in enumerate(a)
            for j, y in enumerate(b)
            if x.content.overlap(y.content) > 0
        )
    )
    pairs: list[tuple[int, int]] = []
    used_a: set[int] = set()
    used_b: set[int] = set()
    for _, _, i, j in candidates:
        if i not in used_a and j not in used_b:
            pairs.append((i, j))
            used_a.add(i)
            used_b.add(j)
    pairs.sort()
    return Matching(
        pairs=pairs,
        only_a=[i for i in range(len(a)) if i not in used_a],
        only_b=[j for j in range(len(b)) if j not in used_b],
    )


def labels_agree(
    a: Sequence[ClaimSpans], b: Sequence[ClaimSpans], tolerance: int = TOLERANCE
) -> bool:
    """Two labels of one sentence agree: the same claims, claim by claim (see the module)."""
    if len(a) != len(b):
        return False
    matching = match_claims(a, b)
    if matching.only_a or matching.only_b:
        return False
    return all(claims_agree(a[i], b[j], tolerance) for i, j in matching.pairs)


def sentence_disagrees(labels: Iterable[Sequence[ClaimSpans]]) -> bool:
    """Whether any two of a sentence's labels disagree (every pair is compared: agreement
    within a tolerance is not transitive)."""
    return any(not labels_agree(a, b) for a, b in combinations(list(labels), 2))


def claim_verdicts(labels: Sequence[Sequence[ClaimSpans]]) -> list[list[str]]:
    """For the review page: each claim of each label compared with every other label —
    "agrees" (a matched claim that agrees in every other label), "differs" (matched in every
    other label, but not agreeing with one at least) or "alone" (some other label has no
    claim matching it). With one label, every claim is "alone"."""
    verdicts = [["agrees"] * len(label) for label in labels]
    if len(labels) < 2:
        return [["alone"] * len(label) for label in labels]
    for i, a in enumerate(labels):
        for j, b in enumerate(labels):
            if i == j:
                continue
            matching = match_claims(a, b)
            for x in matching.only_a:
                verdicts[i][x] = "alone"
            for x, y in matching.pairs:
                if verdicts[i][x] == "agrees" and not claims_agree(a[x], b[y]):
                    verdicts[i][x] = "differs"
    return verdicts
