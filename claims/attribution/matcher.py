"""Suggest each sentence's source and attribution type from attribution cues, rule by rule."""

from __future__ import annotations

import bisect
import functools
import re
from collections import deque
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from typing import NamedTuple

from claims.attribution import language, lemmas, slavic, speakers
from claims.attribution.language import EN, is_cyrillic
from claims.attribution.types import (
    DIRECT_QUOTE,
    NO_SUGGESTION,
    PARAPHRASE,
    UNNAMED,
    UNNAMED_KIND,
    NewSource,
    SourceEntry,
    Speaker,
    Suggestion,
)

# Entries of this kind label "nobody is named" ("Unattributed"); they are never found in text.
_UNMATCHABLE_KINDS = frozenset({"unknown"})

# "the ministry", "officials added" look back this many paragraphs (besides the current one).
ANAPHORA_PARAGRAPHS = 3
# Recently mentioned sources kept per article; bounded so that suggest() stays O(n).
_MEMORY_SIZE = 64


def paragraph_starts(body: str, spans: Sequence[tuple[int, int]]) -> frozenset[int]:
    """Indices of the (start, end) spans of body that open a new paragraph, i.e. a line break
    lies between the span and the previous one; pass the result to suggest()."""
    return frozenset(
        i
        for i in range(1, len(spans))
        if any(c in body[spans[i - 1][1] : spans[i][0]] for c in "\r\n")
    )


# --- text preparation ------------------------------------------------------------------------

# Curly and modifier apostrophes become "'", one character for one so offsets stay valid:
# "Russia\u2019s" in the text must match the alias "Russia's" and vice versa.
_APOSTROPHES = str.maketrans(dict.fromkeys("\u2019\u2018\u02bc\u2032\u00b4`", "'"))


_APOSTROPHE_RE = re.compile("[\u2019\u2018\u02bc\u2032\u00b4`]")


def _normalize(text: str) -> str:
    # translate() copies every character through a dict: only when there is one to change.
    return text.translate(_APOSTROPHES) if _APOSTROPHE_RE.search(text) else text


# A question the article asks ("What does Russia say?", an explainer's subhead) claims nothing;
# a quoted one ('"Is this war?" she asked') is left to the rules.
_QUESTION_RE = re.compile(
    r"(?:what|who|why|how|when|where|which|does|do|did|is|are|can|could|will|would|should)\b"
    r"[^\"\u201c\u201d\u00ab\u00bb]*\?",
    re.IGNORECASE,
)
# A caption credit ("Credit: AP", "(AP Photo/John Doe)") is no claim; the caller should filter
# credits out, but a stray one must not count as a mention of "AP".
_CREDIT_RE = re.compile(
    r"(?:photo(?:graph)?s?|images?|pictures?|credits?)\s*:\s*[^.!?\"\u201c]{1,80}"
    r"|\([^()]*\b(?:photo|credit)\b[^()]*\)",
    re.IGNORECASE,
)

_CLOSERS = {'"': '"', "\u201c": "\u201d", "\u00ab": "\u00bb", "\u2018": "\u2019"}
_QUOTE_MARK_RE = re.compile('["\u201c\u201d\u00ab\u00bb\u2018\u2019]')


def _quote_spans(text: str) -> list[tuple[int, int]]:
    """Spans of quoted text, quote marks included. Nested quotes lie inside the outer span.
    A closing mark with no opener closes a quote begun in an earlier sentence; an opener with
    no closer runs to the end (quotes spanning several sentences)."""
    spans: list[tuple[int, int]] = []
    start, closer, last_end = -1, "", 0
    for mark in _QUOTE_MARK_RE.finditer(text):  # only the marks matter: skip the rest fast
        i, ch = mark.start(), mark[0]
        if start >= 0:
            # U+2019 is also an apostrophe ("won\u2019t"): it closes only when no letter follows.
            nxt = text[i + 1 : i + 2]
            # Copy mixes its marks: a straight opener closed by a curly closer, and back.
            closes = ch == closer or (closer in '"\u201d' and ch in '"\u201d')
            if closes and not (ch == "\u2019" and nxt.isalpha()):
                spans.append((start, i + 1))
                start, last_end = -1, i + 1
        elif ch == '"':
            # A straight quote opens after a space or opening punctuation, else it closes.
            if i == 0 or text[i - 1].isspace() or text[i - 1] in "([{:\u2014\u2013-/":
                start, closer = i, '"'
            else:
                spans.append((last_end, i + 1))
                last_end = i + 1
        elif ch in _CLOSERS:
            start, closer = i, _CLOSERS[ch]
        elif ch in "\u201d\u00bb":
            spans.append((last_end, i + 1))
            last_end = i + 1
    if start >= 0:
        spans.append((start, len(text)))
    return spans


def _is_real_quote(text: str, span: tuple[int, int]) -> bool:
    """A quoted utterance rather than scare quotes around a word ("indiscriminate"): four or
    more words, or at least two words that carry their own punctuation or follow a colon."""
    inner = text[span[0] : span[1]].strip("\"'\u201c\u201d\u2018\u2019\u00ab\u00bb ")
    words = len(inner.split())
    if words >= 4:
        return True
    own_punctuation = inner[-1:] in (".", ",", "!", "?", "\u2026")
    after_colon = text[: span[0]].rstrip().endswith(":")
    return words >= 2 and (own_punctuation or after_colon)


def _mask(text: str, spans: Iterable[tuple[int, int]]) -> str:
    """Blank out the quoted spans: a speaker and its speech verb always stand outside quotes."""
    chars = list(text)
    for start, end in spans:
        chars[start:end] = " " * (end - start)
    return "".join(chars)


# --- the cue vocabulary ----------------------------------------------------------------------

# Verbs of reported speech. "vowed"/"promised" are left out on purpose: they report an
# intention, not a statement of fact that could be verified.
_SPEECH_VERBS = (
    "said|says|say|saying|told|tells|telling|reported|reports|reporting|claimed|claims|claiming"
    "|added|adds|adding|stated|states|announced|announces|confirmed|confirms|denied|denies|deny"
    "|denying|accused|accuses|accusing|acknowledged|acknowledges|acknowledge|admitted|admits"
    "|admit|insisted|insists|warned|warns|alleged|alleges|blamed|blames|blame|blaming|wrote"
    "|writes|noted|notes|stressed|explained|estimated|declared|assessed|assesses|assess"
    "|emphasized|emphasised|emphasizes|emphasises|indicated|indicates|described|describes"
    "|posted|posts|cited|cites|argued|argues|reiterated|concluded|concludes|asserted|asserts"
    "|maintained|maintains|revealed|specified|clarified|predicted|conceded|announcing"
    "|warning|stressing|noting|insisting|confirming|describing|arguing|alleging|reiterating"
    "|dismissed|dismisses|rejected|rejects|condemned|condemns|criticised|criticized|urged"
    "|demanded|disputed|countered|responded|replied|complained|boasted|acknowledging"
)
# "say goodbye", "said a prayer" are no speech to verify.
_SPEECH_VERB_RE = re.compile(
    rf"\b(?:{_SPEECH_VERBS})\b(?!\s+(?:goodbye|farewell|hello|grace|thanks|a\s+prayer))",
    re.IGNORECASE,
)
# Without a subject only these unambiguous verb forms count: "claims", "reports", "states" are
# nouns too often ("verify the claims").
_BARE_VERBS = ("said", "says", "told", "added", "stated", "announced", "claimed", "confirmed")
_BARE_VERBS += ("denied", "insisted")
_BARE_VERB_RE = re.compile(rf"\b(?:{'|'.join(_BARE_VERBS)})\b", re.IGNORECASE)
_SPEECH_WORDS = frozenset(_SPEECH_VERBS.split("|"))
_NOT_SPEECH_AFTER_RE = re.compile(
    r"\s+(?:goodbye|farewell|hello|grace|thanks|a\s+prayer|from)\b", re.I
)  # "say goodbye"; "reporting from Kharkiv" is a byline
# Verb forms that are nouns after a determiner or an adjective: "Russian claims of a breakthrough".
_ALSO_NOUNS = frozenset("claims reports notes states estimates warnings cites posts".split())
_BEFORE_NOUNS = frozenset(
    "the these those its their his her our such unverified official media earlier similar "
    "russian ukrainian polish british american western new recent".split()
)
_EVIDENCE_WORDS = frozenset({"showed", "shows", "show", "showing", "suggested"})
_LETTERS_RE = re.compile(r"[A-Za-z]+")


def _verbs(outside: str) -> list[tuple[int, int, bool]]:
    """(start, end, is_evidence) of every reporting or evidence verb, in order: one pass over
    the words with set lookups (an alternation of a hundred verbs is slow to scan)."""
    found = []
    previous, previous_capital = "", False
    for m in _LETTERS_RE.finditer(outside):
        word = m[0].lower()
        capital = m[0][0].isupper()
        if capital and previous_capital and outside[m.start() - 1] == " ":
            pass  # "the United States", "Foreign Claims Commission": part of a name
        elif word in _SPEECH_WORDS:
            noun = word in _ALSO_NOUNS and (previous in _BEFORE_NOUNS or previous.endswith("ian"))
            if not noun and not _NOT_SPEECH_AFTER_RE.match(outside, m.end()):
                found.append((m.start(), m.end(), False))
        elif word in _EVIDENCE_WORDS:
            found.append((m.start(), m.end(), True))
        previous, previous_capital = word, capital
    return found


# Evidence verbs attribute a sentence only to a named source: "Images on social media showed".
_EVIDENCE_VERB_RE = re.compile(
    r"\b(?:showed|shows|show|showing|appeared to show|appear to show|suggested)\b",
    re.IGNORECASE,
)

# What may stand between a speaker and its verb: "Moscow officials had reported",
# "Warsaw on Friday said", "Andrei Ordash, said", "Ukrainian officials never acknowledge", an
# appositive ("Andrei Ordash, Russia's envoy, said"), or "X's spokesman" (speaks for X).
_SUBJECT_GAP_RE = re.compile(
    r"(?:'s\s+(?:spokes(?:man|woman|person)|press\s+(?:service|office)|head|chief"
    r"|representative|government|authorities|officials|embassy))?"
    r"(?:\s*,[^,\"\u201c\u201d]{1,110},)?"
    r"[\s,]*(?:(?:also|had|has|have|having|was|were|is|are|then|later|earlier|previously"
    r"|never|not|did|does|do|didn't|doesn't|don't|hasn't|haven't|again|further|would|will"
    r"|could|may|might|repeatedly|publicly|separately|subsequently|initially|officially"
    r"|itself|themselves|on\s+\w+day|(?:last|this|on|late|early)\s+(?:week|month|year|night"
    r"|weekend|\w+day|morning|evening)|(?:on|in|at|during)\s+(?:an?\s+|the\s+|his\s+|her\s+"
    r"|its\s+)?[\w-]+(?:\s+[\w-]+)?\s+(?:briefing|address|interview|conference|statement"
    r"|post|video|speech|meeting)|in\s+[A-Z][\w-]+|yesterday|today|tonight|once|first"
    r"|quoted\s+as|cited\s+as|(?:quoted|cited)\s+by\s+[^,\"]{1,40}?\s+as|widely|reportedly"
    r"|in\s+a\s+statement|\w+ly|long|still|now|just|already|there|here)[\s,]+)*",
    re.IGNORECASE,
)
_NEGATION_RE = re.compile(r"\b(?:never|not)\b|n't\b", re.IGNORECASE)

_ACCORDING_TO_RE = re.compile(
    r"\baccording\s+to\s+(?P<object>(?:(?:a|an|the)\s+)?(?:(?:statement|report|post|message"
    r"|data|figures|estimates?)\s+(?:by|from|of)\s+)?)",
    re.IGNORECASE,
)
_IN_STATEMENT_RE = re.compile(r"\bin\s+an?\s+(?:\w+\s+)?statement\b", re.IGNORECASE)
# What may follow "in a statement" before its author: "in a statement on Telegram, the ...".
_STATEMENT_GAP_RE = re.compile(r"(?:\s+on\s+[^,]{1,40})?[\s,]*")

# "It provided no additional information", "They also reported": a pronoun opening the
# sentence continues the previous sentence's source when it does something a source does.
_PRONOUN_CONTINUATION_RE = re.compile(
    r"^(?:(?:but|and|however|meanwhile),?\s+)?(?P<pronoun>it|they)\s+(?:also\s+)?"
    r"(?:provided|gave|offered|released|published|shared|cited|presented|posted|specified"
    r"|called)\b",
    re.IGNORECASE,
)

# Speakers that are not taxonomy names: anaphors resolved from memory, and anonymous sources.
_REF_RE = re.compile(
    r"(?=[acdfghilmoprstuw])"  # the first letters of the alternatives: see _PRONOUN_RE
    r"\b(?P<ministry>the\s+(?:[\w-]+\s+){0,2}?ministry)\b"
    r"|\b(?P<military>the\s+(?:army|military|armed\s+forces))\b"
    r"|\b(?P<government>the\s+government)\b"
    r"|\b(?P<officials>(?:(?:an?|the|one|another|some|several|other|two|three)\s+)?"
    r"(?:(?:local|regional|senior|federal|top|security|military|government|city|district"
    r"|state)\s+){0,2}(?:officials?|authorities))\b"
    r"|\b(?P<anonymous>(?:an?\s+)?(?:(?:senior|informed|military|diplomatic|security"
    r"|government|western|unnamed|anonymous)\s+)?sources?"
    r"|people\s+familiar\s+with\s+the\s+(?:matter|situation|plans?)|an?\s+insider)\b"
    r"|\b(?P<pronoun>it|they|he|she)\b",
    re.IGNORECASE,
)
# A lookahead on the first letters lets the scan skip positions fast (half the time, same
# matches: every alternative starts with one of them).
_PRONOUN_RE = re.compile(r"(?=[iths])\b(?P<pronoun>it|they|he|she)\b", re.IGNORECASE)
# Every _REF_RE match but a pronoun holds one of these, lowercased; the non-ASCII letters that
# IGNORECASE also takes for ASCII ones are mapped first, so the test never misses a match.
_RE_IGNORECASE_ODD_RE = re.compile("[\u0131\u0130\u017f\u212a]")
_RE_IGNORECASE_EXTRA = str.maketrans({"\u0131": "i", "\u0130": "i", "\u017f": "s", "\u212a": "k"})
_REF_WORDS = ("ministr", "army", "military", "armed", "government", "official", "authorit")
_REF_WORDS += ("source", "people", "insider")


def _fold(text: str) -> str:
    """text lowercased so that a word absent from it cannot match an IGNORECASE pattern: the
    rules test for their words this way before they run their (slower) expressions."""
    if text.isascii() or not _RE_IGNORECASE_ODD_RE.search(text):
        return text.lower()
    return text.translate(_RE_IGNORECASE_EXTRA).lower()


def _references(text: str, folded: str) -> Iterator[re.Match[str]]:
    """_REF_RE.finditer(text): without any of its words only a pronoun can match, and the
    pronoun alone is a much faster scan (most sentences name no ministry or officials).
    folded: _fold(text)."""
    if any(word in folded for word in _REF_WORDS):
        return _REF_RE.finditer(text)
    return _PRONOUN_RE.finditer(text)


# Capitalised words that may stand before "officials" without naming whose officials they are.
_TIME_AND_LINK_WORDS = (
    "meanwhile earlier later but and however now then today yesterday also so while when "
    "monday tuesday wednesday thursday friday saturday sunday january february march april "
    "may june july august september october november december"
)
_NOT_A_MODIFIER = frozenset(_TIME_AND_LINK_WORDS.split())
_ANAPHOR_KINDS = {
    "ministry": frozenset({"government", "emergency", "military"}),
    "military": frozenset({"military", "government"}),
    "government": frozenset({"government"}),
}


# --- one sentence, prepared once ------------------------------------------------------------


# The rules make several of these per sentence: named tuples, which are built several times
# faster than frozen dataclasses (docs/benchmarks.md, import).
class _Candidate(NamedTuple):
    """A phrase that could be the speaker: a taxonomy mention (entry), a reference (ref) or a
    phrase naming a speaker the taxonomy does not know (ref "phrase")."""

    start: int
    end: int
    entry: SourceEntry | None
    ref: str  # "" for a taxonomy mention, else the _REF_RE group name, or "phrase"
    text: str


class _Sentence(NamedTuple):
    text: str  # as given, for cues
    norm: str  # apostrophes normalised
    outside: str  # normalised, quotes blanked
    folded: str  # outside, _fold()ed: the rules' quick test for their words
    quotes: tuple[tuple[int, int], ...]
    candidates: tuple[_Candidate, ...]  # outside quotes, sorted by start
    candidate_starts: tuple[int, ...]
    candidate_ends: tuple[int, ...]
    mentions: tuple[SourceEntry, ...]  # every taxonomy mention, quoted ones too, in order
    real_quote: bool

    def subject_before(self, pos: int) -> _Candidate | None:
        """The candidate ending nearest before pos: the only one that can be its subject."""
        i = bisect.bisect_right(self.candidate_ends, pos)
        return self.candidates[i - 1] if i else None

    def first_after(self, pos: int) -> _Candidate | None:
        i = bisect.bisect_left(self.candidate_starts, pos)
        return self.candidates[i] if i < len(self.candidates) else None

    def phrase(self, span: tuple[int, int] | None) -> _Candidate | None:
        if span is None:
            return None
        return _Candidate(span[0], span[1], None, "phrase", self.text[span[0] : span[1]])


class _Cue(NamedTuple):
    candidate: _Candidate | None  # None: the speaker is not a phrase we know
    start: int
    end: int
    negated: bool = False
    verb: tuple[int, int] | None = None  # the reporting words alone


# --- the rules: each looks at one sentence and returns the cue it found, or None ------------


def _according_to(s: _Sentence) -> _Cue | None:
    """ "..., according to X": X is the source of the whole sentence."""
    match = _ACCORDING_TO_RE.search(s.outside) if "according" in s.folded else None
    if match is None:
        return None
    verb = (match.start(), match.start() + len("according to"))
    # The source starts where the object does, or after "a statement by"; an alias may
    # itself begin with "the" ("the Defence Ministry").
    after = s.first_after(match.start("object"))
    phrase = s.phrase(speakers.phrase_after(s.outside, match.end()))
    pronoun = re.match(r"(him|her|them)\b", s.outside[match.end() :], re.IGNORECASE)
    if pronoun:  # "According to him, ..."
        word = {"him": "he", "her": "she", "them": "they"}[pronoun[1].lower()]
        cand = _Candidate(match.end(), match.end() + len(pronoun[1]), None, "pronoun", word)
        return _Cue(cand, match.start(), cand.end, verb=verb)
    # "according to the Kyiv Independent": a taxonomy name inside a longer name is not it
    if (
        after is not None
        and after.start <= match.end()
        and (phrase is None or phrase.end <= after.end or not _longer_name(s, after, phrase))
    ):
        return _Cue(after, match.start(), after.end, verb=verb)
    if phrase is not None:
        return _Cue(phrase, match.start(), phrase.end, verb=verb)
    # An unknown source ("according to estimates"): still a claim, shown up to the next comma.
    end = len(s.text)
    for stop in ",;.":
        found = s.text.find(stop, match.end())
        if found != -1:
            end = min(end, found)
    return _Cue(None, match.start(), end, verb=verb)


_DUMMY_IT_RE = re.compile(
    r"it\s+(?:was|is|has\s+been|had\s+been|had|has)\s+(?:\w+ly\s+|also\s+|widely\s+)?"
    r"(?:reported|said|claimed|alleged|announced|stated|understood|believed|thought|known"
    r"|estimated|noted|confirmed)\b",
    re.IGNORECASE,
)
_NOT_SAID_RE = re.compile(
    r"\b(?:did|does|do|has|have|had|would|could|will)\s*(?:not|n't|never)\b", re.IGNORECASE
)


def _longer_name(s: _Sentence, cand: _Candidate, phrase: _Candidate) -> bool:
    """The phrase goes on with capitalised words after the taxonomy mention ends."""
    rest = s.outside[cand.end : phrase.end].split()
    return any(w[:1].isupper() or w.lower() in speakers.ROLE_WORDS for w in rest)


def _speaker_before_verb(s: _Sentence) -> _Cue | None:
    """ "X said", "X had reported", "Y, X's envoy, said": the subject right before the verb is the
    speaker; a party named earlier ("Accusing Kyiv of ..., the ministry said") is not."""
    for start, end, evidence in _verbs(s.outside):
        subject = _subject(s, start, evidence)
        if subject is None:
            continue
        if subject.ref == "pronoun" and _DUMMY_IT_RE.match(s.outside, subject.start):
            continue  # "It was reported that ...": nobody is "it"
        negated = _NEGATION_RE.search(s.outside[subject.end : start]) is not None
        return _Cue(subject, subject.start, end, negated, (start, end))
    return None


# A party named after these is cited or is the agent of a passive, not the subject.
_CITED_RE = re.compile(
    r"(?:citing|quoted\s+by|cited\s+by|described\s+by|according\s+to|on\s+behalf\s+of"
    r"|told|to)\s+(?:the\s+)?$",
    re.IGNORECASE,
)


_PART_OF_NAME_RE = re.compile(
    r"(?:\b[A-Z][\w'\u2019-]*\s+of\s+(?:the\s+)?"
    r"|\b(?:mission|office|embassy|representative|delegation|monitors?)\s+in\s+)$"
)


def _subject(s: _Sentence, pos: int, evidence: bool = False) -> _Candidate | None:
    """The subject of the verb at pos. An appositive between commas is skipped to its head
    ("Energoatom, Ukraine's state nuclear company, said"; "Peskov, speaking to reporters in
    Moscow, said"); a time phrase may stand between ("X on Tuesday told"); a party cited
    ("RIA Novosti, citing the Defence Ministry, reported") is not the subject."""
    gap_start = -1
    if "," in s.outside[max(0, pos - 80) : pos]:
        gap = _SUBJECT_GAP_TAIL_RE.search(s.outside, max(0, pos - 80), pos)
        gap_start = gap.start() if gap else pos
    closing = s.outside.rfind(",", gap_start, pos) if gap_start >= 0 else -1
    if closing >= 0:
        opening = s.outside.rfind(",", 0, closing)
        inner = s.outside[opening + 1 : closing]
        if opening > 0 and closing - opening <= 120 and not re.search(r'["\u201c\u201d]', inner):
            if not evidence and _is_titled_name(inner.strip()):
                # "Kharkiv's mayor, Borys Halytskyi, told": the name between the commas
                # ("A spokesperson for the brigade, Captain Roman Zaiets, said": with a rank)
                head = _subject_at(s, opening, evidence)
                named = s.phrase((opening + 1 + len(inner) - len(inner.lstrip()), closing))
                if head is not None and named is not None:
                    return named
            head = _subject_at(s, opening, evidence)
            if head is not None:
                return head
    # the nearest candidate with a fitting gap, skipping cited parties
    for cand in reversed(s.candidates[: bisect.bisect_right(s.candidate_ends, pos)][-4:]):
        if _CITED_RE.search(s.outside, max(0, cand.start - 40), cand.start):
            continue
        if evidence and cand.entry is None:
            break
        if cand.entry is not None and _PART_OF_NAME_RE.search(
            s.outside, max(0, cand.start - 60), cand.start
        ):
            break  # "The National Police of Ukraine said": the phrase, not Ukraine
        if _SUBJECT_GAP_RE.fullmatch(s.outside[cand.end : pos]):
            return cand
        break
    if evidence:
        return None
    if gap_start < 0:
        gap = _SUBJECT_GAP_TAIL_RE.search(s.outside, max(0, pos - 80), pos)
        gap_start = gap.start() if gap else pos
    return _subject_at(s, gap_start, evidence)


def _is_titled_name(text: str) -> bool:
    """text is a person's name, perhaps after a rank or title ("Captain Roman Zaiets")."""
    person = speakers.person_in(text)
    if person is None or not text.endswith(person):
        return False
    title = text[: len(text) - len(person)].split()
    return all(w.lower().rstrip(".") in speakers.ROLE_WORDS for w in title)


def _subject_at(s: _Sentence, end: int, evidence: bool) -> _Candidate | None:
    """A candidate or a phrase ending at end (spaces aside) that opens its clause."""
    stripped = len(s.outside[:end].rstrip())
    i = bisect.bisect_right(s.candidate_ends, stripped)
    if i and s.candidates[i - 1].end == stripped:
        cand = s.candidates[i - 1]
        cited = _CITED_RE.search(s.outside, max(0, cand.start - 40), cand.start)
        if (
            not cited
            and (cand.entry or not evidence)
            and (cand.entry is not None or _is_subject(s, cand))
        ):
            return cand
    if evidence:
        return None
    phrase = s.phrase(speakers.phrase_before(s.outside, stripped))
    if (
        phrase is None
        or not _is_subject(s, phrase)
        or _CITED_RE.search(s.outside, max(0, phrase.start - 40), phrase.start)
    ):
        return None
    return _with_entry(s, phrase)


def _with_entry(s: _Sentence, phrase: _Candidate) -> _Candidate:
    """A phrase headed by a taxonomy name speaks as that entry: "Kremlin spokesperson Dmitry
    Peskov", "Russia's embassy in Oslo". A name after the taxonomy name heads the phrase
    instead ("Kyiv regional governor Mykola Kalenyk" is not Kyiv)."""
    text = s.outside[phrase.start : phrase.end]
    head_end = phrase.start + len(re.split(r"\s+(?:in|at|near|on)\s+", text, maxsplit=1)[0])
    inside = [
        c
        for c in s.candidates
        if c.entry is not None and phrase.start <= c.start and c.end <= head_end
    ]
    if inside:
        last = inside[-1]
        rest = s.outside[last.end : head_end].split()
        of_place = re.search(r"\bof\s+(?:the\s+)?$", s.outside[phrase.start : last.start])
        # "IAEA Director General Rafael Grossi" speaks for the IAEA; "Kyiv regional governor X"
        # is not Kyiv: a one-word place alias does not absorb the person after it
        place = len(last.text.split()) == 1 and last.entry.kind in (UNNAMED_KIND, "government")
        if not of_place and (not any(w[:1].isupper() for w in rest) or not place):
            return _Candidate(phrase.start, phrase.end, last.entry, "", phrase.text)
    return phrase


# The words between a speaker and its verb, anchored at the verb (searched up to it).
_SUBJECT_GAP_TAIL_RE = re.compile(
    rf"(?:{_SUBJECT_GAP_RE.pattern[_SUBJECT_GAP_RE.pattern.index('[\\s,]*') :]})\Z",
    re.IGNORECASE,
)


_ADVERBIAL_LEAD_RE = re.compile(
    r"(?:(?:later|earlier|meanwhile|also|then|separately|overnight|(?:late|early)\s+\w+"
    r"|(?:in|on|at|by|after|before|during|since|within)\s+(?:the\s+|a\s+)?[\w-]+"
    r"(?:\s+[\w-]+)?)\s*)+",
    re.IGNORECASE,
)


def _is_subject(s: _Sentence, phrase: _Candidate) -> bool:
    """A phrase is a verb's subject when it opens its clause: the sentence, or after a comma,
    a colon, a quote, "and"/"but"/"while"/"as"/"that"."""
    before = s.outside[: phrase.start].rstrip()
    if not before or (len(before.split()) <= 2 and not _SPEECH_VERB_RE.search(before)):
        return True  # at the start, or after a word or two ("Dock worker Andrii Sydorenko")
    if before[-1] in ",:;\u2014\u2013-([":
        return True
    if _ADVERBIAL_LEAD_RE.fullmatch(before):
        return True  # "Later in the morning the air force said"
    return re.search(r"\b(?:and|but|while|as|that|when|after|before|which)$", before) is not None


_INVERTING_VERBS = ("said", "says", "added", "wrote", "noted", "continued", "explained")
_INVERTING_VERBS += ("recalled",)
_SAID_INVERSION_RE = re.compile(rf"(?<=[,\s])({'|'.join(_INVERTING_VERBS)})\s+")


def _said_inversion(s: _Sentence) -> _Cue | None:
    """'"...," said X' / '..., said X': the speaker follows the verb after a comma or quote.
    Only say/add/write invert; "told X" names the listener, "accused X" the accused."""
    if not any(word in s.outside for word in _INVERTING_VERBS):
        return None
    for verb in _SAID_INVERSION_RE.finditer(s.outside):
        # Read the unmasked text: the closing quote mark itself is blanked in `outside`.
        if not s.norm[: verb.start()].rstrip().endswith((",", '"', "\u201d", "\u2014")):
            continue
        span = (verb.start(), verb.start() + len(verb[1]))
        after = s.first_after(verb.end())
        if after is not None and after.start == verb.end():
            return _Cue(after, verb.start(), after.end, verb=span)
        phrase = s.phrase(speakers.phrase_after(s.outside, verb.end()))
        if phrase is not None:
            return _Cue(phrase, verb.start(), phrase.end, verb=span)
    return None


_PASSIVE_BY_RE = re.compile(
    r"\b(?:was|were|is|are|has\s+been|have\s+been|had\s+been|as)\s+(?:first\s+)?(?:reported"
    r"|announced|confirmed|stated|claimed|said|published|posted|disclosed|revealed|described"
    r"|called|characteri[sz]ed|branded|labell?ed|denied)\s+by\s+",
    re.IGNORECASE,
)


def _passive_by(s: _Sentence) -> _Cue | None:
    """ "It was reported by X", "The figure was confirmed by X": X is the source."""
    match = _PASSIVE_BY_RE.search(s.outside) if "by" in s.folded else None
    if match is None:
        return None
    span = (match.start(), match.end() - 1)
    after = s.first_after(match.end())
    if after is not None and after.start <= match.end() + 4:
        return _Cue(after, match.start(), after.end, verb=span)
    phrase = s.phrase(speakers.phrase_after(s.outside, match.end()))
    if phrase is not None:
        return _Cue(phrase, match.start(), phrase.end, verb=span)
    return None


_HEADLINE_RE = re.compile(
    r"^\s*(?:\d{1,2}[:.]\d{2}\s*(?:[ap]\.?m\.?\s*)?(?:[A-Z]{2,4}\s*)?[-\u2014\u2013|:]?\s*)?"
)
_NOT_A_SPEAKER_LABEL = frozenset(
    "update breaking analysis watch read live explainer editor's note photo video correction "
    "timeline background context what why how opinion factbox".split()
)


def _headline_colon(s: _Sentence) -> _Cue | None:
    """ "Zelensky: ...", "09:15 Governor: ...": a live-blog item opens with its speaker."""
    lead = _HEADLINE_RE.match(s.outside)
    start = lead.end() if lead else 0
    colon = s.outside.find(":", start, start + 60)
    if colon < 0 or not s.outside[colon + 1 : colon + 2].isspace():
        return None
    label = s.outside[start:colon].strip()
    if not label or label.lower().rstrip("s") in _NOT_A_SPEAKER_LABEL or len(label.split()) > 6:
        return None
    first = s.first_after(start)
    if first is not None and first.start == start and first.end >= colon - 1:
        cand = first
    else:
        cand = s.phrase(speakers.phrase_after(s.outside, start))
        if cand is None or cand.end < colon - 1:
            return None
    return _Cue(cand, cand.start, colon + 1, verb=(colon, colon + 1))


_PARTICIPLE_RE = re.compile(
    r",\s+(?:while\s+)?(saying|adding|claiming|noting|warning|stressing|insisting|arguing"
    r"|alleging|accusing|denying|describing|citing|reiterating|stating|announcing|writing"
    r"|emphasi[sz]ing|asserting)\b",
    re.IGNORECASE,
)


def _participle(s: _Sentence) -> _Cue | None:
    """ "The ministry released a video on Tuesday, saying that ...": the participle's speaker is
    the main clause's subject, however far away."""
    # Every participle it knows ends in "ing" and follows a comma.
    ok = "ing" in s.folded and "," in s.outside
    match = _PARTICIPLE_RE.search(s.outside) if ok else None
    if match is None:
        return None
    span = match.span(1)
    first = s.first_after(0)
    lead = re.match(
        r"\s*(?:(?:on|in|at|late|early|earlier|later|meanwhile|also)\b[^,]{0,40},\s*)?", s.outside
    )
    start = lead.end() if lead else 0
    if first is not None and first.start <= start + 4 and first.end < match.start():
        return _Cue(first, first.start, span[1], verb=span)
    phrase = s.phrase(speakers.phrase_after(s.outside, start))
    if phrase is not None and phrase.end < match.start():
        return _Cue(phrase, phrase.start, span[1], verb=span)
    return None


def _in_statement(s: _Sentence) -> _Cue | None:
    """ "In a statement on Telegram, X ...": X is the author; the platform it was posted on
    (a social_media or media mention right after "on") is not."""
    if "statement" not in s.folded:
        return None
    for match in _IN_STATEMENT_RE.finditer(s.outside):
        for cand in s.candidates:
            if cand.start < match.end() or cand.start - match.end() > 60:
                continue
            if s.outside[: cand.start].rstrip().lower().endswith(" on"):
                continue  # "on social media": where, not who
            if _STATEMENT_GAP_RE.fullmatch(s.outside[match.end() : cand.start]):
                return _Cue(cand, match.start(), cand.end, verb=match.span())
    return None


def _pronoun_continuation(s: _Sentence) -> _Cue | None:
    """ "It provided no additional information": see _PRONOUN_CONTINUATION_RE."""
    match = _PRONOUN_CONTINUATION_RE.match(s.outside)
    if match is None:
        return None
    pronoun = _Candidate(
        match.start("pronoun"), match.end("pronoun"), None, "pronoun", match["pronoun"]
    )
    return _Cue(pronoun, match.start(), match.end(), verb=(match.end("pronoun") + 1, match.end()))


def _bare_speech_verb(s: _Sentence) -> _Cue | None:
    """ "Said to be ...": reported speech whose speaker is not found; still a claim. The cue
    shows the verb with up to three words before it."""
    if not any(word in s.folded for word in _BARE_VERBS):
        return None
    verb = _BARE_VERB_RE.search(s.outside)
    if verb is None:
        return None
    lead = re.search(r"(?:[\w'-]+\s+){0,3}$", s.outside[: verb.start()])
    return _Cue(None, lead.start() if lead else verb.start(), verb.end(), verb=verb.span())


_RULES: tuple[Callable[[_Sentence], _Cue | None], ...] = (
    _according_to,
    _speaker_before_verb,
    _said_inversion,
    _passive_by,
    _in_statement,
    _headline_colon,
    _participle,
    _pronoun_continuation,
    _bare_speech_verb,
)


def _first_cue(s: _Sentence) -> _Cue | None:
    found = [(rule, cue) for rule in _RULES if (cue := rule(s)) is not None]
    if not found:
        return None
    clause_rules = (_according_to, _speaker_before_verb, _passive_by, _said_inversion)
    main = [cue for rule, cue in found if rule in clause_rules and cue.candidate is not None]
    if main:
        # The main clause speaks first: "X said that, according to Y, ...", "It was reported
        # by TASS that Peskov criticised ...": the cue whose reporting words come first wins.
        return min(main, key=lambda cue: (cue.verb or (cue.start, cue.end))[0])
    return next((cue for _, cue in found if cue.candidate is not None), found[0][1])


# --- memory of recently mentioned sources ----------------------------------------------------


class _Mention(NamedTuple):
    speaker_of: Speaker
    paragraph: int
    speaker: bool  # the (non-negated) speaker of its sentence, not merely mentioned
    words: frozenset[str]  # the words it was named by, lowercased
    person: bool


_PERSON_KINDS = frozenset({"individual", "head_of_state"})


@functools.lru_cache(maxsize=4096)
def _words_of(text: str) -> frozenset[str]:
    return frozenset(re.findall(r"\w+", text.lower()))


def _latest_speaker_of_sort(roles: frozenset[str], memory: _Memory) -> Speaker | None:
    """The latest person who spoke within the window, for a definite role phrase that can only
    name a person ("the spokeswoman", "the commander"); None for any other role."""
    if not roles:
        return None
    if not roles <= speakers.PERSON_ROLE_WORDS:
        return None
    for mention in memory.recent():
        if mention.speaker and mention.person:
            return mention.speaker_of
    return None


class _Memory:
    """What the article said so far: recent mentions, and the previous sentence's source."""

    def __init__(self) -> None:
        self.mentions: deque[_Mention] = deque(maxlen=_MEMORY_SIZE)
        self.paragraph = 0
        self.previous: Speaker | None = None

    def recent(self) -> Iterable[_Mention]:
        """Most recent first, within the anaphora window."""
        oldest = self.paragraph - ANAPHORA_PARAGRAPHS
        return (m for m in reversed(self.mentions) if m.paragraph >= oldest)

    def remember(
        self, mentions: Iterable[SourceEntry], speaker: Speaker | None, said_as: str = ""
    ) -> None:
        for entry in mentions:
            self.mentions.append(
                _Mention(entry, self.paragraph, False, _words_of(entry.name), _is_person(entry))
            )
        if speaker is not None:  # last, so the speaker is the most recent mention
            words = _words_of(said_as) | _words_of(speaker.name)
            person = _is_person(speaker) or speakers.person_in(said_as) is not None
            self.mentions.append(_Mention(speaker, self.paragraph, True, words, person))


def _is_person(speaker: Speaker) -> bool:
    if isinstance(speaker, NewSource):
        return speaker.kind == "individual" or speakers.person_in(speaker.name) is not None
    return speaker.kind == "individual" or (
        speaker.kind == "head_of_state" and not speaker.name.lower().startswith("the ")
    )


# --- the matcher -----------------------------------------------------------------------------


def _first_word(name: str) -> str:
    words = name.lower().split()
    if words and words[0] == "the":
        words = words[1:]
    return words[0] if words else ""


# "the governor" and "the regional head" name the same office.
_ROLE_SYNONYMS = {
    "head": frozenset({"head", "governor", "chief"}),
    "governor": frozenset({"governor", "head"}),
    "president": frozenset({"president"}),
    "spokesman": frozenset({"spokesman", "spokeswoman", "spokesperson"}),
    "spokeswoman": frozenset({"spokesman", "spokeswoman", "spokesperson"}),
    "force": frozenset({"force"}),
    "tank": frozenset({"tank", "institute"}),
    "agency": frozenset({"agency", "watchdog"}),
    "mayor": frozenset({"mayor"}),
    "commander": frozenset({"commander"}),
    "staff": frozenset({"staff"}),
    "service": frozenset({"service"}),
}
_INSTITUTION_PRONOUNS = frozenset({"it", "they"})
# Nationality adjectives to the side they name, for "Polish officials" -> the Polish government.
_SIDES = {
    "polish": "poland",
    "russian": "russia",
    "ukrainian": "ukraine",
    "british": "united kingdom",
    "american": "united states",
    "us": "united states",
    "u.s.": "united states",
    "german": "germany",
    "french": "france",
    "belarusian": "belarus",
    "moldovan": "moldova",
    "romanian": "romania",
    "lithuanian": "lithuania",
    "latvian": "latvia",
    "estonian": "estonia",
}


class SourceMatcher:
    """Finds taxonomy sources in sentences and suggests each sentence's attribution."""

    def __init__(self, sources: Iterable[SourceEntry]) -> None:
        self._by_phrase: dict[str, SourceEntry] = {}
        self._named: list[SourceEntry] = []
        for entry in sources:
            if entry.kind in _UNMATCHABLE_KINDS:
                continue
            self._named.append(entry)
            for phrase in (entry.name, *entry.aliases):
                key = _phrase_key(phrase)
                # A phrase shared by two entries keeps the first one (taxonomy file order).
                if key and key not in self._by_phrase:
                    self._by_phrase[key] = entry
        self._regex = _compile_phrases(
            phrase
            for e in self._named
            for phrase in (e.name, *e.aliases)
            if not any(is_cyrillic(ch) for ch in phrase)
        )
        self._cyrillic = [
            (phrase, e)
            for e in self._named
            for phrase in (e.name, *e.aliases)
            if any(is_cyrillic(ch) for ch in phrase)
        ]
        self._lemma_index: dict[str, dict[str, list[tuple[tuple[str, ...], SourceEntry]]]] = {}
        # "Russian officials" answers for a bare "officials" when the story is about Russian
        # sources: nationality word (first word of the name or an "X authorities" alias) -> entry.
        self._officials_by_nationality: dict[str, SourceEntry] = {}
        for entry in self._named:
            if entry.kind != UNNAMED_KIND:
                continue
            for phrase in (entry.name, *entry.aliases):
                if re.search(r"\b(?:officials?|authorities)$", phrase, re.IGNORECASE):
                    self._officials_by_nationality.setdefault(_first_word(phrase), entry)
        self._haystack = {
            e.id: " ".join((e.name, *e.aliases)).lower().replace("\u2019", "'")
            for e in self._named
        }

    # -- public ---------------------------------------------------------------------------

    def find(
        self,
        sentence: str,
        lang: str = EN,
        *,
        norm: str | None = None,
        words: Sequence[lemmas.Word] | None = None,
    ) -> list[tuple[int, int, SourceEntry]]:
        """Every taxonomy mention in sentence as (start, end, entry), longest match first at a
        position, left to right, non-overlapping. Cyrillic names match in any inflection.
        norm (the normalised sentence) and words (its lemmas) are reused when given."""
        norm = _normalize(sentence) if norm is None else norm
        found = []
        if self._regex is not None:
            found = [
                (m.start(), m.end(), self._by_phrase[_phrase_key(m[0])])
                for m in self._regex.finditer(norm)
            ]
        if self._cyrillic and lang != EN:
            taken = [(a, b) for a, b, _ in found]
            if words is None:
                words = lemmas.words(sentence, lang)
            for hit in self.find_lemmas(words, lang):
                if not any(hit[0] < b and a < hit[1] for a, b in taken):
                    found.append(hit)
            found.sort(key=lambda hit: hit[0])
        return found

    def find_lemmas(
        self, words: Sequence[lemmas.Word], lang: str
    ) -> list[tuple[int, int, SourceEntry]]:
        by_first = self._lemmas(lang)
        found = []
        i = 0
        while i < len(words):
            for key, entry in by_first.get(words[i].lemma, ()):  # longest first
                n = len(key)
                if tuple(w.lemma for w in words[i : i + n]) == key:
                    found.append((words[i].start, words[i + n - 1].end, entry))
                    i += n
                    break
            else:
                i += 1
        return found

    def _lemmas(self, lang: str) -> dict[str, list[tuple[tuple[str, ...], SourceEntry]]]:
        """Cyrillic names and aliases by their lemmas, indexed by the first lemma, longest
        first; built on first use per language."""
        if lang not in self._lemma_index:
            index: dict[tuple[str, ...], SourceEntry] = {}
            for phrase, entry in self._cyrillic:
                index.setdefault(lemmas.lemma_key(phrase, lang), entry)
            index.pop((), None)
            by_first: dict[str, list[tuple[tuple[str, ...], SourceEntry]]] = {}
            for key, entry in sorted(index.items(), key=lambda item: -len(item[0])):
                by_first.setdefault(key[0], []).append((key, entry))
            self._lemma_index[lang] = by_first
        return self._lemma_index[lang]

    def suggest(
        self,
        sentences: Sequence[str],
        paragraph_breaks: Collection[int] = (),
        lang: str | None = None,
    ) -> list[Suggestion]:
        """One suggestion per sentence, in order. Carries context across sentences for anaphora.
        paragraph_breaks: indices of the sentences that open a new paragraph (see
        paragraph_starts); without them the article counts as one paragraph. lang: the
        article's language (EN, RU, UK), detected from the sentences when not given."""
        lang = lang or language.detect(" ".join(sentences[:40]))
        if lang != EN:
            return slavic.suggest(self, sentences, frozenset(paragraph_breaks), lang)
        breaks = frozenset(paragraph_breaks)
        memory = _Memory()
        out: list[Suggestion] = []
        for i, text in enumerate(sentences):
            if i and i in breaks:
                memory.paragraph += 1
            if _CREDIT_RE.fullmatch(text.strip()) or _QUESTION_RE.fullmatch(text.strip()):
                out.append(NO_SUGGESTION)
                memory.previous = None
                continue
            out.append(self._suggest_one(self._prepare(text), memory))
        return continue_quotes(sentences, _name_later(sentences, out))

    # -- one sentence ---------------------------------------------------------------------

    def _prepare(self, text: str) -> _Sentence:
        quotes = _quote_spans(text)
        norm = _normalize(text)
        outside = _mask(norm, quotes)
        found = self.find(text, norm=norm)
        mentions = tuple(entry for _, _, entry in found)
        taken = [(start, end) for start, end, _ in found]
        candidates = [
            _Candidate(start, end, entry, "", text[start:end])
            for start, end, entry in found
            if outside[start:end].strip()  # a mention blanked out lies inside a quote
        ]
        folded = _fold(outside)
        for match in _references(outside, folded):
            if any(match.start() < end and start < match.end() for start, end in taken):
                continue  # "Moscow officials" is a name; its "officials" is no reference
            group = match.lastgroup or ""
            candidates.append(_Candidate(match.start(), match.end(), None, group, match[0]))
        candidates.sort(key=lambda c: c.start)
        return _Sentence(
            text=text,
            norm=norm,
            outside=outside,
            folded=folded,
            quotes=tuple(quotes),
            candidates=tuple(candidates),
            candidate_starts=tuple(c.start for c in candidates),
            candidate_ends=tuple(c.end for c in candidates),
            mentions=mentions,
            real_quote=any(_is_real_quote(text, span) for span in quotes),
        )

    def _suggest_one(self, s: _Sentence, memory: _Memory) -> Suggestion:
        cue = _first_cue(s)
        if cue is None or (cue.negated and _NOT_SAID_RE.search(s.outside[cue.start : cue.end])):
            # No cue, or "X did not say": X is mentioned, but claims nothing here.
            memory.remember(s.mentions, None)
            memory.previous = None
            return NO_SUGGESTION
        cand = cue.candidate
        speaker = self._resolve(cand, s, memory) if cand is not None else None
        memory.remember(s.mentions, None if cue.negated else speaker, cand.text if cand else "")
        memory.previous = speaker
        return self._suggestion(s, cue, speaker)

    def _suggestion(self, s: _Sentence, cue: _Cue, speaker: Speaker | None) -> Suggestion:
        cand = cue.candidate
        unnamed = (isinstance(speaker, SourceEntry) and speaker.kind == UNNAMED_KIND) or (
            cand is not None and cand.ref in ("officials", "anonymous")
        )
        # Anonymity wins over quoting: it is what the verifier most needs to know.
        if unnamed:
            kind = UNNAMED
        else:
            kind = DIRECT_QUOTE if s.real_quote else PARAPHRASE
        mention = (cand.start, cand.end) if cand is not None else None
        verb = cue.verb or (cue.start, cue.end)
        return Suggestion(
            speaker.id if isinstance(speaker, SourceEntry) else None,
            kind,
            True,
            s.text[cue.start : cue.end].strip(" ,"),
            cue_span=verb,
            mention_span=mention,
            content_span=content_span(s.text, s.quotes, mention, verb),
            new_source=speaker if isinstance(speaker, NewSource) else None,
        )

    # -- resolving references -------------------------------------------------------------

    def _resolve(self, cand: _Candidate, s: _Sentence, memory: _Memory) -> Speaker | None:
        if cand.entry is not None:
            return cand.entry
        if cand.ref == "pronoun":
            return self._resolve_pronoun(cand.text.lower(), memory)
        if cand.ref in _ANAPHOR_KINDS:
            return self._resolve_anaphor(cand, memory)
        if cand.ref == "officials":
            return self._resolve_officials(cand, s, memory)
        if cand.ref == "phrase":
            return self._resolve_phrase(cand, memory)
        return None  # "a source", "people familiar with the matter": anonymous by design

    def _resolve_pronoun(self, pronoun: str, memory: _Memory) -> Speaker | None:
        """ "He said": the latest person who spoke, not a woman by her first name ("she": not a
        man); "it"/"they" the previous sentence's source,
        else the latest institution that spoke. A dummy "It was reported" never gets here:
        it has no speech verb with "it" as its subject."""
        if pronoun in _INSTITUTION_PRONOUNS:
            if memory.previous is not None:
                return memory.previous
            for mention in memory.recent():
                if mention.speaker and not mention.person:
                    return mention.speaker_of
            return None
        # "she" skips the men named since, "he" the women (when a first name tells).
        other = {"he": speakers.FEMALE, "she": speakers.MALE}.get(pronoun, "")
        for mention in memory.recent():
            unlike = other and speakers.gender(mention.speaker_of.name) == other
            if mention.person and not unlike:
                return mention.speaker_of
        return None

    def _resolve_phrase(self, cand: _Candidate, memory: _Memory) -> Speaker | None:
        """A phrase that only names a role ("the governor", "the regional head", "Sumy
        governor") is an anaphor: the latest mention with that role; a surname alone
        ("Marchuk said") is the person named in full before; a part of a taxonomy name ("the Air
        Force", "the agency") is that entry. Anything else is a new source."""
        text = re.sub(r"^(?:the|a|an)\s+", "", cand.text, flags=re.IGNORECASE)
        words = _words_of(text)
        capitalised = {w.lower() for w in text.split() if w[:1].isupper()}
        person = speakers.person_in(text)
        roles = words & speakers.ROLE_WORDS
        surname = capitalised - speakers.ROLE_WORDS
        if person is None and surname:
            for mention in reversed(memory.mentions):  # "Marchuk", "Governor Tereshchuk"
                if mention.person and surname <= mention.words and not roles - mention.words:
                    return mention.speaker_of
        if not cand.text.lower().startswith(("a ", "an ")):
            for mention in memory.recent():
                pass
                if person is None and roles and capitalised <= mention.words | roles:
                    wanted = set()
                    for role in roles:
                        wanted |= _ROLE_SYNONYMS.get(role, frozenset({role}))
                    if wanted & mention.words:
                        return mention.speaker_of  # "the governor", "Sumy governor"
            entry = self._partial_name(words, memory)
            if entry is not None:
                return entry
            if person is None and not capitalised and cand.text.lower().startswith("the "):
                # "The spokeswoman said" when no mention carries the word: the latest person
                # who spoke, else nobody. ("The company said" is left alone: on the dev set
                # the latest organisation that spoke was the wrong one more often than not.)
                return _latest_speaker_of_sort(roles, memory)
        return speakers.guess(cand.text, " ".join(m.speaker_of.name for m in memory.recent()))

    def _officials_of(self, nationality: str) -> SourceEntry | None:
        """The officials of a nationality ("polish") or side ("poland"): its unnamed-officials
        entry, else its government entry."""
        found = self._officials_by_nationality.get(nationality)
        adjective = next((adj for adj, side in _SIDES.items() if side == nationality), "")
        found = found or self._officials_by_nationality.get(adjective)
        if found is not None:
            return found
        side = _SIDES.get(nationality, nationality)
        for kind in (UNNAMED_KIND, "government"):
            for entry in self._named:
                if entry.kind == kind and entry.side.lower() == side:
                    return entry
        return None

    def _partial_name(self, words: frozenset[str], memory: _Memory) -> SourceEntry | None:
        """The taxonomy entry whose name holds all the words ("air force" -> "Ukrainian Air
        Force"): the most recently mentioned such entry, else the only one."""
        if not words:
            return None
        fits = [e for e in self._named if words <= _words_of(self._haystack[e.id])]
        for mention in memory.recent():
            if mention.speaker_of in fits:
                return mention.speaker_of
        return fits[0] if len(fits) == 1 else None

    def _resolve_anaphor(self, cand: _Candidate, memory: _Memory) -> SourceEntry | None:
        """ "the ministry" -> the most recent ministry of a fitting kind; extra words must fit
        the entry ("the foreign ministry" is not the defence ministry)."""
        words = cand.text.lower().split()[1:]  # drop "the"
        head, modifiers = words[-1], words[:-1]
        if cand.ref == "military":
            head, modifiers = "", []
        kinds = _ANAPHOR_KINDS[cand.ref]
        for mention in memory.recent():
            e = mention.speaker_of
            if not isinstance(e, SourceEntry) or e.kind not in kinds:
                continue
            haystack = self._haystack[e.id]
            if cand.ref == "military" and e.kind != "military" and "defen" not in haystack:
                continue
            if head and head not in e.name.lower():
                continue
            if all(word in haystack for word in modifiers):
                return e
        return None

    def _resolve_officials(
        self, cand: _Candidate, s: _Sentence, memory: _Memory
    ) -> SourceEntry | None:
        """ "officials added", "Authorities say": whose officials?
        1. a nationality right before ("Ukrainian official") names them; another capitalised
           word ("Polish officials", "US officials") names officials we do not know: None;
        2. the officials who spoke most recently ("added" continues a speaker; officials
           merely mentioned, as in "Ukrainian officials never acknowledge ...", did not speak);
        3. the officials mentioned most recently;
        4. the nationality of the most recently mentioned named source, over the whole
           article: the story's country is a topic, not an anaphor."""
        before = re.search(r"(?<![,;:])\b([A-Z][\w'-]*)\s+$", s.outside[: cand.start])
        if before and before[1].lower() not in _NOT_A_MODIFIER:
            return self._officials_of(before[1].lower())
        recent = [
            m
            for m in memory.recent()
            if isinstance(m.speaker_of, SourceEntry) and m.speaker_of.kind == UNNAMED_KIND
        ]
        for mention in recent:
            if mention.speaker:
                return mention.speaker_of
        # the side of the latest source that spoke: "Polish officials said ... Officials say"
        for mention in memory.recent():
            if mention.speaker and mention.speaker_of.side:
                found = self._officials_of(mention.speaker_of.side.lower())
                if found is not None:
                    return found
                break
        if recent:
            return recent[0].speaker_of
        for mention in reversed(memory.mentions):
            e = mention.speaker_of
            if isinstance(e, SourceEntry) and e.kind == UNNAMED_KIND:
                return e
            found = self._officials_by_nationality.get(_first_word(e.name))
            if found is None and e.side:
                found = self._officials_by_nationality.get(_first_word(e.side))
            if found is not None:
                return found
        return None


# --- spans and quotes across sentences -------------------------------------------------------

_CONTENT_LEAD_RE = re.compile(
    r"^[\s,:\u2014\u2013-]*(?:(?:on|in|at|during|late|early|last|this|earlier|later)\s+[^,]{0,40}?"
    r"(?=\s+that\b)\s+)?(?:that\s+|\u0447\u0442\u043e\s+|\u0449\u043e\s+)?"
)


def content_span(
    text: str,
    quotes: Sequence[tuple[int, int]],
    mention: tuple[int, int] | None,
    verb: tuple[int, int],
) -> tuple[int, int] | None:
    """What is claimed: the longest quote outside the attribution, else the side of the
    sentence that the speaker and verb leave over ("X said that CONTENT", "CONTENT, X said")."""
    lo = min(verb[0], mention[0]) if mention else verb[0]
    hi = max(verb[1], mention[1]) if mention else verb[1]
    outside_quotes = [q for q in quotes if q[1] <= lo or q[0] >= hi]
    if outside_quotes:
        start, end = max(outside_quotes, key=lambda q: q[1] - q[0])
        return _strip(text, start, end)
    end_text = len(text.rstrip().rstrip(".!?\u2026"))
    if len(text[hi:end_text].strip(" ,.;:\u2014\u2013-")) >= len(text[:lo].strip(" ,")):
        lead = _CONTENT_LEAD_RE.match(text[hi:end_text])
        return _strip(text, hi + (lead.end() if lead else 0), end_text)
    return _strip(text, 0, lo)


def _strip(text: str, start: int, end: int) -> tuple[int, int] | None:
    trim = " \t\n,;:\"'\u201c\u201d\u2018\u2019\u00ab\u00bb\u2014\u2013-."
    while start < end and text[start] in trim:
        start += 1
    while end > start and text[end - 1] in trim:
        end -= 1
    return (start, end) if end > start else None


def _quote_balance(text: str) -> int:
    """+1 when the sentence leaves a quote open, -1 when it closes one opened earlier."""
    opened = closed = 0
    for start, end in _quote_spans(text):
        first, last = text[start], text[end - 1]
        is_open = first in '"\u201c\u00ab\u201e' and (start == 0 or not text[start - 1].isalnum())
        is_closed = end - start > 1 and last in '"\u201d\u00bb'
        if is_open and not is_closed:
            opened += 1
        elif is_closed and not is_open:
            closed += 1
    return opened - closed


def _name_later(sentences: Sequence[str], out: list[Suggestion]) -> list[Suggestion]:
    """A lede names a role and the story names the person later: "..., the regional governor
    said." then "Governor Serhiy Marchuk said ...". A new source known only by a role or a
    surname ("Sumy governor:", "Governor Tereshchuk:") becomes the person named in full within
    the next sentences with that role or surname."""
    result = list(out)
    for i, got in enumerate(out):
        if got.source_id is not None or got.mention_span is None or not got.is_claim:
            continue
        mention = sentences[i][slice(*got.mention_span)]
        if speakers.person_in(mention):
            continue
        words = _words_of(mention)
        roles = words & speakers.ROLE_WORDS
        surname = {w.lower() for w in mention.split() if w[:1].isupper()} - speakers.ROLE_WORDS
        surname -= {"the", "a", "an"}
        if not roles and not surname:
            continue
        wanted: set[str] = set()
        for role in roles:
            wanted |= _ROLE_SYNONYMS.get(role, frozenset({role}))
        for j in range(i + 1, min(len(out), i + 12)):
            later = out[j]
            if later.new_source is None or later.mention_span is None:
                continue
            text = sentences[j][slice(*later.mention_span)]
            if not speakers.person_in(text):
                continue
            later_words = _words_of(text)
            if (not wanted or wanted & later_words) and surname <= later_words | _words_of(
                sentences[j]
            ):
                result[i] = Suggestion(
                    got.source_id,
                    got.attribution_type,
                    got.is_claim,
                    got.cue,
                    cue_span=got.cue_span,
                    mention_span=got.mention_span,
                    content_span=got.content_span,
                    new_source=later.new_source,
                )
                break
    return result


def continue_quotes(sentences: Sequence[str], out: list[Suggestion]) -> list[Suggestion]:
    """The pieces of one quote spread over several sentences share its speaker: "“A. B,” he
    said." gives A and B the speaker of the piece that names one, before or after it."""
    groups: list[list[int]] = []
    current: list[int] | None = None
    for i, text in enumerate(sentences):
        balance = _quote_balance(text)
        if current is None:
            if balance > 0:
                current = [i]
        else:
            current.append(i)
            if balance < 0:
                groups.append(current)
                current = None
    if current is not None and len(current) > 1:
        groups.append(current)
    result = list(out)
    for group in groups:
        named = [out[i] for i in group if out[i].source_id is not None or out[i].new_source]
        if not named:
            continue
        speaker = named[-1] if out[group[-1]] in named else named[0]
        for i in group:
            if result[i].is_claim:
                continue
            text = sentences[i]
            result[i] = Suggestion(
                speaker.source_id,
                DIRECT_QUOTE if speaker.attribution_type != UNNAMED else UNNAMED,
                True,
                "",
                content_span=_strip(text, 0, len(text)),
                new_source=speaker.new_source,
            )
    return result


def _phrase_key(phrase: str) -> str:
    return " ".join(_normalize(phrase).lower().split())


def _compile_phrases(phrases: Iterable[str]) -> re.Pattern[str] | None:
    """One alternation of all names and aliases, longest first so that at any position the
    longest phrase wins ("Russia's Defence Ministry" over "Russia"), between word boundaries.
    All-capital acronyms ("AP", "RIA") match case-sensitively: "ap" is no news agency."""
    unique = sorted(
        {_phrase_key(p): p for p in phrases if p.strip()}.values(),
        key=lambda p: -len(_phrase_key(p)),
    )
    if not unique:
        return None
    parts = []
    for phrase in unique:
        body = r"\s+".join(re.escape(word) for word in _normalize(phrase).split())
        parts.append(f"(?-i:{body})" if phrase.isupper() else body)
    # The first letters, as a lookahead, let the scan skip positions fast (see _PRONOUN_RE).
    first = "".join(sorted({re.escape(p[0].lower()) for p in unique}))
    return re.compile(rf"(?=[{first}])(?<!\w)(?:{'|'.join(parts)})(?!\w)", re.IGNORECASE)


# --- status hints ----------------------------------------------------------------------------

# Phrases by which an article says it could not check what it reports.
_UNVERIFIED_RE = re.compile(
    r"(?:has|have|had)\s+not\s+been\s+(?:possible|able)\s+to\s+(?:independently\s+)?verify"
    r"|(?:could|can|cannot|can't|could\s+not|was\s+unable\s+to|were\s+unable\s+to)"
    r"(?:\s+not)?\s+(?:be\s+)?independently\s+verif(?:y|ied)"
    r"|not\s+(?:been\s+)?independently\s+(?:verified|confirmed)"
    r"|unable\s+to\s+(?:independently\s+)?verify"
    # Russian and Ukrainian: "Независимо проверить эти данные не удалось", "не вдалося перевірити"
    r"|(?:провер|перевір)\w*\s+(?:\w+\s+){0,3}не\s+(?:удалось|вдалося|можем|можемо|может|може)"
    r"|не\s+(?:удалось|удаётся|удается|вдалося|вдається|может|може|можем|можемо)\s+"
    r"(?:\w+\s+){0,2}(?:провер|перевір|подтверд|підтверд)\w*",
    re.IGNORECASE,
)

_UNVERIFIED_WORDS = ("verif", "independently", "провер", "перевір", "подтверд", "підтверд")


def status_hint(body: str) -> str | None:
    """The status code the article's own wording supports for its claims, if any.

    An article that says it "has not been possible to verify the claims" or "could not
    independently verify" them makes "unverified" the right default for its claims.
    """
    folded = _fold(body)  # each alternative holds one of these words: skip the scan without
    if not any(word in folded for word in _UNVERIFIED_WORDS):
        return None
    return "unverified" if _UNVERIFIED_RE.search(_normalize(body)) else None
