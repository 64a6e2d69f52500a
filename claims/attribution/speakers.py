"""Speakers the taxonomy does not know: the noun phrase before or after a reporting verb, and
a guess of the new source's name, kind and side from its words."""

from __future__ import annotations

import re

from claims.attribution.types import NewSource

# Nouns that make a phrase a speaker: "regional governor", "a spokesman for the brigade".
ROLE_WORDS = frozenset(
    """governor mayor spokesman spokeswoman spokesperson head chief commander minister official
    officials analyst analysts expert experts researcher director secretary adviser advisor envoy
    ambassador prosecutor prosecutors lawmaker lawmakers deputy chairman chairwoman president
    representative officer officers general colonel lieutenant captain major sergeant soldier
    soldiers medic medics doctor doctors witness witnesses eyewitness eyewitnesses resident
    residents volunteer volunteers engineer economist professor scientist correspondent reporter
    journalist blogger activist lawyer ombudsman ombudsperson administration council agency
    institute watchdog monitor mission operator company brigade regiment battalion unit command
    office service police ministry navy army forces staff authorities authority governor's
    spokesmen rescuers rescuer emergency services hospital prime chancellor premier leader
    leaders operator utility operators tank group groups forum centre center foundation
    committee commission network channel outlet newspaper broadcaster force neighbour
    neighbor worker workers nurse teacher farmer driver mother father wife husband son daughter
    pensioner student survivor owner manager priest evacuee refugee villager miner paramedic
    guard headquarters management department directorate inspectorate regulator fleet
    coordinator coordinators spokespeople""".split()
)
# The role nouns that name one person: "the spokeswoman" may refer back to the latest person
# who spoke.
PERSON_ROLE_WORDS = frozenset(
    """governor mayor spokesman spokeswoman spokesperson commander minister official analyst
    expert researcher director secretary adviser advisor envoy ambassador prosecutor lawmaker
    chairman chairwoman president representative officer general colonel lieutenant captain
    major sergeant soldier medic doctor witness eyewitness resident volunteer engineer economist
    professor scientist correspondent reporter journalist blogger activist lawyer ombudsman
    ombudsperson chancellor premier leader worker nurse teacher farmer driver mother father wife
    husband son daughter pensioner student survivor owner manager priest evacuee refugee villager
    miner paramedic guard coordinator""".split()
)
assert PERSON_ROLE_WORDS <= ROLE_WORDS
# Lowercase words that may stand inside such a phrase.
_GLUE = frozenset("of for the a an at in and on 's regional local deputy senior press".split())
_MODIFIERS = frozenset(
    """regional local deputy senior press top military defence defense foreign interior city
    district state federal national presidential chief acting former executive nuclear energy
    health police emergency human rights think independent international western russian
    ukrainian british american polish military-civil clinical grid state-owned civil occupation
    russian-installed moscow-installed kremlin-appointed pro-russian pro-kremlin air naval border
    frontline
    front-line""".split()
)
_FUNCTION = frozenset(
    """the a an but and however meanwhile earlier later also then now in on at of for he she
    we they i you all there reports report this these those some many most others both each
    everyone nobody people
    this that these those it its his her their our we i you yesterday today tonight
    monday tuesday wednesday thursday friday saturday sunday january february march april may
    june july august september october november december when while after before as if""".split()
)
_TOKEN_RE = re.compile(r"[\w'\u2019.-]*\w|[^\w\s]")

_KIND_WORDS = (
    (
        "military",
        "army brigade regiment battalion unit command forces navy troops commander "
        "general colonel lieutenant captain major sergeant soldier soldiers staff military",
    ),
    (
        "emergency",
        "rescue rescuers emergency fire firefighters ambulance hospital medics doctor "
        "doctors medic",
    ),
    (
        "media",
        "agency newspaper broadcaster channel outlet correspondent reporter journalist "
        "television tv radio news",
    ),
    ("social_media", "blogger telegram account"),
    (
        "international",
        "institute watchdog mission foundation forum centre center committee "
        "organisation organization ngo un nato red cross think tank analyst analysts researcher "
        "university professor expert experts group monitor network",
    ),
    ("head_of_state", "president prime chancellor premier kremlin"),
    (
        "government",
        "governor mayor ministry minister administration council office official "
        "officials authorities authority prosecutor prosecutors lawmaker deputy ombudsman "
        "ombudsperson ambassador envoy spokesman spokeswoman spokesperson government police "
        "service operator company utility",
    ),
)
_SIDE_WORDS = (
    (
        "Russia",
        "russian russia russia's moscow kremlin belgorod kursk bryansk russian-installed "
        "moscow-installed kremlin-appointed pro-russian pro-kremlin crimea",
    ),
    (
        "Ukraine",
        "ukrainian ukraine ukraine's kyiv kharkiv odesa dnipro lviv zaporizhzhia kherson "
        "sumy mykolaiv chernihiv poltava zhytomyr",
    ),
    ("United States", "us u.s. american washington pentagon"),
    ("United Kingdom", "british uk britain london"),
    ("Poland", "polish poland warsaw"),
)


def _is_cap(word: str) -> bool:
    return word[:1].isupper() and word.lower() not in _FUNCTION


_ORDINAL_RE = re.compile(r"\d+(?:st|nd|rd|th)")


def _np_word(word: str) -> bool:
    low = word.lower()
    return (
        _is_cap(word)
        or low in ROLE_WORDS
        or low in _MODIFIERS
        or low in ("of", "for", "the", "'s", "\u2019s")
        or _ORDINAL_RE.fullmatch(low) is not None  # "the 93rd Brigade"
        or (low.endswith(("'s", "\u2019s")) and _is_cap(word))
    )


def phrase_before(text: str, end: int) -> tuple[int, int] | None:
    """The speaker phrase ending at end: capitalised words, role nouns and their glue,
    walking back from end; None unless it has a name or a role."""
    window_start = max(0, end - 160)
    # finditer's positions count from the start of text, not of the window
    tokens = [(m.start(), m.end(), m[0]) for m in _TOKEN_RE.finditer(text, window_start, end)]
    taken: list[tuple[int, int, str]] = []
    for i in range(len(tokens) - 1, -1, -1):
        tok = tokens[i]
        if tok[2] in ("'", "\u2019") and taken and _plural_possessive(tokens, i):
            taken.append(tok)  # "The United Arab Emirates' Foreign Ministry"
            continue
        if not (tok[2][0].isalnum() and _np_word(tok[2])):
            break
        taken.append(tok)
    taken.reverse()
    return _trim(taken)


def _plural_possessive(tokens: list[tuple[int, int, str]], i: int) -> bool:
    """tokens[i] is an apostrophe right after a capitalised word in s ("Emirates'")."""
    if i == 0:
        return False
    before = tokens[i - 1]
    return before[1] == tokens[i][0] and before[2].endswith("s") and _is_cap(before[2])


def phrase_after(text: str, start: int) -> tuple[int, int] | None:
    """The speaker phrase starting at start ('"...," said Hanna Levchuk, a researcher')."""
    taken = []
    for m in _TOKEN_RE.finditer(text, start, min(len(text), start + 160)):
        if not (m[0][0].isalnum() and _np_word(m[0])):
            break
        taken.append((m.start(), m.end(), m[0]))
    return _trim(taken)


def _trim(taken: list[tuple[int, int, str]]) -> tuple[int, int] | None:
    while taken and taken[0][2].lower() in ("of", "for", "'s", "\u2019s", "'", "\u2019"):
        taken.pop(0)
    while taken and taken[-1][2].lower() in _GLUE:
        taken.pop()
    if not taken:
        return None
    words = [t[2] for t in taken]
    if not any(_is_cap(w) or w.lower() in ROLE_WORDS for w in words):
        return None
    if words[0].lower() in ("the", "a", "an") and len(words) == 1:
        return None
    return taken[0][0], taken[-1][1]


def person_in(phrase: str) -> str | None:
    """The personal name at the end of a phrase ("regional governor Oleh Kovalenko")."""
    words = phrase.split()
    names: list[str] = []
    for word in reversed(words):
        bare = word.strip(",.")
        if (
            _is_cap(bare)
            and bare.lower() not in ROLE_WORDS
            and not bare.isupper()
            and not (bare.endswith(("'s", "\u2019s")))
        ):
            names.append(bare)
        else:
            break
    before = words[len(words) - len(names) - 1].lower() if len(words) > len(names) else ""
    if before in ("of", "the", "for", "and"):
        return None  # "the International Committee of the Red Cross" is no person
    names.reverse()
    return " ".join(names) if len(names) >= 2 else None


def _trailing_name(phrase: str) -> str | None:
    """The capitalised name that ends a descriptive phrase: "national grid operator
    Ukrenergo" -> "Ukrenergo", "Ukraine's Coordination Headquarters for the Treatment of
    Prisoners of War" -> "Coordination Headquarters for the Treatment of Prisoners of War"."""
    words = phrase.split()
    taken: list[str] = []
    for word in reversed(words):
        possessive = word.endswith(("'s", "\u2019s"))
        # a possessive inside the name stays ("Kherson Regional Children's Hospital")
        inside = possessive and len(taken) >= 2
        if (
            (_is_cap(word) and (not possessive or inside))
            or (word.lower() in ("of", "for", "the", "and", "on") and taken)
            or (taken and _ORDINAL_RE.fullmatch(word.lower()))  # "161st Mechanised Brigade"
        ):
            taken.append(word)
        else:
            break
    while taken and taken[-1].lower() in ("of", "for", "the", "and", "on"):
        taken.pop()
    taken.reverse()
    if not taken or len(taken) == len(words):
        return None
    before = words[len(words) - len(taken) - 1]
    if before.lower() in ("of", "for"):
        return None  # "foreign ministry of the United Arab Emirates": the whole is the name
    if before.endswith(("'s", "\u2019s")) and _is_cap(before):
        taken.insert(0, before)  # "Belarus's General Staff"
    return " ".join(taken)


def guess(phrase: str, context: str = "") -> NewSource:
    """A new source from the phrase that names the speaker: its name (the person, else the
    phrase without its article), kind and side from the phrase's words."""
    person = person_in(phrase)
    head = re.split(r"\s+(?:in|at|near)\s+", phrase.strip(), maxsplit=1)[0]
    name = (
        person
        or _trailing_name(head)
        or re.sub(r"^(?:the|a|an)\s+", "", head, flags=re.IGNORECASE)
    )
    words = set(re.findall(r"[\w.'-]+", phrase.lower()))
    kind = "individual" if person else "unknown"
    for candidate, vocabulary in _KIND_WORDS:
        if words & set(vocabulary.split()):
            kind = candidate
            break
    side = ""
    haystack = words | set(re.findall(r"[\w.'-]+", context.lower()))
    for candidate, vocabulary in _SIDE_WORDS:
        if words & set(vocabulary.split()):
            side = candidate
            break
    else:
        for candidate, vocabulary in _SIDE_WORDS:
            if haystack & set(vocabulary.split()):
                side = candidate
                break
    if kind == "unknown":
        kind = "individual"
    return NewSource(name[:200], kind, side)


# --- gender from a first name, for "he" and "she" ---------------------------------------------

FEMALE, MALE = "f", "m"
# Slavic first names ending in -a that are men's, and common women's names in English copy
# that do not end in -a. Anything else ending in -a/-ia/-ya is taken as a woman's name; a
# Slavic man's ending (-ii, -iy, -yi, -ei, -ey, -o) or a listed name as a man's; else unknown.
_MALE_IN_A = frozenset(
    """mykola nikita mykyta ilya illia ilia kuzma luka foma sasha misha grisha vanya kolya
    petya andrea joshua luca noah elijah jonah ezra""".split()
)
_FEMALE_NAMES = frozenset(
    """kate katherine catherine karen ann anne alice elizabeth margaret ruth helen ellen
    rachel sarah susan jane janet joan judith ingrid astrid sigrid mary marie caroline
    charlotte louise rose grace emily amy lucy nicole michelle isabelle claire frances
    kristen kirsten lyubov liubov""".split()
)
_MALE_NAMES = frozenset(
    """john james david michael peter paul mark robert richard thomas william george charles
    joseph daniel matthew andrew anthony stephen steven edward brian kevin jason frank
    ivan oleg oleh olexandr oleksandr aleksandr alexander alexei oleksii denys denis roman
    igor ihor ivan vadim vadym vladimir volodymyr vladyslav vitaly vitalii maksym maxim
    pavel pavlo petro pyotr sergei serhii serhiy yuri yurii yuriy dmitry dmytro mikhail
    mykhailo boris borys ruslan taras bohdan stepan anton artem arseniy yevhen yevgeny
    viktor victor emmanuel olaf rishi donald joe keir friedrich antonio jens rafael""".split()
)


def gender(name: str) -> str:
    """FEMALE, MALE or "" (unknown) for a person's name, by its first word."""
    words = name.split()
    if len(words) < 2:
        return ""  # a surname or a role alone tells nothing
    first = words[0].lower().strip(".,")
    if first in _MALE_IN_A or first in _MALE_NAMES:
        return MALE
    if first in _FEMALE_NAMES or first.endswith(("a", "ia", "ya")):
        return FEMALE
    if first.endswith(("ii", "iy", "yi", "ei", "ey", "o")) and len(first) > 3:
        return MALE
    return ""
