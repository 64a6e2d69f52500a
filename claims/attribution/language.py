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


_UK_RE = re.compile("[іїєґІЇЄҐ]")
_RU_RE = re.compile("[ыэъёЫЭЪЁ]")
_ASCII_LETTERS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
# U+0400-U+04FF are the two-byte UTF-8 sequences led by 0xD0-0xD3, bytes that occur in no
# other character: counting them counts the Cyrillic letters.
_CYRILLIC_LEADS = b"\xd0\xd1\xd2\xd3"


def detect(text: str) -> str:
    """EN, RU or UK for text; EN when there are no letters at all."""
    sample = text[:_SAMPLE]
    raw = sample.encode()  # counting bytes in C, not matches in lists: import runs this a lot
    cyrillic = len(raw) - len(raw.translate(None, _CYRILLIC_LEADS))
    if cyrillic <= len(raw) - len(raw.translate(None, _ASCII_LETTERS)):
        return EN
    return UK if len(_UK_RE.findall(sample)) > len(_RU_RE.findall(sample)) else RU
