"""Russian and Ukrainian words to their dictionary form, so that inflected names match.

"Министерства обороны РФ" and the alias "Министерство обороны РФ" share the lemmas
("министерство", "оборона", "рф"); "Повітряних сил" and "Повітряні сили" share
("повітряний", "сила"). pymorphy3 with its bundled ru and uk dictionaries (no download at run
time) was chosen over simplemma by measurement (docs/attribution.md, "Lemmatiser"). Analyses
are cached per word: news vocabulary repeats, so an import lemmatises each word form once.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache
from typing import NamedTuple

WORD_RE = re.compile(r"\w+(?:[-\u2019'][\w]+)*")
_NAME_TAGS = frozenset({"Name", "Surn", "Patr"})


class Word(NamedTuple):  # one per word of every sentence: cheap to build
    start: int
    end: int
    text: str
    lemma: str
    pos: str  # pymorphy's part of speech ("NOUN", "VERB", "GRND", ...) or "" for non-Cyrillic
    case: str  # "nomn", "gent", ... or ""
    name: bool  # a first name, surname or patronymic
    gent: (
        bool  # may be genitive ("енергетики"): it can extend a phrase ("Міністерство енергетики")
    )
    name_lemma: str  # the nominative as a name ("Петрова" -> "петров"), "" if no name reading


@cache
def _analyzer(lang: str):
    import pymorphy3  # imported on first use: English-only installations never load it

    return pymorphy3.MorphAnalyzer(lang=lang)


@lru_cache(maxsize=200_000)
def analyse(word: str, lang: str) -> tuple[str, str, str, bool, bool, str]:
    """(lemma, pos, case, is_name, may_be_genitive, name_lemma) of one word form; words
    without Cyrillic are lowercased."""
    if not any("\u0400" <= ch <= "\u04ff" for ch in word):
        return word.lower(), "", "", False, False, ""
    parses = _analyzer(lang).parse(word)
    best = parses[0]
    tag = best.tag
    name = (
        len(word) > 1
        and word[:1].isupper()
        and not word.isupper()
        and best.tag.POS not in ("PREP", "CONJ", "PRCL", "NPRO")
        and any(_NAME_TAGS & p.tag.grammemes for p in parses[:3])
    )
    gent = any(p.tag.case in ("gent", "gen2") for p in parses[:4])
    lemma = best.normal_form.replace("ё", "е")
    as_name = next((p.normal_form for p in parses if _NAME_TAGS & p.tag.grammemes), "")
    return lemma, str(tag.POS or ""), str(tag.case or ""), name, gent, as_name


def words(text: str, lang: str) -> list[Word]:
    return [Word(m.start(), m.end(), m[0], *analyse(m[0], lang)) for m in WORD_RE.finditer(text)]


def lemma_key(phrase: str, lang: str) -> tuple[str, ...]:
    return tuple(analyse(m[0], lang)[0] for m in WORD_RE.finditer(phrase))
