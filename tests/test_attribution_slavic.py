"""Russian and Ukrainian suggestions: cues and names by lemma, in sentences written here."""

import pytest

from claims.attribution import SourceMatcher, Suggestion, language, lemmas
from tests.test_attribution import ID, SOURCES

MATCHER = SourceMatcher(SOURCES)


def suggest(lang: str, *sentences: str) -> list[Suggestion]:
    return MATCHER.suggest(list(sentences), (), lang=lang)


def new(got: Suggestion) -> str | None:
    return got.new_source.name if got.new_source else None


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Air defence units shot down twelve drones overnight.", "en"),
        ("Силы ПВО ночью сбили двенадцать беспилотников, сообщили в ведомстве.", "ru"),
        ("Сили ППО вночі збили дванадцять дронів, повідомили у відомстві.", "uk"),
    ],
)
def test_language(text: str, lang: str) -> None:
    assert language.detect(text) == lang


def test_inflected_aliases_match_by_lemma() -> None:
    found = MATCHER.find("По данным Министерства обороны РФ, удар отражён.", "ru")
    assert [e.name for _, _, e in found] == ["Russian Ministry of Defence"]
    found = MATCHER.find("У Повітряних силах ЗСУ повідомили про збиття.", "uk")
    assert [e.name for _, _, e in found] == ["Ukrainian Air Force"]


def test_lemmas_tag_names_and_cases() -> None:
    words = {w.text: w for w in lemmas.words("губернатора Ивана Петрова", "ru")}
    assert words["Ивана"].name and words["Ивана"].lemma == "иван"
    assert words["губернатора"].case == "gent"


def test_russian_cues() -> None:
    got = suggest(
        "ru",
        "В Минобороны России заявили, что над областью сбиты восемь беспилотников.",
        "По словам губернатора Курской области Олега Лыкова, пострадавших нет.",
        "«Ситуация под контролем», — сказал он журналистам.",
        "Об этом сообщило МЧС России.",
    )
    assert got[0].source_id == ID["Russian Ministry of Defence"]
    assert new(got[1]) == "Олег Лыков"
    assert got[1].new_source.side == "Russia"
    assert new(got[2]) == "Олег Лыков"  # "он": the person named before
    assert got[3].source_id == ID["Russian Emergency Situations Ministry"]


def test_ukrainian_cues() -> None:
    got = suggest(
        "uk",
        "За даними Генштабу ЗСУ, за добу відбулося 120 боєзіткнень.",
        "Як повідомили в ДСНС, пожежу ліквідовано.",
        "Про це повідомив начальник Одеської ОВА Сергій Лисенко.",
        "За його словами, постраждали двоє людей.",
    )
    assert got[0].source_id == ID["General Staff of Ukraine"]
    assert got[1].source_id == ID["State Emergency Service of Ukraine"]
    assert new(got[2]) == "Сергій Лисенко"
    assert new(got[3]) == "Сергій Лисенко"


def test_spans_point_into_the_sentence() -> None:
    text = "Губернатор Иван Петров заявил, что обстрел продолжается."
    (got,) = suggest("ru", text)
    assert text[slice(*got.mention_span)] == "Губернатор Иван Петров"
    assert text[slice(*got.cue_span)] == "заявил"
    assert text[slice(*got.content_span)] == "обстрел продолжается"


def test_no_source_for_impersonal_or_refused_comment() -> None:
    got = suggest(
        "ru",
        "Сообщается, что в городе были слышны взрывы.",
        "В Кремле не стали комментировать эти сообщения.",
    )
    assert [(g.source_id, g.new_source) for g in got] == [(None, None), (None, None)]
    got = suggest("uk", "Повідомляється, що у місті зникло світло.")
    assert (got[0].source_id, got[0].new_source) == (None, None)


def test_listener_and_outlet_are_not_the_speaker() -> None:
    (got,) = suggest("uk", "Речник бригади Олег Бойко розповів Укрінформу, що атаку відбито.")
    assert new(got) == "Олег Бойко"
