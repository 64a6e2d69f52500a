"""English attribution patterns beyond "X said": open-set speakers, spans, anaphora, lookalikes.

Every sentence here is written for the test; the taxonomy is the starter one (claims/demo).
"""

from claims.attribution import DIRECT_QUOTE, NewSource, SourceMatcher, Suggestion
from tests.test_attribution import ID, SOURCES

MATCHER = SourceMatcher(SOURCES)


def suggest(*sentences: str, breaks: tuple[int, ...] = ()) -> list[Suggestion]:
    return MATCHER.suggest(list(sentences), breaks, lang="en")


def spans(text: str, got: Suggestion) -> tuple[str | None, str | None, str | None]:
    def part(span):
        return text[span[0] : span[1]] if span else None

    return part(got.mention_span), part(got.cue_span), part(got.content_span)


def new(got: Suggestion) -> str | None:
    return got.new_source.name if got.new_source else None


# --- open-set speakers -------------------------------------------------------------------------


def test_unknown_governor_is_a_new_source_with_spans() -> None:
    text = "Zaporizhzhia regional governor Ivan Fedorenko said two villages lost power."
    (got,) = suggest(text)
    assert got.source_id is None
    assert got.new_source == NewSource("Ivan Fedorenko", "government", "Ukraine")
    assert spans(text, got) == (
        "Zaporizhzhia regional governor Ivan Fedorenko",
        "said",
        "two villages lost power",
    )


def test_reporting_verbs_beyond_said() -> None:
    for verb in ("assessed", "emphasized", "warned", "indicated", "denied", "announced"):
        text = f"The Kharkiv Human Rights Group {verb} that shelling had intensified."
        (got,) = suggest(text)
        assert new(got) == "Kharkiv Human Rights Group", verb
        assert spans(text, got)[1] == verb


def test_time_phrase_between_speaker_and_verb() -> None:
    got = suggest(
        "Oksana Dudnyk on Tuesday told reporters the bridge was closed.",
        "Andriy Melnyk last month said supplies were short.",
    )
    assert [new(g) for g in got] == ["Oksana Dudnyk", "Andriy Melnyk"]


def test_appositive_is_skipped_to_its_head() -> None:
    (got,) = suggest("Naftoprom, the state gas company in Kharkiv, said the pipeline held.")
    assert new(got) == "Naftoprom"


def test_name_between_commas_is_the_speaker() -> None:
    (got,) = suggest("The hospital's director, Iryna Kovalska, told AP that eight were treated.")
    assert new(got) == "Iryna Kovalska"


def test_cited_party_is_not_the_source() -> None:
    (got,) = suggest("TASS, citing the Russian Defence Ministry, reported ten drones downed.")
    assert got.source_id == ID["TASS"]


def test_according_to_inside_another_speakers_sentence() -> None:
    (got,) = suggest("Warsaw said that, according to radar data, the drone came from Belarus.")
    assert got.source_id == ID["Polish government"]


def test_passives() -> None:
    got = suggest(
        "Colonel Petro Sahan was quoted by RIA Novosti as saying the line held.",
        "It was reported by TASS that three substations were hit.",
        "The strike was described by Reuters as the largest this year.",
    )
    assert new(got[0]) == "Petro Sahan"
    assert [g.source_id for g in got[1:]] == [ID["TASS"], ID["Reuters"]]


def test_headline_colon() -> None:
    text = "Zelensky: Air defence deliveries will arrive this month"
    (got,) = suggest(text)
    assert got.source_id == ID["Volodymyr Zelensky"]
    assert spans(text, got)[0] == "Zelensky"


def test_participle_far_from_its_subject() -> None:
    (got,) = suggest(
        "The Kremlin published a transcript of the call on Friday, saying that talks would go on."
    )
    assert got.source_id == ID["The Kremlin"]


def test_straight_open_curly_close_quote_is_a_direct_quote() -> None:
    text = '"We will rebuild every house,\u201d Mayor Olha Savchenko said.'
    (got,) = suggest(text)
    assert new(got) == "Olha Savchenko"
    assert got.attribution_type == DIRECT_QUOTE
    assert spans(text, got)[2] == "We will rebuild every house"


# --- anaphora across the article ---------------------------------------------------------------


def test_role_and_pronoun_resolve_to_the_named_person() -> None:
    got = suggest(
        "Kherson regional governor Roman Holub said a ferry was hit.",
        "Nobody was on board.",
        "The governor added that the river crossing was closed.",
        "He said repairs would take a week.",
        breaks=(1, 2, 3),
    )
    assert [new(g) for g in got] == ["Roman Holub", None, "Roman Holub", "Roman Holub"]


def test_surname_alone_is_the_person_named_before() -> None:
    got = suggest(
        "Medic Taras Boiko told Reuters the clinic had no power.",
        "Twelve patients were moved.",
        "Another generator is on its way, Boiko said.",
        breaks=(1, 2),
    )
    assert new(got[2]) == "Taras Boiko"


def test_part_of_a_taxonomy_name_resolves_to_it() -> None:
    got = suggest(
        "Ukraine's air force said it downed 40 drones overnight.",
        "The Air Force added that six more were jammed.",
    )
    assert [g.source_id for g in got] == [ID["Ukrainian Air Force"]] * 2


def test_lede_role_takes_the_name_given_later() -> None:
    got = suggest(
        "A drone hit a school in Sumy overnight, the regional governor said on Monday.",
        "Governor Dmytro Lysak said nobody was inside.",
    )
    assert [new(g) for g in got] == ["Dmytro Lysak", "Dmytro Lysak"]


def test_pieces_of_a_quote_share_its_speaker() -> None:
    got = suggest(
        "\u201cWe heard three blasts.",
        "Then the lights went out,\u201d said resident Halyna Moroz.",
    )
    assert [new(g) for g in got] == ["Halyna Moroz", "Halyna Moroz"]
    assert got[0].attribution_type == DIRECT_QUOTE


def test_officials_of_the_latest_sources_side() -> None:
    got = suggest(
        "Polish officials said the object fell in a field.",
        "Officials say it carried no explosives.",
    )
    assert [g.source_id for g in got] == [ID["Polish government"]] * 2


# --- lookalikes --------------------------------------------------------------------------------


def test_not_saying_is_no_claim() -> None:
    got = suggest(
        "The Kremlin did not say whether Putin would attend.",
        "Moscow has never confirmed the figure.",
        "Zelensky declined to comment.",
    )
    assert [g.source_id for g in got] == [None, None, None]
    assert not any(g.is_claim for g in got[:2])


def test_dummy_it_is_no_pronoun() -> None:
    got = suggest(
        "Warsaw said an object crossed the border.",
        "It was reported that the object was a balloon.",
    )
    assert got[1].source_id is None and got[1].new_source is None


def test_generic_subjects_are_no_sources() -> None:
    got = suggest(
        "Reports say the bridge was hit twice.",
        "There were reports of explosions near the port.",
        "Residents say goodbye to a neighbour at the cemetery.",
        "All told, the city lost power six times.",
    )
    assert all(g.source_id is None and g.new_source is None for g in got)
