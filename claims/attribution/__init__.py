"""Attribution suggestions: who says what in each sentence of an article.

matcher: the taxonomy matcher and the rules that find cue, speaker and content.
"""

from claims.attribution.matcher import (
    ANAPHORA_PARAGRAPHS,
    DIRECT_QUOTE,
    NO_SUGGESTION,
    NONE,
    PARAPHRASE,
    UNNAMED,
    UNNAMED_KIND,
    SourceEntry,
    SourceMatcher,
    Suggestion,
    paragraph_starts,
    status_hint,
)

__all__ = [
    "ANAPHORA_PARAGRAPHS",
    "DIRECT_QUOTE",
    "NONE",
    "NO_SUGGESTION",
    "PARAPHRASE",
    "UNNAMED",
    "UNNAMED_KIND",
    "SourceEntry",
    "SourceMatcher",
    "Suggestion",
    "paragraph_starts",
    "status_hint",
]
