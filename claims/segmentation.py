"""Split news bodies into sentences, agency datelines and photo credits, with exact offsets."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

SENTENCE = "sentence"
CREDIT = "credit"
DATELINE = "dateline"


@dataclass(frozen=True, slots=True)
class Segment:
    start: int  # offset into the ORIGINAL body string
    end: int  # body[start:end] == text, exactly
    text: str
    kind: str  # SENTENCE, CREDIT or DATELINE


class HeaderError(ValueError):
    """The body starts with a `date ...` header whose date cannot be used."""


# Anything shaped like a date is taken as a header attempt, so that a typo such as
# 2023-1-5 or 2023-13-45 is reported instead of silently becoming the first sentence.
_HEADER_RE = re.compile(r"\s*date[ \t]+(\d+-\d+-\d+)(?=\s|\Z)\s*")
_ISO_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_header(body: str) -> tuple[datetime.date | None, int]:
    """If body starts (after optional whitespace) with `date YYYY-MM-DD` followed by whitespace,
    return (date, offset where the text after the header starts); else (None, 0).
    A header whose date does not parse (e.g. 2023-13-45, 2023-1-5) raises HeaderError."""
    match = _HEADER_RE.match(body)
    if match is None:
        return None, 0
    raw = match.group(1)
    if not _ISO_DATE_RE.fullmatch(raw):
        raise HeaderError(
            f"invalid date '{raw}' in the 'date YYYY-MM-DD' header: "
            "write it with a 4-digit year and 2-digit month and day, e.g. 'date 2023-12-30'"
        )
    try:
        return datetime.date.fromisoformat(raw), match.end()
    except ValueError as exc:
        raise HeaderError(f"invalid date '{raw}' in the 'date YYYY-MM-DD' header: {exc}") from None


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# --- photo credits -------------------------------------------------------------------------

# A credit sits at the end of a paragraph (glued after the caption or on a line of its own):
# "Credit: AP", "Photo: Reuters", "Photograph: A. Name/AFP/Getty Images", "(AP Photo/John Doe)".
# It never contains sentence punctuation or quotes and is short, which keeps
# "Credit card payments were suspended." and "The credit agency said ..." as sentences.
_CREDIT_RE = re.compile(
    r"(?:(?:Photo|Image|Picture)\s+credit|Photo(?:graph)?s?|Images?|Pictures?|Credits?|Foto|Фото)"
    r":[ \t]*[^\s\"\u201c\u201d'\u2018\u2019.!?][^\"\u201c\u201d!?]{0,80}(?<![.:;,])$"
    r"|\([^()\"\u201c\u201d]{0,60}\b(?:Photos?|Credit|Pictures?)\b[^()\"\u201c\u201d]{0,60}\)$"
)
# What may stand right before a glued credit: the end of the caption sentence.
_CAPTION_END = frozenset(".!?\"\u201d\u2019')]\u2026")


# After a " | " separator a credit may also be bare: "Rescuers at work | Reuters". Bare, it
# must look like a byline: a few capitalised words, "/" between them ("Ivan Petrenko/AP"),
# so that "War in Ukraine | live updates" keeps its tail.
_BYLINE_WORD_RE = re.compile(r"[^\s/]+")
_BYLINE_JOINERS = _words("via by for and & of de da van von der та и \u0456")  # \u0456: "and"
_BYLINE_BANNED = frozenset('!?"\u201c\u201d\u00ab\u00bb:;|')


def _is_byline(body: str, start: int, end: int) -> bool:
    """True if body[start:end] is a bare agency or photographer name ("Reuters", "A. Name/AFP")."""
    if (
        end - start > 60
        or body[end - 1] in ".,;:"
        or any(c in _BYLINE_BANNED for c in body[start:end])
    ):
        return False
    words = _BYLINE_WORD_RE.findall(body, start, end)
    return (
        len(words) <= 8
        and any(w[0].isupper() for w in words)  # "Kyiv | 12 | 15" is a table row
        and all(w[0].isupper() or w[0].isdigit() or w in _BYLINE_JOINERS for w in words)
    )


def _piped_credit_start(body: str, start: int, end: int) -> int:
    """Return where a credit after the last " | " of body[start:end] begins, or -1."""
    bar = body.rfind("|", start, end)
    if bar < 0 or bar + 1 >= end or body[bar + 1] not in " \t":
        return -1
    if bar > start and body[bar - 1] not in " \t":
        return -1
    pos = bar + 1
    while body[pos] in " \t":
        pos += 1
    if _CREDIT_RE.match(body, pos, end) or _is_byline(body, pos, end):
        return pos
    return -1


def _credit_start(body: str, start: int, end: int) -> int:
    """Return where a trailing photo credit begins in body[start:end], or -1 if there is none."""
    if body.find("|", start, end) >= 0:
        pos = _piped_credit_start(body, start, end)
        if pos >= 0:
            return pos
    # Cheap pre-check: almost no line has a credit, and regex search anchored at $ is not free.
    if body[end - 1] != ")" and body.find(":", start, end) < 0:
        return -1
    match = _CREDIT_RE.search(body, start, end)
    while match is not None:
        pos = match.start()
        before = body[start:pos].rstrip()
        if not before or (pos > start and body[pos - 1].isspace() and before[-1] in _CAPTION_END):
            return pos
        match = _CREDIT_RE.search(body, pos + 1, end)
    return -1


# --- datelines -----------------------------------------------------------------------------

# An agency dateline opens a paragraph: the place in capitals, then either
#   a date and the agency between slashes: "KYIV, August 11. /Ukrinform/.", "MOSCOW, August 11.
#   /TASS/." (the full stops inside would otherwise make three sentences of it), or
#   the agency in brackets and a dash:      "KYIV, Ukraine (AP) —", "KYIV, Aug 11 (Reuters) -".
# The date or region starts with a capital or a digit; without one the bracket must be short
# ("KYIV (AFP) -"), so that an acronym and its expansion stays a sentence
# ("NATO (North Atlantic Treaty Organization) — the alliance"). Possessive repeats keep a line
# that is no dateline from costing more than one pass over its first words.
_DATELINE_RE = re.compile(
    r"(?P<place>[^\W\d_][\w'\u2019.]*+(?:[ \t-][^\W\d_][\w'\u2019.]*+){0,3})"
    r"(?:,[ \t]+(?P<date>[^\W_][^\n/!?]{0,40}+)(?<=[ \t])/[^/\n]{1,80}/\.?"
    r"|(?:,[ \t]+(?P<region>[^\W_][^\n()!?]{0,40}+)(?<=[ \t])\([^()\n]{1,30}\)"
    r"|[ \t]+\([^()\n]{1,12}\))[ \t]+[\u2014\u2013-]{1,2})(?=\s|$)"
)


def _dateline_end(body: str, start: int, end: int) -> int:
    """Return where a dateline opening body[start:end] ends, or -1 if there is none."""
    match = _DATELINE_RE.match(body, start, end)
    if match is None:
        return -1
    lead = match.group("date") or match.group("region")  # None in "KYIV (AFP) -"
    if not match.group("place").isupper():
        return -1
    if lead is not None and not (lead[0].isupper() or lead[0].isdigit()):
        return -1
    return match.end()


# --- sentence boundaries -------------------------------------------------------------------


# A candidate boundary: terminal punctuation, optional closing quotes/brackets and footnote
# markers ("personnel.[1]", "[1][2]": they stay with the sentence they annotate), then whitespace.
# Requiring whitespace means decimals (3.5), URLs, e-mails and "U.S.-led" never qualify.
_CANDIDATE_RE = re.compile(r"[.!?\u2026]+[\"'\u201d\u2019\u00bb)\]]*(?:\[\d{1,3}\])*(?=\s)")
_OPENERS = "\"'\u201c\u2018\u00ab([-\u2013\u2014"
_NEXT_WORD_RE = re.compile(r"[\"'\u201c\u2018\u00ab(\[]*([^\s\"'\u201d\u2019\u00bb),;:!?]*)")

# Titles stand before a name, so a capitalised word after them never starts a sentence.
_TITLES = _words(
    "mr mrs ms dr prof gen lt col maj capt cpt sgt cpl pvt adm brig cmdr cdr pres sen rep gov "
    "st mt ft fr rev hon amb insp supt messrs mme mlle gens lieut sr jr"
)
# Words that take a number after them ("No. 10", "Jan. 3", "approx. 200").
_NUMBER_PREFIXES = _words(
    "no nos art p pp vol fig figs ch sec para approx ca est op "
    "jan feb mar apr jun jul aug sep sept oct nov dec "
    # Russian and Ukrainian: article, house, item, part, figure, table, chapter, page, phone...
    "ст д п ч рис табл гл стр тел кв корп"
)
# Other abbreviations: a lowercase word after them continues the sentence ("etc. and").
_ABBREVIATIONS = (
    _TITLES
    | _NUMBER_PREFIXES
    | _words(
        "etc vs v inc ltd co corp dept univ assn bros est govt min max approx al cf "
        "mon tue tues wed thu thur thurs fri sat sun"
    )
)
# After a dotted acronym (U.S., U.K., J.R.R.) a capitalised word is usually a name
# ("U.N. Security Council", "J.R.R. Tolkien"); only these words are taken as a new sentence.
_SENTENCE_STARTERS = _words(
    "The A An He She It They We I You This That These Those There His Her Its Their Our My "
    "But And Yet So However Meanwhile Later Earlier In On At After Before When While If "
    "Officials Police"
)
# "5 p.m. Monday" / "9 a.m. GMT" continue; "at 11 p.m. Two people were hurt." does not.
# So do "a.m. (0500 GMT)" and "p.m. Kyiv time" (see _is_boundary).
_TIME_FOLLOWERS = _words(
    "Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March April May "
    "June July August September October November December Jan Feb Mar Apr Jun Jul Aug Sep Sept "
    "Oct Nov Dec GMT UTC BST CET CEST EET EEST MSK ET EST EDT PT PST PDT Kyiv Moscow"
)
_TIME_WORD_RE = re.compile(r"[ \t]+time\b", re.IGNORECASE)
_LIST_MARKER_RE = re.compile(r"\(?(?:\d{1,3}|[a-zA-Z]|[ivxIVX]{1,4})[.)]")


def _is_dotted_acronym(core: str) -> bool:
    """True for U.S / J.R.R / a.m (the token without its final dot): single letters and dots."""
    parts = core.split(".")
    return len(parts) > 1 and all(len(p) == 1 and p.isalpha() for p in parts)


def _is_boundary(body: str, span_start: int, match: re.Match[str], span_end: int) -> bool:
    """Decide whether the candidate `match` ends a sentence (see the rules in each branch)."""
    punct_end = match.start()
    while body[punct_end] in ".!?\u2026":
        punct_end += 1
    punct = body[match.start() : punct_end]
    closed = punct_end < match.end()  # a quote or bracket closes after the punctuation

    nxt_pos = match.end()
    while nxt_pos < span_end and body[nxt_pos].isspace():
        nxt_pos += 1
    if nxt_pos >= span_end:
        return False  # nothing follows inside this line: the span end is the boundary anyway
    word_match = _NEXT_WORD_RE.match(body, nxt_pos, span_end)
    word = word_match.group(1) if word_match else ""
    first = word[:1] or body[nxt_pos]

    # The token the punctuation belongs to, e.g. "U.S." -> core "U.S", "Gen." -> "Gen".
    tok_start = match.start()
    while tok_start > span_start and not body[tok_start - 1].isspace():
        tok_start -= 1
    token = body[tok_start : match.start()].lstrip(_OPENERS)
    is_plain_period = punct == "." and not closed
    core = token
    lower = core.lower()

    # "1. Grain exports will resume." - a list number at the start of a line is no sentence.
    if tok_start == span_start and _LIST_MARKER_RE.fullmatch(body[tok_start:punct_end]):
        return False

    if is_plain_period and (lower == "a.m" or lower == "p.m"):
        # "7.00 a.m. (0500 GMT)", "9 a.m. Monday", "a.m. Moscow time", "p.m. local time"
        # continue; "at 11 p.m. Two people were hurt." and "at 6 a.m. 3 people ..." split.
        if first.islower() or body[nxt_pos] == "(":
            return False
        if first.isdigit():
            return True
        if word.rstrip("+-\u22120123456789:") in _TIME_FOLLOWERS:
            return False
        after = word_match.end() if word_match else nxt_pos
        return _TIME_WORD_RE.match(body, after, span_end) is None

    if first.islower():
        # '"Is this war?" she asked.', '"We waited... and waited"', "etc. and", "p.m. on".
        if not is_plain_period:
            return False
        # Russian and Ukrainian sentences never start in lowercase: after a Cyrillic word the
        # period is an abbreviation's (thousands, year, "and so on"; tests/test_segmentation.py).
        cyrillic = any("\u0400" <= ch <= "\u04ff" for ch in core)
        return not (
            lower in _ABBREVIATIONS or _is_dotted_acronym(core) or len(core) == 1 or cyrillic
        )
    if first.isdigit():
        # "No. 10", "Jan. 3", "20%... 30%" continue; "injured. 108 others were ..." splits.
        if "\u2026" in punct or "..." in punct:
            return False
        return not (is_plain_period and lower in _NUMBER_PREFIXES)
    if not is_plain_period:
        return True  # "It's over!" The crowd ... / "... absurd." It said ...
    if lower in _TITLES:
        return False  # "Gen. Valerii Zaluzhnyi", "St. Petersburg"
    if len(core) == 1 and core.isupper():
        # Initials ("John F. Kennedy", "H. G. Wells") unless a sentence clearly starts: "on X. He"
        return word in _SENTENCE_STARTERS
    if _is_dotted_acronym(core):
        return word in _SENTENCE_STARTERS  # "moved to the U.S. She was 12" vs "U.K. Ministry"
    return True


def _split_sentences(body: str, start: int, end: int, out: list[Segment]) -> None:
    """Append the sentences of body[start:end] (one line, already stripped) to out."""
    seg_start = start
    for match in _CANDIDATE_RE.finditer(body, start, end):
        if match.start() < seg_start or not _is_boundary(body, seg_start, match, end):
            continue
        out.append(Segment(seg_start, match.end(), body[seg_start : match.end()], SENTENCE))
        seg_start = match.end()
        while seg_start < end and body[seg_start].isspace():
            seg_start += 1
    if seg_start < end:
        out.append(Segment(seg_start, end, body[seg_start:end], SENTENCE))


_LINE_RE = re.compile(r"[^\r\n]+")


def _segment_line(body: str, start: int, end: int, out: list[Segment]) -> None:
    """Segment one line: a leading dateline, sentences, then a trailing photo credit, each its
    own segment."""
    while start < end and body[start].isspace():
        start += 1
    while end > start and body[end - 1].isspace():
        end -= 1
    if start == end:
        return
    # Cheap pre-check, as almost no line has a dateline: its place is in capitals.
    if (
        end - start > 1
        and body[start + 1].isupper()
        and (dateline := _dateline_end(body, start, end)) >= 0
    ):
        out.append(Segment(start, dateline, body[start:dateline], DATELINE))
        start = dateline
        while start < end and body[start].isspace():
            start += 1
        if start == end:
            return
    credit = _credit_start(body, start, end)
    text_end = end if credit < 0 else credit
    while text_end > start and body[text_end - 1].isspace():
        text_end -= 1
    if credit >= 0 and text_end > start and body[text_end - 1] == "|":  # the " | " is no text
        text_end -= 1
        while text_end > start and body[text_end - 1].isspace():
            text_end -= 1
    if text_end > start:
        _split_sentences(body, start, text_end, out)
    if credit >= 0:
        out.append(Segment(credit, end, body[credit:end], CREDIT))


def segment(body: str) -> list[Segment]:
    """Split body into sentences/datelines/credits, skipping a leading date header (it is metadata,
    never a Segment). Offsets are into the original body, never altered. Segments are stripped
    of surrounding whitespace, in order, non-overlapping, non-empty."""
    _, pos = parse_header(body)
    out: list[Segment] = []
    # Every line break is a paragraph break: news bodies often carry one paragraph per line.
    for line in _LINE_RE.finditer(body, pos):
        _segment_line(body, line.start(), line.end(), out)
    return out
