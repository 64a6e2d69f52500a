"""The shortcuts that make the rules fast never change what they find.

The rules test a sentence for their words before running their expressions
(claims.attribution.matcher: _references, the word tests of the rules, status_hint); a word
test that missed a match IGNORECASE would find would silently drop a suggestion. These
sentences hold each trigger word in plain, capital and odd-case spellings, including the
non-ASCII letters Python's IGNORECASE takes for ASCII ones (U+017F long s, U+0130/U+0131
dotted and dotless i, U+212A Kelvin sign).
"""

import re

import pytest

from claims.attribution import language, matcher

SENTENCES = [
    "The ministry said it had shot down 12 drones.",
    "THE DEFENCE MINISTRY SAID THEY WERE INTERCEPTED.",
    "Local officials and the authorities said nothing.",
    "Two senior military officials told reporters the army had withdrawn.",
    "People familiar with the matter said an insider had leaked it.",
    "Sources close to the government say he resigned.",
    "The ſources said ſhe left.",  # long s: IGNORECASE reads "sources", "she"
    "An \u0130NSIDER said \u0131t was over.",  # dotted capital I, dotless i
    "The armed forces said IT was true.",
    "Residents described hearing loud explosions shortly after midnight.",
    "“We will respond,” a spokesperson told reporters.",
    "",
]


@pytest.mark.parametrize("text", SENTENCES)
def test_references_find_what_the_full_expression_finds(text):
    expected = [(m.span(), m.lastgroup) for m in matcher._REF_RE.finditer(text)]
    found = [(m.span(), m.lastgroup) for m in matcher._references(text, matcher._fold(text))]
    assert found == expected


@pytest.mark.parametrize("text", SENTENCES)
def test_fold_keeps_every_word_ignorecase_would_match(text):
    """A word that IGNORECASE finds in text is in _fold(text)."""
    folded = matcher._fold(text)
    for word in (*matcher._REF_WORDS, *matcher._BARE_VERBS, "according", "statement", "by"):
        if re.search(re.escape(word), text, re.IGNORECASE):
            assert word in folded, (word, text)


@pytest.mark.parametrize(
    "body",
    [
        "The claims could not be independently verified.",
        "IT HAS NOT BEEN POSSIBLE TO VERIFY THE FIGURES.",
        "Reuters was unable to verify the report.",
        "Независимо проверить эти данные не удалось.",
        "Перевірити ці дані не вдалося.",
        "The figures were confirmed by the ministry.",
    ],
)
def test_status_hint_is_the_full_expression(body):
    expected = "unverified" if matcher._UNVERIFIED_RE.search(matcher._normalize(body)) else None
    assert matcher.status_hint(body) == expected


def _quote_spans_every_char(text):
    """The loop over every character that _quote_spans replaced, kept as its specification."""
    closers = {'"': '"', "\u201c": "\u201d", "\u00ab": "\u00bb", "\u2018": "\u2019"}
    spans, start, closer, last_end = [], -1, "", 0
    for i, ch in enumerate(text):
        if start >= 0:
            nxt = text[i + 1 : i + 2]
            closes = ch == closer or (closer in '"\u201d' and ch in '"\u201d')
            if closes and not (ch == "\u2019" and nxt.isalpha()):
                spans.append((start, i + 1))
                start, last_end = -1, i + 1
        elif ch == '"':
            if i == 0 or text[i - 1].isspace() or text[i - 1] in "([{:\u2014\u2013-/":
                start, closer = i, '"'
            else:
                spans.append((last_end, i + 1))
                last_end = i + 1
        elif ch in closers:
            start, closer = i, closers[ch]
        elif ch in "\u201d\u00bb":
            spans.append((last_end, i + 1))
            last_end = i + 1
    if start >= 0:
        spans.append((start, len(text)))
    return spans


@pytest.mark.parametrize(
    "text",
    [
        *SENTENCES,
        'He said: \u201cWe won\u2019t stop,\u201d and "they\u2019ll" see, \u00abда\u00bb.',
        'end of a quote begun earlier," the mayor said.',
        "\u2018Single\u2019 marks and Russia\u2019s apostrophe, \u201cunclosed",
        'A "straight opener closed by a curly\u201d mark and ("nested \u2018one\u2019").',
    ],
)
def test_quote_spans_read_only_the_marks(text):
    assert matcher._quote_spans(text) == _quote_spans_every_char(text)


def _detect_by_matches(text):
    """The language rule as it was first written (lists of matches), kept as its spec."""
    sample = text[: language._SAMPLE]
    cyrillic = len(re.findall("[\u0400-\u04ff]", sample))
    if cyrillic <= len(re.findall("[A-Za-z]", sample)):
        return language.EN
    uk, ru = re.findall("[іїєґІЇЄҐ]", sample), re.findall("[ыэъёЫЭЪЁ]", sample)
    return language.UK if len(uk) > len(ru) else language.RU


@pytest.mark.parametrize(
    "text",
    [
        "",
        "12, 13 — 14.",
        "Kyiv said the drones were shot down.",
        "Минобороны России сообщило об этом в среду.",
        "Повітряні сили ЗСУ повідомили, що збили 12 дронів.",
        "Zelensky: «Ми не відступимо» — and the ministry said nothing more.",
        "Ӏ Ԁ ԁ Ѐ ӿ ab",  # the block's edges, and the Cyrillic Supplement (not counted)
        "Ελληνικά 中文 عربى and two words",
        "x" * 5000 + "Минобороны",  # past the sample
    ],
)
def test_language_detect_counts_as_the_match_lists_did(text):
    assert language.detect(text) == _detect_by_matches(text)
