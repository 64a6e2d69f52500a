"""Which language an article is written in: English, Russian or Ukrainian.

The articles claimdesk suggests for are in one of three languages with two scripts, so the
script decides English against the other two, and the letters only one of the Cyrillic
alphabets has decide between Russian and Ukrainian (і ї є ґ against ы э ъ ё). Chosen over
py3langid and lingua by measurement on the dev set (docs/attribution.md, "Language"): equal
accuracy on articles, better on short items, no model to load.
"""

from __future__ import annotations

EN, RU, UK = "en", "ru", "uk"
LANGUAGES = (EN, RU, UK)

_UK_ONLY = frozenset("іїєґІЇЄҐ")
_RU_ONLY = frozenset("ыэъёЫЭЪЁ")
_SAMPLE = 4000  # characters looked at: enough for an article, cheap for a long one


def is_cyrillic(ch: str) -> bool:
    return "\u0400" <= ch <= "\u04ff"


def detect(text: str) -> str:
    """EN, RU or UK for text; EN when there are no letters at all."""
    sample = text[:_SAMPLE]
    cyrillic = latin = uk = ru = 0
    for ch in sample:
        if is_cyrillic(ch):
            cyrillic += 1
            if ch in _UK_ONLY:
                uk += 1
            elif ch in _RU_ONLY:
                ru += 1
        elif ch.isascii() and ch.isalpha():
            latin += 1
    if cyrillic <= latin:
        return EN
    return UK if uk > ru else RU
