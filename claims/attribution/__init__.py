"""Attribution suggestions: who says what in each sentence of an article.

types: entries in, suggestions out. matcher: the taxonomy matcher and the English rules that
find cue, speaker and content. slavic: the Russian and Ukrainian rules. speakers: speakers the
taxonomy does not know. language, lemmas: which language, and words by their dictionary form.
"""

from claims.attribution.matcher import (
    ANAPHORA_PARAGRAPHS,
    SourceMatcher,
    paragraph_starts,
    status_hint,
)
from claims.attribution.types import (
    DIRECT_QUOTE,
    NO_SUGGESTION,
    NONE,
    PARAPHRASE,
    UNNAMED,
    UNNAMED_KIND,
    NewSource,
    SourceEntry,
    Suggestion,
)

__all__ = [
    "ANAPHORA_PARAGRAPHS",
    "DIRECT_QUOTE",
    "NONE",
    "NO_SUGGESTION",
    "PARAPHRASE",
    "UNNAMED",
    "UNNAMED_KIND",
    "NewSource",
    "SourceEntry",
    "SourceMatcher",
    "Suggestion",
    "paragraph_starts",
    "status_hint",
]
