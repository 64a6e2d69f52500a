"""Which language an article is written in: English, Russian or Ukrainian.

The articles claimdesk suggests for are in one of three languages with two scripts, so the
script decides English against the other two, and the letters only one of the Cyrillic
alphabets has decide between Russian and Ukrainian (і ї є ґ against ы э ъ ё). Chosen over
py3langid and lingua by measurement on the dev set (docs/attribution.md, "Language"): equal
accuracy on articles, better on short items, no model to load.
"""

from __future__ import annotations

import re

EN, RU, UK = "en", "ru", "uk"
LANGUAGES = (EN, RU, UK)

_SAMPLE = 4000  # characters looked at: enough for an article, cheap for a long one


def is_cyrillic(ch: str) -> bool:
    return "\u0400" <= ch <= "\u04ff"


_CYRILLIC_RE = re.compile("[\u0400-\u04ff]")
_LATIN_RE = re.compile("[A-Za-z]")
_UK_RE = re.compile("[іїєґІЇЄҐ]")
_RU_RE = re.compile("[ыэъёЫЭЪЁ]")


def detect(text: str) -> str:
    """EN, RU or UK for text; EN when there are no letters at all."""
    sample = text[:_SAMPLE]
    if len(_CYRILLIC_RE.findall(sample)) <= len(_LATIN_RE.findall(sample)):
        return EN
    return UK if len(_UK_RE.findall(sample)) > len(_RU_RE.findall(sample)) else RU
