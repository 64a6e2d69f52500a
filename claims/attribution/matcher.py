"""Suggest each sentence's source and attribution type from attribution cues, rule by rule."""

from __future__ import annotations

import bisect
import re
from collections import deque
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass

DIRECT_QUOTE = "direct_quote"
PARAPHRASE = "paraphrase"
UNNAMED = "unnamed"
NONE = "none"

UNNAMED_KIND = "unnamed_officials"
# Entries of this kind label "nobody is named" ("Unattributed"); they are never found in text.
_UNMATCHABLE_KINDS = frozenset({"unknown"})

# "the ministry", "officials added" look back this many paragraphs (besides the current one).
ANAPHORA_PARAGRAPHS = 3
# Recently mentioned sources kept per article; bounded so that suggest() stays O(n).
_MEMORY_SIZE = 64


@dataclass(frozen=True, slots=True)
class SourceEntry:
    id: int
    name: str
    kind: str  # "government", "military", "emergency", "head_of_state", "unnamed_officials", ...
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Suggestion:
    source_id: int | None
    attribution_type: str  # DIRECT_QUOTE | PARAPHRASE | UNNAMED | NONE
    is_claim: bool  # likely a claim: it has an attribution cue or reported speech
    cue: str  # the matched text that justified it, "" if none (shown as "why")


NO_SUGGESTION = Suggestion(None, NONE, False, "")


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


def _normalize(text: str) -> str:
    return text.translate(_APOSTROPHES)


# A caption credit ("Credit: AP", "(AP Photo/John Doe)") is no claim; the caller should filter
# credits out, but a stray one must not count as a mention of "AP".
_CREDIT_RE = re.compile(
    r"(?:photo(?:graph)?s?|images?|pictures?|credits?)\s*:\s*[^.!?\"\u201c]{1,80}"
    r"|\([^()]*\b(?:photo|credit)\b[^()]*\)",
    re.IGNORECASE,
)

_CLOSERS = {'"': '"', "\u201c": "\u201d", "\u00ab": "\u00bb", "\u2018": "\u2019"}


def _quote_spans(text: str) -> list[tuple[int, int]]:
    """Spans of quoted text, quote marks included. Nested quotes lie inside the outer span.
    A closing mark with no opener closes a quote begun in an earlier sentence; an opener with
    no closer runs to the end (quotes spanning several sentences)."""
    spans: list[tuple[int, int]] = []
    start, closer, last_end = -1, "", 0
    for i, ch in enumerate(text):
        if start >= 0:
            # U+2019 is also an apostrophe ("won\u2019t"): it closes only when no letter follows.
            nxt = text[i + 1 : i + 2]
            if ch == closer and not (ch == "\u2019" and nxt.isalpha()):
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
    "|writes|noted|notes|stressed|explained|estimated|declared"
)
_SPEECH_VERB_RE = re.compile(rf"\b(?:{_SPEECH_VERBS})\b", re.IGNORECASE)
# Without a subject only these unambiguous verb forms count: "claims", "reports", "states" are
# nouns too often ("verify the claims").
_BARE_VERB_RE = re.compile(
    r"\b(?:said|says|told|added|stated|announced|claimed|confirmed|denied|insisted)\b",
    re.IGNORECASE,
)
# Evidence verbs attribute a sentence only to a named source: "Images on social media showed".
_EVIDENCE_VERB_RE = re.compile(
    r"\b(?:showed|shows|show|showing|appeared to show|appear to show|suggested|indicated)\b",
    re.IGNORECASE,
)

# What may stand between a speaker and its verb: "Moscow officials had reported",
# "Warsaw on Friday said", "Andrei Ordash, said", "Ukrainian officials never acknowledge", an
# appositive ("Andrei Ordash, Russia's envoy, said"), or "X's spokesman" (speaks for X).
_SUBJECT_GAP_RE = re.compile(
    r"(?:'s\s+(?:spokes(?:man|woman|person)|press\s+(?:service|office)|head|chief"
    r"|representative))?"
    r"(?:\s*,[^,\"\u201c\u201d]{1,60},)?"
    r"[\s,]*(?:(?:also|had|has|have|having|was|were|is|are|then|later|earlier|previously"
    r"|never|not|did|does|do|didn't|doesn't|don't|hasn't|haven't|again|further|would|will"
    r"|could|may|might|repeatedly|publicly|separately|subsequently|initially|officially"
    r"|itself|themselves|on\s+\w+day)[\s,]+)*",
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
    r"(?:provided|gave|offered|did\s+not|didn't|does\s+not|doesn't|would\s+not|declined"
    r"|refused|released|published|shared|cited|presented|posted|specified|called)\b",
    re.IGNORECASE,
)

# Speakers that are not taxonomy names: anaphors resolved from memory, and anonymous sources.
_REF_RE = re.compile(
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


@dataclass(frozen=True, slots=True)
class _Candidate:
    """A phrase that could be the speaker: a taxonomy mention (entry) or a reference (ref)."""

    start: int
    end: int
    entry: SourceEntry | None
    ref: str  # "" for a taxonomy mention, else the _REF_RE group name
    text: str


@dataclass(frozen=True, slots=True)
class _Sentence:
    text: str  # as given, for cues
    norm: str  # apostrophes normalised
    outside: str  # normalised, quotes blanked
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


@dataclass(frozen=True, slots=True)
class _Cue:
    candidate: _Candidate | None  # None: the speaker is not a phrase we know
    start: int
    end: int
    negated: bool = False


# --- the rules: each looks at one sentence and returns the cue it found, or None ------------


def _according_to(s: _Sentence) -> _Cue | None:
    """ "..., according to X": X is the source of the whole sentence, so this rule goes first."""
    match = _ACCORDING_TO_RE.search(s.outside)
    if match is None:
        return None
    # The source starts where the object does, or after "a statement by"; an alias may
    # itself begin with "the" ("the Defence Ministry").
    after = s.first_after(match.start("object"))
    if after is not None and after.start <= match.end():
        return _Cue(after, match.start(), after.end)
    # An unknown source ("according to Reuters"): still a claim, shown up to the next comma.
    end = len(s.text)
    for stop in ",;.":
        found = s.text.find(stop, match.end())
        if found != -1:
            end = min(end, found)
    return _Cue(None, match.start(), end)


def _speaker_before_verb(s: _Sentence) -> _Cue | None:
    """ "X said", "X had reported", "Y, X's envoy, said": the subject right before the verb is the
    speaker; a party named earlier ("Accusing Kyiv of ..., the ministry said") is not."""
    verbs = [(m, False) for m in _SPEECH_VERB_RE.finditer(s.outside)]
    verbs += [(m, True) for m in _EVIDENCE_VERB_RE.finditer(s.outside)]
    verbs.sort(key=lambda pair: pair[0].start())
    for verb, evidence in verbs:
        subject = s.subject_before(verb.start())
        if subject is None or (evidence and subject.entry is None):
            continue
        gap = s.outside[subject.end : verb.start()]
        if _SUBJECT_GAP_RE.fullmatch(gap):
            negated = _NEGATION_RE.search(gap) is not None
            return _Cue(subject, subject.start, verb.end(), negated)
    return None


def _said_inversion(s: _Sentence) -> _Cue | None:
    """'"...," said X' / '..., said X': the speaker follows the verb after a comma or quote.
    Only say/add/write invert; "told X" names the listener, "accused X" the accused."""
    for verb in re.finditer(r"(?<=[,\s])(said|says|added|wrote|noted)\s+", s.outside):
        # Read the unmasked text: the closing quote mark itself is blanked in `outside`.
        if not s.norm[: verb.start()].rstrip().endswith((",", '"', "\u201d")):
            continue
        after = s.first_after(verb.end())
        if after is not None and after.start == verb.end():
            return _Cue(after, verb.start(), after.end)
    return None


def _in_statement(s: _Sentence) -> _Cue | None:
    """ "In a statement on Telegram, X ...": X is the author; the platform it was posted on
    (a social_media or media mention right after "on") is not."""
    for match in _IN_STATEMENT_RE.finditer(s.outside):
        for cand in s.candidates:
            if cand.start < match.end() or cand.start - match.end() > 60:
                continue
            if s.outside[: cand.start].rstrip().lower().endswith(" on"):
                continue  # "on social media": where, not who
            if _STATEMENT_GAP_RE.fullmatch(s.outside[match.end() : cand.start]):
                return _Cue(cand, match.start(), cand.end)
    return None


def _pronoun_continuation(s: _Sentence) -> _Cue | None:
    """ "It provided no additional information": see _PRONOUN_CONTINUATION_RE."""
    match = _PRONOUN_CONTINUATION_RE.match(s.outside)
    if match is None:
        return None
    pronoun = _Candidate(
        match.start("pronoun"), match.end("pronoun"), None, "pronoun", match["pronoun"]
    )
    return _Cue(pronoun, match.start(), match.end())


def _bare_speech_verb(s: _Sentence) -> _Cue | None:
    """ "A spokesman for the governor said ...": reported speech whose speaker is not in the
    taxonomy; still a claim. The cue shows the verb with up to three words before it."""
    verb = _BARE_VERB_RE.search(s.outside)
    if verb is None:
        return None
    lead = re.search(r"(?:[\w'-]+\s+){0,3}$", s.outside[: verb.start()])
    return _Cue(None, lead.start() if lead else verb.start(), verb.end())


_RULES: tuple[Callable[[_Sentence], _Cue | None], ...] = (
    _according_to,
    _speaker_before_verb,
    _said_inversion,
    _in_statement,
    _pronoun_continuation,
    _bare_speech_verb,
)


# --- memory of recently mentioned sources ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Mention:
    entry: SourceEntry
    paragraph: int
    speaker: bool  # the (non-negated) speaker of its sentence, not merely mentioned


class _Memory:
    """What the article said so far: recent mentions, and the previous sentence's source."""

    def __init__(self) -> None:
        self.mentions: deque[_Mention] = deque(maxlen=_MEMORY_SIZE)
        self.paragraph = 0
        self.previous: SourceEntry | None = None

    def recent(self) -> Iterable[_Mention]:
        """Most recent first, within the anaphora window."""
        oldest = self.paragraph - ANAPHORA_PARAGRAPHS
        return (m for m in reversed(self.mentions) if m.paragraph >= oldest)

    def remember(self, mentions: Iterable[SourceEntry], speaker: SourceEntry | None) -> None:
        for entry in mentions:
            self.mentions.append(_Mention(entry, self.paragraph, False))
        if speaker is not None:  # last, so the speaker is the most recent mention
            self.mentions.append(_Mention(speaker, self.paragraph, True))


# --- the matcher -----------------------------------------------------------------------------


def _first_word(name: str) -> str:
    words = name.lower().split()
    if words and words[0] == "the":
        words = words[1:]
    return words[0] if words else ""


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
            phrase for e in self._named for phrase in (e.name, *e.aliases)
        )
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

    def find(self, sentence: str) -> list[tuple[int, int, SourceEntry]]:
        """Every taxonomy mention in sentence as (start, end, entry), longest match first at a
        position, left to right, non-overlapping."""
        norm = _normalize(sentence)
        if self._regex is None:
            return []
        return [
            (m.start(), m.end(), self._by_phrase[_phrase_key(m[0])])
            for m in self._regex.finditer(norm)
        ]

    def suggest(
        self, sentences: Sequence[str], paragraph_breaks: Collection[int] = ()
    ) -> list[Suggestion]:
        """One suggestion per sentence, in order. Carries context across sentences for anaphora.
        paragraph_breaks: indices of the sentences that open a new paragraph (see
        paragraph_starts); without them the article counts as one paragraph."""
        breaks = frozenset(paragraph_breaks)
        memory = _Memory()
        out: list[Suggestion] = []
        for i, text in enumerate(sentences):
            if i and i in breaks:
                memory.paragraph += 1
            if _CREDIT_RE.fullmatch(text.strip()):
                out.append(NO_SUGGESTION)
                memory.previous = None
                continue
            out.append(self._suggest_one(self._prepare(text), memory))
        return out

    # -- one sentence ---------------------------------------------------------------------

    def _prepare(self, text: str) -> _Sentence:
        quotes = _quote_spans(text)
        outside = _mask(_normalize(text), quotes)
        found = self.find(text)
        mentions = tuple(entry for _, _, entry in found)
        taken = [(start, end) for start, end, _ in found]
        candidates = [
            _Candidate(start, end, entry, "", text[start:end])
            for start, end, entry in found
            if outside[start:end].strip()  # a mention blanked out lies inside a quote
        ]
        for match in _REF_RE.finditer(outside):
            if any(match.start() < end and start < match.end() for start, end in taken):
                continue  # "Moscow officials" is a name; its "officials" is no reference
            group = match.lastgroup or ""
            candidates.append(_Candidate(match.start(), match.end(), None, group, match[0]))
        candidates.sort(key=lambda c: c.start)
        return _Sentence(
            text=text,
            norm=_normalize(text),
            outside=outside,
            candidates=tuple(candidates),
            candidate_starts=tuple(c.start for c in candidates),
            candidate_ends=tuple(c.end for c in candidates),
            mentions=mentions,
            real_quote=any(_is_real_quote(text, span) for span in quotes),
        )

    def _suggest_one(self, s: _Sentence, memory: _Memory) -> Suggestion:
        cue = next((found for rule in _RULES if (found := rule(s)) is not None), None)
        if cue is None:
            memory.remember(s.mentions, None)
            memory.previous = None
            return NO_SUGGESTION
        cand = cue.candidate
        entry = self._resolve(cand, s, memory) if cand is not None else None
        memory.remember(s.mentions, None if cue.negated else entry)
        memory.previous = entry
        unnamed = (entry is not None and entry.kind == UNNAMED_KIND) or (
            cand is not None and cand.ref in ("officials", "anonymous")
        )
        # Anonymity wins over quoting: it is what the verifier most needs to know.
        if unnamed:
            kind = UNNAMED
        else:
            kind = DIRECT_QUOTE if s.real_quote else PARAPHRASE
        return Suggestion(
            entry.id if entry else None, kind, True, s.text[cue.start : cue.end].strip(" ,")
        )

    # -- resolving references -------------------------------------------------------------

    def _resolve(self, cand: _Candidate, s: _Sentence, memory: _Memory) -> SourceEntry | None:
        if cand.entry is not None:
            return cand.entry
        if cand.ref == "pronoun":
            # "It"/"They" continue the previous sentence's source, and only that one.
            return memory.previous
        if cand.ref in _ANAPHOR_KINDS:
            return self._resolve_anaphor(cand, memory)
        if cand.ref == "officials":
            return self._resolve_officials(cand, s, memory)
        return None  # "a source", "people familiar with the matter": anonymous by design

    def _resolve_anaphor(self, cand: _Candidate, memory: _Memory) -> SourceEntry | None:
        """ "the ministry" -> the most recent ministry of a fitting kind; extra words must fit
        the entry ("the foreign ministry" is not the defence ministry)."""
        words = cand.text.lower().split()[1:]  # drop "the"
        head, modifiers = words[-1], words[:-1]
        if cand.ref == "military":
            head, modifiers = "", []
        kinds = _ANAPHOR_KINDS[cand.ref]
        for mention in memory.recent():
            e = mention.entry
            if e.kind not in kinds:
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
            return self._officials_by_nationality.get(before[1].lower())
        recent = [m for m in memory.recent() if m.entry.kind == UNNAMED_KIND]
        for mention in recent:
            if mention.speaker:
                return mention.entry
        if recent:
            return recent[0].entry
        for mention in reversed(memory.mentions):
            if mention.entry.kind == UNNAMED_KIND:
                return mention.entry
            found = self._officials_by_nationality.get(_first_word(mention.entry.name))
            if found is not None:
                return found
        return None


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
    return re.compile(rf"(?<!\w)(?:{'|'.join(parts)})(?!\w)", re.IGNORECASE)


# --- status hints ----------------------------------------------------------------------------

# Phrases by which an article says it could not check what it reports.
_UNVERIFIED_RE = re.compile(
    r"(?:has|have|had)\s+not\s+been\s+(?:possible|able)\s+to\s+(?:independently\s+)?verify"
    r"|(?:could|can|cannot|can't|could\s+not|was\s+unable\s+to|were\s+unable\s+to)"
    r"(?:\s+not)?\s+(?:be\s+)?independently\s+verif(?:y|ied)"
    r"|not\s+(?:been\s+)?independently\s+(?:verified|confirmed)"
    r"|unable\s+to\s+(?:independently\s+)?verify",
    re.IGNORECASE,
)


def status_hint(body: str) -> str | None:
    """The status code the article's own wording supports for its claims, if any.

    An article that says it "has not been possible to verify the claims" or "could not
    independently verify" them makes "unverified" the right default for its claims.
    """
    return "unverified" if _UNVERIFIED_RE.search(_normalize(body)) else None
