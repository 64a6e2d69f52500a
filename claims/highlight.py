"""Marked spans in a sentence's text: plain Python, no Django.

A claim's spans (content, cue, source mention) are offsets into the article body and may run
over several sentences. A sentence row shows the pieces that fall inside it: `segments` cuts the
sentence text at every span edge and says which roles (of which claims) cover each piece.
"""

from __future__ import annotations

import html
import itertools
from collections.abc import Iterable
from typing import NamedTuple

ROLES = ("content", "cue", "mention")


class Span(NamedTuple):
    """A marked span in body offsets: its role, the claim's position in its label, and the
    sentence whose label holds the claim (None when it does not matter)."""

    start: int
    end: int
    role: str
    claim: int = 0
    owner: int | None = None


class Role(NamedTuple):
    role: str
    claim: int
    owner: int | None = None


class Segment(NamedTuple):
    """A piece of the sentence text and the roles covering it (none: plain text)."""

    text: str
    roles: tuple[Role, ...] = ()

    @property
    def classes(self) -> str:
        """CSS classes, one per role present: "span-content span-cue"."""
        present = {r.role for r in self.roles}
        return " ".join(f"span-{role}" for role in ROLES if role in present)

    @property
    def claims(self) -> str:
        """The claims covering the piece (positions, space-separated, in order)."""
        return " ".join(str(c) for c in sorted({r.claim for r in self.roles}))

    @property
    def owners(self) -> str:
        return " ".join(
            str(o) for o in sorted({r.owner for r in self.roles if r.owner is not None})
        )


def _role_order(role: Role) -> tuple:
    return (
        ROLES.index(role.role) if role.role in ROLES else len(ROLES),
        role.claim,
        role.owner or 0,
    )


def segments(text: str, start: int, spans: Iterable[Span | tuple]) -> list[Segment]:
    """Cut `text` (the sentence, which starts at body offset `start`) at the edges of the
    spans, clipped to the sentence. Adjacent pieces covered by the same roles are one segment;
    spans outside the sentence, empty or reversed are ignored."""
    end = start + len(text)
    clipped: list[tuple[int, int, Role]] = []
    for span in spans:
        span = Span(*span)
        lo, hi = max(span.start, start), min(span.end, end)
        if lo < hi:
            clipped.append((lo - start, hi - start, Role(span.role, span.claim, span.owner)))
    if not text:
        return []
    cuts = sorted({0, len(text), *(lo for lo, _, _ in clipped), *(hi for _, hi, _ in clipped)})
    result: list[Segment] = []
    for lo, hi in itertools.pairwise(cuts):
        roles = tuple(
            sorted({role for a, b, role in clipped if a <= lo and hi <= b}, key=_role_order)
        )
        if result and result[-1].roles == roles:
            result[-1] = Segment(result[-1].text + text[lo:hi], roles)
        else:
            result.append(Segment(text[lo:hi], roles))
    return result


def claim_spans(claim, *, owner: int | None = None) -> list[Span]:
    """The marked spans of a claim (a Claim row or anything with its offsets)."""
    spans = []
    for role in ROLES:
        lo, hi = getattr(claim, f"{role}_start"), getattr(claim, f"{role}_end")
        if lo is not None and hi is not None:
            spans.append(Span(lo, hi, role, claim.position, owner))
    return spans


def marked_html(segments: Iterable[Segment]) -> str:
    """The segments as HTML: plain pieces escaped, marked ones in ``<mark>`` with their
    classes and claims — what a page row shows, built in one pass rather than by a template
    loop per piece (the annotate page draws every sentence of the article)."""
    parts = []
    for segment in segments:
        text = html.escape(segment.text, quote=False)
        if segment.roles:
            parts.append(
                f'<mark class="{segment.classes}" data-claim="{segment.claims}" '
                f'data-owner="{segment.owners}">{text}</mark>'
            )
        else:
            parts.append(text)
    return "".join(parts)


ROLE_NAMES = {"content": "content", "cue": "cue", "mention": "source mention"}


def suggested_html(text: str, spans: Iterable[tuple[int, int, str]]) -> str:
    """A sentence's text as HTML with the suggestion's spans (offsets into the text, with
    their roles) marked: each piece in a ``<mark class="suggested span-…">`` titled with the
    roles it holds, so the suggested cue, source mention and content read apart."""
    parts = []
    for segment in segments(text, 0, [Span(start, end, role) for start, end, role in spans]):
        piece = html.escape(segment.text, quote=False)
        if segment.roles:
            names = " and ".join(
                dict.fromkeys(ROLE_NAMES.get(r.role, r.role) for r in segment.roles)
            )
            title = f"Suggested {names}"
            parts.append(
                f'<mark class="suggested {segment.classes}" title="{title}">{piece}</mark>'
            )
        else:
            parts.append(piece)
    return "".join(parts)
