"""Suggestions for Russian and Ukrainian articles: cues and names matched by lemma.

Russian and Ukrainian copy attributes with a reporting verb on either side of its speaker
("Губернатор Иван Петров заявил", "— заявил глава региона Иван Петров", "Об этом сообщили в
Минобороны России"), with "по словам / по данным X" ("за словами / за даними X") and with a dash
after a quote («...», — сказал он). Words are compared by lemma (claims.attribution.lemmas), so
"заявили", "заявила", "заявив" are one cue and "Министерства обороны РФ" is the alias
"Министерство обороны РФ".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from contextvars import ContextVar
from typing import NamedTuple

from claims.attribution import lemmas
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

CUE_VERBS = frozenset(
    # Russian
    """заявить заявлять сообщить сообщать сказать говорить отметить отмечать подчеркнуть
    подчёркивать подчеркивать написать писать добавить добавлять утверждать уточнить уточнять
    рассказать рассказывать передать передавать признать признавать опровергнуть опровергать
    объявить объявлять пояснить пояснять предупредить предупреждать констатировать оценить
    оценивать обвинить обвинять информировать проинформировать указать указывать считать
    подтвердить подтверждать заверить заверять сообщаться напомнить напоминать отчитаться
    доложить докладывать выразить опубликовать публиковать назвать называть объяснить
    объяснять повторить повторять настаивать охарактеризовать отрицать возразить
    предположить допустить признаться уверять ответить отвечать обратить отвергнуть отвергать
    заявити заявляти повідомити повідомляти сказати казати зазначити зазначати наголосити
    наголошувати написати писати додати додавати стверджувати уточнити уточнювати розповісти
    розповідати передати передавати визнати визнавати спростувати спростовувати оголосити
    оголошувати пояснити пояснювати попередити попереджати констатувати оцінити оцінювати
    звинуватити звинувачувати інформувати поінформувати вказати вказувати вважати
    підтвердити підтверджувати запевнити запевняти нагадати нагадувати відзвітувати
    доповісти доповідати опублікувати публікувати скаржитися жаловаться назвати називати
    закликати призвать повторити повторювати наполягати охарактеризувати заперечувати
    заперечити припустити відповісти відповідати звернути підкреслити підкреслювати відкинути
    відкидати""".split()
)
# Impersonal forms report without a speaker ("Сообщается, что", "Повідомляється"): no source.
_IMPERSONAL = frozenset("сообщаться сообщается повідомлятися повідомляється".split())
_PREPOSITION_CUES = frozenset(
    {
        ("по", "словам"),
        ("по", "данным"),
        ("по", "информации"),
        ("по", "сведениям"),
        ("по", "оценкам"),
        ("по", "оценке"),
        ("по", "мнению"),
        ("за", "словами"),
        ("за", "даними"),
        ("за", "інформацією"),
        ("за", "оцінками"),
        ("за", "оцінкою"),
        ("на", "думку"),
        ("согласно",),
        ("згідно",),
    }
)
ROLE_LEMMAS = frozenset(
    """губернатор глава мэр мер президент премьер-министр министр міністр пресс-секретарь
    прес-секретар представитель представник спикер речник командующий командувач командир
    начальник голова очільник руководитель керівник директор советник радник посол депутат
    аналитик аналітик эксперт експерт заместитель заступник сотрудник співробітник
    военнослужащий військовослужбовець житель мешканець свидетель свідок очевидец очевидець
    врач лікар журналист журналіст корреспондент кореспондент уполномоченный уповноважений
    омбудсмен прокурор минобороны міноборони мэрия администрация адміністрація ведомство
    відомство министерство міністерство штаб служба агентство управление управління
    пресс-служба прес-служба
    командование командування бригада полк ова ода мва вца гур сбу фсб мвс мвд нгу
    поліція полиция прокуратура дипломат дипломатка правительство уряд посольство
    аналітик волонтер волонтёр координатор автор мид мзс институт інститут канал издание
    видання военный військовий""".split()
)
_INSTITUTION_ANAPHORS = frozenset(
    "институт інститут агентство издание видання канал администрация адміністрація "
    "минобороны міноборони ведомство відомство министерство "
    "міністерство штаб служба агентство пресс-служба прес-служба командование командування "
    "управление управління".split()
)
# Roles of one person: a bare one ("сказала дипломат") is the person who spoke last.
_PERSON_ROLES = frozenset(
    """дипломат дипломатка эксперт експерт аналитик аналітик представитель представник
    пресс-секретарь прес-секретар спикер речник речниця военный військовий""".split()
)
# "the regional head", "the governor": one office under several names.
_HEAD_OF_REGION = frozenset("губернатор глава голова очільник начальник".split())
_PRONOUNS_PERSON = frozenset("он она він вона".split())
_PRONOUNS_PLURAL = frozenset("они вони".split())
_OFFICIALS = frozenset("власти власть влада чиновник посадовець официальный".split())
_GAP_WORDS = frozenset(
    """также тоже ранее позже ещё еще уже вновь снова вчера сегодня накануне вечером утром
    ночью днем днём официально публично также також раніше пізніше вже знову вчора сьогодні
    напередодні ввечері вранці вночі вдень офіційно публічно об этом про це при этом
    в у понедельник вторник среду четверг пятницу субботу воскресенье понеділок вівторок
    середу четвер п'ятницю суботу неділю своем своём своєму телеграм-канале telegram-канале
    телеграм-каналі telegram-каналі telegram телеграм соцсетях соцмережах
    брифинге брифінгу эфире ефірі""".split()
)
_RUSSIA = ("росси", "рф", "российск", "москв", "белгород", "курск", "брянск", "кремл", "росій")
_UKRAINE = (
    "украин",
    "україн",
    "киев",
    "київ",
    "харьк",
    "харків",
    "одес",
    "днепр",
    "дніпр",
    "запорож",
    "запоріж",
    "херсон",
    "сум",
    "львов",
    "львів",
    "зсу",
    "всу",
)
_KINDS = (
    (
        "military",
        "командующий командувач командир штаб бригада полк командование командування "
        "военнослужащий військовослужбовець",
    ),
    ("emergency", "спасатель рятувальник врач лікар"),
    (
        "social_media",
        "канал телеграм-канал паблик паблік блогер блогер мониторинговый моніторинговий",
    ),
    ("media", "агентство журналист журналіст корреспондент кореспондент издание видання"),
    ("international", "аналитик аналітик эксперт експерт"),
    ("head_of_state", "президент"),
    (
        "government",
        "губернатор глава мэр мер министр міністр пресс-секретарь прес-секретар "
        "представитель представник спикер речник начальник голова очільник руководитель керівник "
        "директор советник радник посол депутат уполномоченный уповноважений омбудсмен прокурор "
        "мэрия администрация адміністрація ведомство відомство министерство міністерство служба "
        "управление управління",
    ),
)


class _Phrase(NamedTuple):
    first: int  # word indices, inclusive
    last: int
    entry: SourceEntry | None
    kind: str  # "entry", "person", "role", "anaphor", "pronoun", "plural", "officials"


def _is_person(speaker, chunk) -> bool:
    if isinstance(speaker, NewSource):
        return speaker.kind == "individual" or any(w.name for w in chunk)
    if isinstance(speaker, SourceEntry) and speaker.kind in ("individual", "head_of_state"):
        return not speaker.name.lower().startswith("the ")
    return any(w.name for w in chunk)


def _remember_people(words, hits, memory, paragraph, text) -> None:
    """People named in a sentence that claims nothing: "він" may refer to them later."""
    for p in _phrases(words, hits):
        chunk = words[p.first : p.last + 1]
        if p.kind == "person":
            speaker = _new_source(chunk, text)
            roles = frozenset(w.lemma for w in chunk)
            memory.append(_Mention(speaker, paragraph, roles, True))


class _Mention(NamedTuple):
    speaker: Speaker
    paragraph: int
    roles: frozenset[str]
    person: bool


def suggest(
    matcher, sentences: Sequence[str], breaks: frozenset[int], lang: str
) -> list[Suggestion]:
    from claims.attribution import matcher as m  # the shared helpers; imported late (cycle)

    memory: list[_Mention] = []
    paragraph = 0
    previous: Speaker | None = None
    out: list[Suggestion] = []
    for i, text in enumerate(sentences):
        if i and i in breaks:
            paragraph += 1
        if m._CREDIT_RE.fullmatch(text.strip()) or text.rstrip().endswith("?"):
            out.append(NO_SUGGESTION)  # a credit, or a question ("Что говорят в Москве?")
            previous = None
            continue
        quotes = m._quote_spans(text)
        every = lemmas.words(text, lang)
        # A short quote is a name («Энергоатом», «Северный рубеж»): its words stay.
        quotes_out = [q for q in quotes if not _is_quoted_name(text, q)]
        words = [w for w in every if not any(a <= w.start < b for a, b in quotes_out)]
        hits = matcher.find(text, lang, words=every)
        _TEXT.set(text)
        found = _cue(words, hits, text)
        if found is None:
            _remember_people(words, hits, memory, paragraph, text)
            previous = None
            out.append(NO_SUGGESTION)
            continue
        verb, phrase = found
        if phrase is not None and phrase.kind == "pronoun":
            # "Литвак оглядає склад; він заявив": a person named earlier in the sentence
            earlier = [
                p
                for p in _phrases(words, hits)
                if p.last < phrase.first
                and p.kind in ("person", "entry")
                and _is_person(p.entry, words[p.first : p.last + 1])
            ]
            if earlier:
                phrase = earlier[-1]
        speaker = (
            _resolve(matcher, words, phrase, memory, paragraph, previous, text, lang)
            if phrase
            else None
        )
        if speaker is not None:
            chunk = words[phrase.first : phrase.last + 1]
            roles = frozenset(w.lemma for w in chunk)
            roles |= frozenset(lemmas.lemma_key(speaker.name, lang))
            memory.append(_Mention(speaker, paragraph, roles, _is_person(speaker, chunk)))
            memory = memory[-64:]
        previous = speaker
        mention = (words[phrase.first].start, words[phrase.last].end) if phrase else None
        unnamed = (isinstance(speaker, SourceEntry) and speaker.kind == UNNAMED_KIND) or (
            phrase is not None and phrase.kind == "officials"
        )
        real_quote = any(m._is_real_quote(text, q) for q in quotes)
        kind = UNNAMED if unnamed else DIRECT_QUOTE if real_quote else PARAPHRASE
        lo = min(verb[0], mention[0]) if mention else verb[0]
        hi = max(verb[1], mention[1]) if mention else verb[1]
        out.append(
            Suggestion(
                speaker.id if isinstance(speaker, SourceEntry) else None,
                kind,
                True,
                text[lo:hi],
                cue_span=verb,
                mention_span=mention,
                content_span=m.content_span(text, quotes, mention, verb),
                new_source=speaker if isinstance(speaker, NewSource) else None,
            )
        )
    return m.continue_quotes(sentences, out)


# --- finding the cue and its speaker ----------------------------------------------------------


def _is_quoted_name(text: str, span: tuple[int, int]) -> bool:
    """«Энергоатом», «Небо Сумщины»: up to four words, capitalised, no sentence inside."""
    inner = text[span[0] + 1 : span[1] - 1]
    return (
        0 < len(inner.split()) <= 4
        and inner[:1].isupper()
        and not any(ch in inner for ch in ".!?,")
        and text[span[0]] in '«"\u201c\u201e'
    )


# The sentence being read, for helpers that look at the characters between words.
_TEXT: ContextVar[str] = ContextVar("_TEXT", default="")
_POSSESSIVES = frozenset("его ее её їх його її их їхніми".split())
_PLURAL_POSSESSIVES = frozenset("их їх їхніми".split())
# "Говорится в заявлении X", "йдеться в огляді": a document speaks for its author.
_DOCUMENT_VERBS = frozenset(
    "говориться говоритися йтися зазначатися отмечаться указываться вказуватися".split()
)
_CITING = frozenset(
    "ссылкой посиланням ссылаясь посилаючись".split()
)  # "со ссылкой на X": X is cited, not the source
_MAX_GAP = 6
_DATELINE_RE = re.compile(r"^[A-ZА-ЯІЇЄҐ][A-ZА-ЯІЇЄҐ'\- ]+,")
# "the analyst" after "military analyst Kirill Lanskoy": one office, several names.
_SYNONYMS = (
    frozenset("аналитик эксперт аналітик експерт".split()),
    frozenset("губернатор глава голова очільник начальник".split()),
    frozenset("мэр мер голова".split()),
    frozenset("ова ода адміністрація администрация".split()),
    frozenset(
        "дипломат дипломатка представитель представник пресс-секретарь прес-секретар".split()
    ),
)
_OUTLET_CONTEXT = frozenset(
    "коментарі комментарии комментарий коментар интервью інтерв'ю інтерв’ю ефірі эфире "
    "розмові разговоре ефір эфир радиостанции радиостанция телеканалу телеканалі телеканале "
    "телеканал изданию виданню газете газеті радіо радио".split()
)


def _cue(words, hits, text: str):
    """(verb span, speaker phrase or None) of the first cue in the sentence, or None."""
    phrases = _phrases(words, hits)
    unspoken: tuple[int, int] | None = None  # the first cue verb with no speaker found
    for i, w in enumerate(words):
        low = w.text.lower()
        nxt = words[i + 1].text.lower() if i + 1 < len(words) else ""
        # "за його словами", "по его словам": the pronoun's referent
        if (
            nxt in _POSSESSIVES
            and i + 2 < len(words)
            and ((low, words[i + 2].text.lower()) in _PREPOSITION_CUES)
        ):
            kind = "plural" if nxt in _PLURAL_POSSESSIVES else "pronoun"
            return (w.start, words[i + 2].end), _Phrase(i + 1, i + 1, None, kind)
        pair = (low, nxt)
        if pair in _PREPOSITION_CUES or (low,) in _PREPOSITION_CUES:
            # "по словам X", "согласно данным X": X right after (skipping "данным", "з")
            j = i + (2 if pair in _PREPOSITION_CUES else 1)
            end = words[i + 1].end if pair in _PREPOSITION_CUES else w.end
            for p in phrases:  # the first phrase reaching past the cue, within three words
                if p.last >= j and p.first <= j + 2:
                    if p.first < j:  # "даними ОВА": the cue word is no part of the speaker
                        p = _Phrase(j, p.last, p.entry, p.kind)
                    return (w.start, end), p
            return (w.start, end), None
        if w.lemma in _DOCUMENT_VERBS:
            near = [
                p
                for p in phrases
                if abs(p.first - i) <= 6 and p.kind not in ("pronoun", "named", "person")
            ]
            if near or w.lemma in ("говориться", "говоритися", "йтися"):
                # "говорится в заявлении МИД" (after) before "В сводке ведомства говорится"
                closest = min(near, key=lambda p: (p.first < i, abs(p.first - i)), default=None)
                return (w.start, w.end), closest or _Phrase(i, i, None, "document")
            continue
        if w.lemma not in CUE_VERBS or w.pos not in ("VERB", "GRND", "PRTS"):
            continue
        if i and words[i - 1].text.lower() == "не":
            return None  # "не стал комментировать", "не уточнили": nothing claimed
        speaker = _speaker_of(words, phrases, i, text)
        if speaker is not None:
            return (w.start, w.end), speaker
        # "Песков, отвечая на вопросы, назвал ...": a later verb may have the speaker
        unspoken = unspoken or (w.start, w.end)
    if unspoken is not None:
        return unspoken, None
    # "Генштаб: за добу ..." (a live-blog item opens with its speaker)
    if phrases and phrases[0].first == 0 and phrases[0].kind != "pronoun":
        end = words[phrases[0].last].end
        if text[end : end + 2].startswith(":"):
            return (end, end + 1), phrases[0]
    # "... загинула людина — ОВА" (the speaker after a closing dash)
    if phrases and phrases[-1].last == len(words) - 1 and not _DATELINE_RE.match(text):
        start = words[phrases[-1].first].start
        dash = text[:start].rstrip()
        if dash.endswith(("\u2014", "\u2013")) and len(words) - phrases[-1].first <= 5:
            return (len(dash) - 1, len(dash)), phrases[-1]
    return None


def _speaker_of(words, phrases: list[_Phrase], v: int, text: str) -> _Phrase | None:
    """The speaker of the verb at word v: the subject before the verb, across a short phrase
    ("Зеленський у відеозверненні наголосив") or a parenthesis between commas ("Пєсков,
    відповідаючи на запитання, сказав"); else the one just after it ("— заявил глава региона
    Иван Петров", "сообщили в МЧС"). A cited party ("со ссылкой на X") or a listener in the
    dative ("журналістам") is not the speaker."""
    before = [p for p in phrases if p.last < v]
    after = [p for p in phrases if p.first > v]
    for k, p in enumerate(reversed(before)):
        if _cited(words, p) or (words[p.last].case == "datv" and p.kind != "entry"):
            continue
        earlier = before[len(before) - k - 2] if len(before) - k - 2 >= 0 else None
        if (
            earlier is not None
            and p.first
            and words[p.first - 1].text.lower() in ("в", "во", "у", "на")
            and words[p.first - 1].start > words[earlier.last].end
            and _clean_gap(words, earlier.last, p.first, text)
            and _gap_ok(words, earlier.last, v, text)
        ):
            return earlier  # "Российское посольство в Варшаве сообщило": Warsaw is a place
        if any(w.text.lower() in _OUTLET_CONTEXT for w in words[max(0, p.first - 2) : p.first]):
            continue  # "у коментарі Укрінформу": where it was said, not who said it
        if v - p.last - 1 > _MAX_GAP + 10:
            break
        if _gap_ok(words, p.last, v, text):
            return p
        if "," not in text[words[p.last].end : words[v].start]:
            break
    for k, p in enumerate(after):
        gap = words[v + 1 : p.first]
        listener = words[p.first].case == "datv" and (
            p.first == 0 or words[p.first - 1].pos != "PREP"
        )
        if listener and p.kind not in ("entry", "person"):
            continue
        if len(gap) <= 5 and _clean_gap(words, v, p.first, text) and _after_gap(gap):
            nxt = after[k + 1] if k + 1 < len(after) else None
            if (
                p.kind == "role"
                and nxt is not None
                and nxt.kind == "person"
                and (nxt.first - p.last <= 6 and _clean_gap(words, p.last, nxt.first, text))
            ):
                return _Phrase(p.first, nxt.last, None, "person")  # "директор ... Елена Корсун"
            return p
        break
    return None


def _after_gap(gap) -> bool:
    """Words between a verb and its speaker after it: time words, "и", and one prepositional
    phrase ("— заявил в утреннем видеообращении Владимир Зеленский")."""
    prepositional = False
    for g in gap:
        low = g.text.lower()
        if low in _GAP_WORDS or low in ("и", "і", "й", "также", "також") or g.pos == "ADVB":
            if low in ("в", "во", "у", "на"):
                prepositional = True
            continue
        if prepositional and g.pos in ("ADJF", "NOUN", "PRTF") and g.case != "nomn":
            continue
        if g.pos == "ADJF":
            continue
        return False
    return True


def _cited(words, p: _Phrase) -> bool:
    """ "со ссылкой на (двух) X": within three words after "ссылкой на"."""
    for j in range(max(1, p.first - 3), p.first):
        if words[j].text.lower() == "на" and words[j - 1].text.lower() in _CITING:
            return True
    return False


def _gap_ok(words, a: int, b: int, text: str) -> bool:
    """Between subject (word a) and verb (word b): a few words with no verb and no clause
    boundary, or a parenthesis between two commas."""
    gap = words[a + 1 : b]
    between = text[words[a].end : words[b].start]
    if _clean_gap(words, a, b, text):
        citing = any(g.text.lower() in _CITING for g in gap)
        return len(gap) <= _MAX_GAP + (4 if citing else 0) and not any(
            g.pos in ("VERB", "INFN") and g.lemma not in ("быть", "бути") for g in gap
        )
    commas = between.count(",")
    return (
        commas == 2
        and between.lstrip().startswith(",")
        and not any(ch in between for ch in ';:.\u00ab\u00bb"')
        and len(gap) <= 14
    )


def _clean_gap(words, a: int, b: int, text: str) -> bool:
    """No clause boundary between words a and b (a comma, a dash; quote marks around a name
    are no boundary)."""
    between = text[words[a].end : words[b].start]
    return not any(ch in between for ch in ",;:.\u2014\u2013")


def _phrases(words, hits) -> list[_Phrase]:
    """Speaker phrases: taxonomy mentions, names with their roles ("речник Повітряних сил Ігор
    Марченко" speaks for the entry inside it), anaphors, pronouns."""
    by_start = {}
    for start, end, entry in hits:
        first = next((i for i, w in enumerate(words) if w.start >= start), None)
        last = max((i for i, w in enumerate(words) if w.end <= end), default=None)
        if first is not None and last is not None and last >= first:
            by_start[first] = (last, entry)
    out: list[_Phrase] = []
    i = 0
    while i < len(words):
        w = words[i]
        low = w.text.lower()
        role_next = _role_ahead(words, i)
        if i in by_start and not role_next:
            last, entry = by_start[i]
            out.append(_Phrase(i, last, entry, "entry"))
            i = last + 1
            continue
        if low in _PRONOUNS_PERSON:
            out.append(_Phrase(i, i, None, "pronoun"))
        elif low in _PRONOUNS_PLURAL:
            out.append(_Phrase(i, i, None, "plural"))
        elif w.lemma in _OFFICIALS:
            first = i - 1 if i and words[i - 1].pos == "ADJF" else i
            out.append(_Phrase(first, i, None, "officials"))
        elif (
            w.lemma in ROLE_LEMMAS
            or w.name
            or (w.pos == "ADJF" and role_next)
            or i in by_start
            or _proper_noun(words, i)
            or _TEXT.get()[w.start - 1 : w.start] == "\u00ab"
        ):
            last = i
            entry = None
            j = i + 1
            while j < len(words):
                if j in by_start:
                    if words[j].start - words[last].end > 2:
                        break
                    last, entry = by_start[j][0], by_start[j][1]
                    j = last + 1
                    continue
                if not _continues(words, j, last):
                    break
                last = j
                j += 1
            if i in by_start:
                entry = by_start[i][1]
            chunk = words[i : last + 1]
            if entry is not None:
                kind = "entry"
            elif any(c.name for c in chunk):
                kind = "person"
            elif (
                chunk[-1].lemma in _INSTITUTION_ANAPHORS
                and not any(c.text[:1].isupper() for c in chunk[1:])
                and not (i > 0 and chunk[0].text[:1].isupper())
                and all(c.pos == "ADJF" or c.lemma in ROLE_LEMMAS for c in chunk[:-1])
            ):
                kind = "anaphor"  # "ведомство", "британское ведомство", "аналитики ведомства"
            elif all(c.lemma in ROLE_LEMMAS or not c.text[:1].isupper() for c in chunk):
                kind = "role"
            else:
                kind = "named"
            out.append(_Phrase(i, last, entry, kind))
            i = last + 1
            continue
        i += 1
    return out


def _role_ahead(words, i: int) -> bool:
    """Adjectives up to a role noun follow: "Одеській обласній військовій адміністрації"."""
    for w in words[i + 1 : i + 4]:
        if w.lemma in ROLE_LEMMAS:
            return True
        if w.pos != "ADJF":
            return False
    return False


_NOT_PROPER = frozenset("як как об про по за у в во это це так тоже також также".split())


def _proper_noun(words, i: int) -> bool:
    """A capitalised noun inside the sentence ("в Росавиации", "Сомов написал"); at the start
    only right before a reporting verb."""
    w = words[i]
    if not w.text[:1].isupper() or w.text.isupper() or w.pos not in ("NOUN", ""):
        return False
    if not all("\u0400" <= ch <= "\u04ff" or ch in "-'\u2019" for ch in w.text):
        return False  # "Telegram-каналі" is a platform
    if i == 0:
        if w.lemma in _NOT_PROPER:
            return False
        return len(words) > 1 and words[1].lemma in CUE_VERBS
    return True


def _continues(words, j: int, last: int) -> bool:
    w = words[j]
    between = _TEXT.get()[words[last].end : words[j].start]
    if between.strip(' \u00ab\u00bb"\u201c\u201d') or len(between) > 3:
        return False  # punctuation in between (a quote mark around a name is fine)
    if w.name or w.lemma in ROLE_LEMMAS:
        return True
    if words[last].name and w.text[:1].isupper():  # "Ирина Сомова": the surname follows
        return True
    if words[last].pos == "ADJF" and w.pos in ("ADJF", "NOUN"):  # "мониторинговый канал"
        return True
    if w.text[:1].isupper() and w.pos in ("NOUN", "ADJF", ""):
        return True
    if w.text.isupper() and len(w.text) > 1:  # "ОВА", "ЗСУ"
        return True
    return (
        w.pos in ("NOUN", "ADJF", "PRTF")
        and (w.gent or w.case == "ablt")
        and w.lemma not in ("год", "рік", "день", "час", "время", "доба", "сутки")
    )


# --- resolving ---------------------------------------------------------------------------------


def _home_entry(matcher, head: str, lang: str) -> SourceEntry | None:
    """ "В Минобороны заявили" with no ministry named before: the home country's, as a
    Russian or Ukrainian outlet writes it (Минобороны России, Міноборони України)."""
    home = {"ru": "russia", "uk": "ukraine"}.get(lang, "")
    for _key, entry in matcher._lemmas(lang).get(head, ()):
        if entry.side.lower() == home:
            return entry
    return None


def _resolve(
    matcher, words, p: _Phrase, memory, paragraph, previous, text, lang: str = ""
) -> Speaker | None:
    if p.entry is not None:
        return p.entry
    recent = [mm for mm in reversed(memory) if mm.paragraph >= paragraph - 3]
    if p.kind == "pronoun":
        return next((mm.speaker for mm in recent if mm.person), previous)
    if p.kind == "document":
        return previous
    if p.kind == "plural":
        return previous or next((mm.speaker for mm in recent if not mm.person), None)
    if p.kind == "anaphor":
        found = next((mm.speaker for mm in recent if not mm.person), None)
        return found or _home_entry(matcher, words[p.last].lemma, lang)
    chunk = words[p.first : p.last + 1]
    if p.kind == "officials":
        return _officials(matcher, chunk, recent, memory)
    if p.kind == "role" and "президент" in {c.lemma for c in chunk}:
        for mm in recent:  # "Президент подчеркнул": the head of state named before
            if isinstance(mm.speaker, SourceEntry) and mm.speaker.kind == "head_of_state":
                return mm.speaker
    if p.kind == "role":
        wanted = {c.lemma for c in chunk if c.lemma in ROLE_LEMMAS}
        for group in _SYNONYMS:
            if wanted & group:
                wanted |= group
        for mm in recent:
            if wanted & mm.roles:
                return mm.speaker
        if len(chunk) == 1 and chunk[0].lemma in _PERSON_ROLES:
            # "сказала дипломат", "по словам эксперта": the person who spoke last
            person = next((mm.speaker for mm in recent if mm.person), None)
            if person is not None:
                return person
    # "Коваль" after "Олег Коваль": a surname alone is the person named in full before
    names = {c.lemma for c in chunk if c.name or c.text[:1].isupper()}
    if len(names) == 1:
        for mm in recent:
            if names & mm.roles:
                return mm.speaker
    return _new_source(chunk, text)


def _officials(matcher, chunk, recent, memory) -> SourceEntry | None:
    """ "Українські посадовці", "власти": by the nationality before, else the officials who
    spoke last, else the side of the latest named source."""
    by_nationality = matcher._officials_by_nationality
    for c in chunk:
        if c.lemma.startswith(("україн", "украин")):
            return by_nationality.get("ukrainian")
        if c.lemma.startswith(("росій", "россий")):
            return by_nationality.get("russian")
    for mm in recent:
        if isinstance(mm.speaker, SourceEntry) and mm.speaker.kind == UNNAMED_KIND:
            return mm.speaker
    for mm in reversed(memory):
        side = mm.speaker.side.lower()
        if side.startswith("ukrain"):
            return by_nationality.get("ukrainian")
        if side.startswith("russia"):
            return by_nationality.get("russian")
    return None


def _nominative(w) -> str:
    """A name in the nominative: its name reading, else a genitive surname's ending dropped
    ("Лыкова" -> "Лыков", "Коваля" -> "Коваль" comes from the dictionary)."""
    if w.name_lemma:
        return w.name_lemma.capitalize()
    low = w.text.lower()
    if low.endswith(("ова", "ева", "ёва", "ина", "ына", "іна")):
        return w.text[:-1]
    return w.text


def _new_source(chunk, text: str) -> NewSource:
    opened = text.find("\u00ab", chunk[0].start, chunk[-1].end)
    if opened >= 0 and not any(w.name for w in chunk):  # "канал «Небо Сумщины»"
        closed = text.find("\u00bb", opened)
        quoted = text[opened + 1 : closed if closed > 0 else chunk[-1].end].strip()
        if quoted:
            lemma_set = {w.lemma for w in chunk}
            return NewSource(quoted[:200], _kind(lemma_set, False), _side(chunk))
    first = next((i for i, w in enumerate(chunk) if w.name), None)
    names = []
    if first is not None:
        for w in chunk[first:]:
            if not w.text[:1].isupper() or w.text.isupper():
                break
            names.append(w)
    if names:
        # the first name's case decides: "Ивана Петрова" -> "Иван Петров", "Олег Лыков" stays
        inflected = names[0].case not in ("nomn", "")
        name = " ".join(_nominative(w) if inflected else w.text for w in names)
    else:
        head = chunk[0]
        rest = text[chunk[1].start : chunk[-1].end] if len(chunk) > 1 else ""
        name = f"{head.lemma.capitalize() if head.pos == 'NOUN' else head.text} {rest}".strip()
        name = name[:1].upper() + name[1:]
    return NewSource(name[:200], _kind({w.lemma for w in chunk}, bool(names)), _side(chunk))


def _kind(lemma_set: set[str], person: bool) -> str:
    kind = "individual" if person else "government"
    for candidate, vocabulary in _KINDS:
        if lemma_set & set(vocabulary.split()):
            kind = candidate
            break
    if person and kind == "government" and not (lemma_set & ROLE_LEMMAS):
        kind = "individual"
    return kind


def _side(chunk) -> str:
    low = " ".join(w.lemma for w in chunk)
    if any(stem in low for stem in _RUSSIA):
        return "Russia"
    if any(stem in low for stem in _UKRAINE):
        return "Ukraine"
    return ""
