"""What the attribution rules take and give: taxonomy entries in, suggestions out."""

from __future__ import annotations

from dataclasses import dataclass, field

DIRECT_QUOTE = "direct_quote"
PARAPHRASE = "paraphrase"
UNNAMED = "unnamed"
NONE = "none"

UNNAMED_KIND = "unnamed_officials"

Span = tuple[int, int]


@dataclass(frozen=True, slots=True)
class SourceEntry:
    id: int
    name: str
    kind: str  # "government", "military", "emergency", "head_of_state", "unnamed_officials", ...
    aliases: tuple[str, ...] = ()
    side: str = ""


@dataclass(frozen=True, slots=True)
class NewSource:
    """A speaker the taxonomy does not know, as the annotator would propose it."""

    name: str
    kind: str
    side: str


Speaker = SourceEntry | NewSource


@dataclass(frozen=True, slots=True)
class Suggestion:
    source_id: int | None
    attribution_type: str  # DIRECT_QUOTE | PARAPHRASE | UNNAMED | NONE
    is_claim: bool  # likely a claim: it has an attribution cue or reported speech
    cue: str  # the matched text that justified it, "" if none (shown as "why")
    # Offsets into the sentence; compare=False: a suggestion is judged by what it names.
    cue_span: Span | None = field(default=None, compare=False)
    mention_span: Span | None = field(default=None, compare=False)
    content_span: Span | None = field(default=None, compare=False)
    new_source: NewSource | None = field(default=None, compare=False)


NO_SUGGESTION = Suggestion(None, NONE, False, "")
