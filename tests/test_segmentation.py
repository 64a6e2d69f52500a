"""Sentence segmentation: exact offsets, the news rules, the seed article and the gold set."""

import datetime
from pathlib import Path

import pytest

from bench.segmentation_compare import load_gold, score
from claims.segmentation import (
    CREDIT,
    DATELINE,
    SENTENCE,
    HeaderError,
    Segment,
    parse_header,
    segment,
)

SEED = Path(__file__).resolve().parent.parent / "claims" / "demo" / "000_4c1d6ae57306abb2.txt"
GOLD = load_gold()


def texts(body: str) -> list[str]:
    return [s.text for s in segment(body)]


def assert_well_formed(body: str, segments: list[Segment]) -> None:
    previous_end = 0
    for s in segments:
        assert body[s.start : s.end] == s.text
        assert s.text and s.text == s.text.strip()
        assert s.start >= previous_end
        assert "\n" not in s.text and "\r" not in s.text
        assert s.kind in (SENTENCE, CREDIT, DATELINE)
        previous_end = s.end


# --- offsets and shape ---------------------------------------------------------------------


@pytest.mark.parametrize("doc", GOLD, ids=lambda d: d.id)
def test_gold_segments_round_trip_to_exact_offsets(doc):
    assert_well_formed(doc.text, segment(doc.text))


def test_seed_segments_round_trip_to_exact_offsets():
    body = SEED.read_text(encoding="utf-8")
    assert_well_formed(body, segment(body))


@pytest.mark.parametrize("body", ["", " ", "\n\n", " \t\r\n  \n"])
def test_empty_or_whitespace_body_gives_no_segments(body):
    assert segment(body) == []


def test_header_only_body_gives_no_segments():
    assert segment("date 2023-12-30\n\n") == []


# --- gold set ------------------------------------------------------------------------------


def test_gold_set_exact_span_f1_is_at_least_098():
    predicted, expected = [], []
    for i, doc in enumerate(GOLD):
        predicted += [(i, s.start, s.end) for s in segment(doc.text)]
        expected += [(i, *span) for span in doc.spans]
    assert score(predicted, expected).f1 >= 0.98


def test_gold_credits_are_found_with_credit_kind():
    expected = {
        (d.id, span) for d in GOLD for span, k in zip(d.spans, d.kinds, strict=True) if k == CREDIT
    }
    found = {(d.id, (s.start, s.end)) for d in GOLD for s in segment(d.text) if s.kind == CREDIT}
    assert expected and found == expected


def test_gold_datelines_are_found_with_dateline_kind():
    expected = {
        (d.id, span)
        for d in GOLD
        for span, k in zip(d.spans, d.kinds, strict=True)
        if k == DATELINE
    }
    found = {(d.id, (s.start, s.end)) for d in GOLD for s in segment(d.text) if s.kind == DATELINE}
    assert expected and found == expected


# --- seed article --------------------------------------------------------------------------


def test_seed_first_segment_is_the_first_sentence_not_the_header():
    body = SEED.read_text(encoding="utf-8")
    first = segment(body)[0]
    assert first.text.startswith("Russia has vowed retaliation")
    assert first.kind == SENTENCE
    assert all("date 2023-12-30" not in s.text for s in segment(body))


def test_seed_has_credit_ap_twice_as_credit_segments():
    body = SEED.read_text(encoding="utf-8")
    credits = [s.text for s in segment(body) if s.kind == CREDIT]
    assert credits == ["Credit: AP", "Credit: AP"]
    assert all("Credit:" not in s.text for s in segment(body) if s.kind == SENTENCE)


def test_seed_ordash_quote_and_attribution_is_one_sentence():
    body = SEED.read_text(encoding="utf-8")
    last = segment(body)[-1]
    assert last.text.startswith("Speaking to Russian state news agency RIA Novosti")
    assert last.text.endswith('because these accusations are unsubstantiated."')


# --- parse_header --------------------------------------------------------------------------


def test_parse_header_returns_date_and_offset_of_following_text():
    body = " date 2023-12-30 Russia has vowed retaliation."
    date, offset = parse_header(body)
    assert date == datetime.date(2023, 12, 30)
    assert body[offset:] == "Russia has vowed retaliation."


def test_parse_header_absent_returns_none_and_zero():
    assert parse_header("Russia has vowed retaliation.") == (None, 0)
    assert parse_header("date of the attack is unknown.") == (None, 0)
    assert parse_header("") == (None, 0)


@pytest.mark.parametrize("raw", ["2023-13-45", "2023-02-30", "2023-1-5"])
def test_parse_header_invalid_date_raises_actionable_error(raw):
    with pytest.raises(HeaderError, match=f"invalid date '{raw}' in the 'date YYYY-MM-DD'"):
        parse_header(f"date {raw} Russia has vowed retaliation.")


def test_segment_propagates_header_error():
    with pytest.raises(HeaderError):
        segment("date 2023-13-45 Text.")


# --- news rules, one by one ----------------------------------------------------------------


def test_date_header_is_metadata_and_offsets_stay_in_original_body():
    body = " date 2023-12-30 Russia has vowed retaliation. It said so."
    segments = segment(body)
    assert [s.text for s in segments] == ["Russia has vowed retaliation.", "It said so."]
    assert segments[0].start == body.index("Russia")


@pytest.mark.parametrize(
    "credit",
    [
        "Credit: AP",
        "Photo: Reuters",
        "Credit: Getty Images",
        "(AP Photo/John Doe)",
        "Photograph: Anatolii Stepanov/AFP/Getty Images",
        "Image: EPA",
        "Picture: PA Media",
    ],
)
def test_glued_photo_credit_becomes_its_own_credit_segment(credit):
    body = f"Authorities say the strike injured 108 others. {credit}"
    segments = segment(body)
    assert [(s.text, s.kind) for s in segments] == [
        ("Authorities say the strike injured 108 others.", SENTENCE),
        (credit, CREDIT),
    ]


def test_photo_credit_on_its_own_line_is_a_credit_segment():
    body = "Zelenskyy addresses lawmakers.\nCredit: AP\nThe visit was his first."
    assert [s.kind for s in segment(body)] == [SENTENCE, CREDIT, SENTENCE]


def test_words_like_credit_without_a_label_colon_stay_sentences():
    body = "Credit card payments were suspended. The credit agency cut the rating."
    assert [s.kind for s in segment(body)] == [SENTENCE, SENTENCE]


def test_sentences_never_cross_a_blank_line_or_single_newline():
    body = "The attack began after midnight\n\nSirens sounded for hours\nResidents hid."
    assert texts(body) == [
        "The attack began after midnight",
        "Sirens sounded for hours",
        "Residents hid.",
    ]


@pytest.mark.parametrize(
    "sentence",
    [
        '"We will respond," he said.',
        '"This crime will not go unpunished," the ministry said.',
        '"Is this war?" she asked.',
        "“Get down!” the soldier shouted.",
        "\u2018It is a disaster,\u2019 the governor told reporters.",
    ],
)
def test_quote_followed_by_attribution_stays_one_sentence(sentence):
    assert texts(f"{sentence} Nobody answered.") == [sentence, "Nobody answered."]


@pytest.mark.parametrize(
    "sentence",
    [
        "The U.S. and the U.K. backed the U.N. resolution.",
        "Gen. Valerii Zaluzhnyi met Lt. Col. Andrii Kovalenko and Maj. Gen. Kyrylo Budanov.",
        "Talks are set for Jan. 15 and Feb. 3, not Sept. 12.",
        "Protesters gathered outside No. 10 Downing St. on Saturday.",
        "Dr. Melnyk said Mr. Sokolov and Mrs. Sokolova visited St. Michael's.",
        "The blast came at 4.30 a.m. local time and again at 6 p.m. on Jan. 3.",
        "Tanks, drones, etc. will arrive by spring.",
        "The U.K. Ministry of Defence issued its update.",
    ],
)
def test_abbreviations_never_split(sentence):
    assert texts(sentence) == [sentence]


def test_abbreviation_at_sentence_end_splits_before_a_new_sentence():
    assert texts("The drone struck at 11 p.m. Two people were hurt.") == [
        "The drone struck at 11 p.m.",
        "Two people were hurt.",
    ]
    assert texts("Her family moved to the U.S. She was 12.") == [
        "Her family moved to the U.S.",
        "She was 12.",
    ]


@pytest.mark.parametrize(
    "sentence",
    [
        "John F. Kennedy faced a similar crisis.",
        "The novels of J.R.R. Tolkien were popular.",
        "The H. G. Wells report was published.",
    ],
)
def test_initials_never_split(sentence):
    assert texts(sentence) == [sentence]


@pytest.mark.parametrize(
    "sentence",
    ["About 3.5 million people fled.", "The package is worth $1.2bn.", "It fell to 101.5 today."],
)
def test_decimals_never_split(sentence):
    assert texts(sentence) == [sentence]


def test_mid_sentence_ellipsis_never_splits_but_final_one_does():
    assert texts("The talks ... broke down. “We waited… and waited,” she said.") == [
        "The talks ... broke down.",
        "“We waited… and waited,” she said.",
    ]
    assert texts("He paused... Then he left.") == ["He paused...", "Then he left."]


def test_curly_quotes_behave_like_straight_quotes():
    straight = '"Is this war?" she asked. "We just wait." Nobody came.'
    curly = "“Is this war?” she asked. “We just wait.” Nobody came."
    assert [(s.start, s.end) for s in segment(straight)] == [
        (s.start, s.end) for s in segment(curly)
    ]
    assert len(segment(curly)) == 3


def test_sentence_ending_in_a_quote_after_colon_ends_at_the_closing_quote():
    body = 'The minister said: "We will not give any explanations." Reporters left.'
    assert texts(body) == [
        'The minister said: "We will not give any explanations."',
        "Reporters left.",
    ]


def test_several_sentences_inside_one_quote_are_split():
    body = '"We are ready. We will fight," the commander said.'
    assert texts(body) == ['"We are ready.', 'We will fight," the commander said.']


def test_sentences_starting_with_digit_or_lowercase_are_split_off():
    assert texts("The toll rose to 39. 3 of them were children.") == [
        "The toll rose to 39.",
        "3 of them were children.",
    ]
    assert texts("Footage showed the impact. eBay removed the listings.") == [
        "Footage showed the impact.",
        "eBay removed the listings.",
    ]


def test_urls_and_emails_never_split():
    body = "See https://www.mil.gov.ua/news/a.html or mail news.desk@bbc.co.uk now. It is long."
    assert texts(body) == [
        "See https://www.mil.gov.ua/news/a.html or mail news.desk@bbc.co.uk now.",
        "It is long.",
    ]


def test_numbered_list_item_keeps_its_number():
    assert texts("Key points:\n1. Grain exports resume.\n2. Ships are monitored.") == [
        "Key points:",
        "1. Grain exports resume.",
        "2. Ships are monitored.",
    ]


# --- datelines, times, footnotes, piped credits (issue 13) -----------------------------------


def kinds_and_texts(body: str) -> list[tuple[str, str]]:
    segments = segment(body)
    assert_well_formed(body, segments)
    return [(s.kind, s.text) for s in segments]


@pytest.mark.parametrize(
    ("dateline", "rest"),
    [
        ("KYIV, August 11. /Ukrinform/.", "The text goes on."),
        ("МОСКВА, 11 августа. /ТАСС/.", "Текст."),  # noqa: RUF001 (Russian copy)
        ("КИЇВ, 11 серпня. /Укрінформ/.", "Росія атакувала Харків."),
        ("КИЇВ, 11 серпня /Укрінформ/.", "Росія атакувала Харків."),
        ("МОСКВА, 3 марта. /Корр. ТАСС Анна Орлова/.", "Текст."),  # noqa: RUF001
        ("НЬЮ-ЙОРК, 11 августа. /ТАСС/.", "Текст."),  # noqa: RUF001
        ("KYIV, Ukraine (AP) —", "Russia launched drones at the capital."),
        ("ZAPORIZHZHIA, Aug 11 (Reuters) -", "A guided bomb hit a building."),
        ("NEW YORK, Aug. 11 (AP) \u2013", "The Security Council met."),
        ("ST. PETERSBURG, Russia (AP) —", "A fire broke out."),
        ("KYIV (AFP) --", "Sirens sounded for two hours."),
        ("UNITED NATIONS (AP) —", "The Security Council met."),
    ],
)
def test_agency_dateline_is_one_dateline_segment_before_the_sentence(dateline, rest):
    assert kinds_and_texts(f"{dateline} {rest}") == [(DATELINE, dateline), (SENTENCE, rest)]


def test_dateline_on_a_line_of_its_own_after_a_headline():
    body = "Blackout hits the city\nKYIV, August 11. /Ukrinform/.\n\nPower came back at noon."
    assert [kind for kind, _ in kinds_and_texts(body)] == [SENTENCE, DATELINE, SENTENCE]


def test_dateline_offsets_point_into_the_body():
    body = "date 2024-08-11\n  KYIV, Ukraine (AP) —  Russia launched drones."
    dateline, sentence = segment(body)
    assert (dateline.start, dateline.end) == (18, 38)
    assert body[sentence.start : sentence.end] == "Russia launched drones."


@pytest.mark.parametrize(
    "sentence",
    [
        "NATO (North Atlantic Treaty Organization) — the alliance met in Vilnius.",
        "NATO, the Western alliance (founded 1949) — grew again.",
        "Kyiv, the capital (pictured) — was hit again.",
        "KYIV, the capital. /Ukrinform/ reported it.",
        "The ministry said, in a statement (AP) — nothing.",
    ],
)
def test_text_that_only_looks_like_a_dateline_is_no_dateline(sentence):
    assert DATELINE not in {kind for kind, _ in kinds_and_texts(sentence)}


@pytest.mark.parametrize(
    "sentence",
    [
        "The first explosion was heard at 7.00 a.m. (0500 GMT) near the port.",
        "The curfew starts at 7.30 p.m. local time and lasts until dawn.",
        "Sirens sounded at 4 a.m. Moscow time across the region.",
        "Sirens sounded at 4 a.m. Kherson time across the region.",
        "The convoy left at 6 a.m. GMT+3 on Monday.",
    ],
)
def test_time_with_am_pm_followed_by_more_of_the_sentence_never_splits(sentence):
    assert texts(f"{sentence} Nobody was hurt.") == [sentence, "Nobody was hurt."]


def test_am_pm_at_the_end_of_a_sentence_still_splits():
    assert texts("Shelters stay open until 10 a.m. Schools switched to online lessons.") == [
        "Shelters stay open until 10 a.m.",
        "Schools switched to online lessons.",
    ]


@pytest.mark.parametrize("marker", ["[1]", "[12]", "[1][2]", "[3][14][159]"])
def test_footnote_marker_stays_with_the_sentence_before_it(marker):
    body = f"The brigade lost a third of its personnel.{marker} Reinforcements arrived in March."
    assert texts(body) == [
        f"The brigade lost a third of its personnel.{marker}",
        "Reinforcements arrived in March.",
    ]


def test_footnote_marker_in_cyrillic_text_and_before_a_digit():
    assert texts("Втрати склали третину особового складу.[1] 30 бійців повернулися.") == [
        "Втрати склали третину особового складу.[1]",
        "30 бійців повернулися.",
    ]


@pytest.mark.parametrize(
    ("caption", "credit"),
    [
        ("A firefighter at the site.", "Photo: Ivan Petrenko/AP"),
        ("Rescuers at work", "Reuters"),
        ("Rescuers at work in Kharkiv.", "AP Photo/Efrem Lukatsky"),
        ("Soldiers near Bakhmut", "A. Name/AFP via Getty Images"),
        ("Рятувальники на місці.", "Фото: ДСНС"),
        ("Спасатели разбирают завалы", "Фото: Олег Смирнов/ТАСС"),  # noqa: RUF001
    ],
)
def test_credit_after_a_bar_is_a_credit_and_the_bar_belongs_to_neither(caption, credit):
    body = f"{caption} | {credit}"
    segments = segment(body)
    assert [(s.kind, s.text) for s in segments] == [(SENTENCE, caption), (CREDIT, credit)]
    assert body[segments[0].end : segments[1].start] == " | "


def test_credit_after_a_bar_on_a_line_of_its_own():
    assert kinds_and_texts("Rescuers at work.\n| Photo: Ivan Petrenko/AP") == [
        (SENTENCE, "Rescuers at work."),
        (CREDIT, "Photo: Ivan Petrenko/AP"),
    ]


@pytest.mark.parametrize(
    "line",
    [
        "War in Ukraine | live updates from the front line",
        "The vote was 60|40 in favour.",
        "Kyiv | 12 | 15",
        "Rescuers at work | They said the building collapsed.",
    ],
)
def test_text_after_a_bar_that_is_no_byline_stays_in_the_sentence(line):
    assert CREDIT not in {kind for kind, _ in kinds_and_texts(line)}
    assert " | " not in line or any(" | " in text for _, text in kinds_and_texts(line))


def test_cyrillic_photo_label_glued_after_a_caption_is_a_credit():
    assert kinds_and_texts("Рятувальники на місці влучання. Фото: ДСНС") == [
        (SENTENCE, "Рятувальники на місці влучання."),
        (CREDIT, "Фото: ДСНС"),
    ]


def test_cyrillic_abbreviations_do_not_end_a_sentence():
    """Agency copy abbreviates in mid-sentence: "4 тыс. жителей", "ст. 438"."""
    body = (
        "Без электричества остались около 4 тыс. жителей, сообщил губернатор. Он добавил, что "
        "дело возбуждено по ст. 438 закона. Без світла залишилися 12 тис. абонентів. Це все."
    )
    assert [s.text for s in segment(body)] == [
        "Без электричества остались около 4 тыс. жителей, сообщил губернатор.",
        "Он добавил, что дело возбуждено по ст. 438 закона.",
        "Без світла залишилися 12 тис. абонентів.",
        "Це все.",
    ]
