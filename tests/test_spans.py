"""claims.spans: when two annotators' claims are the same claim, and when they agree."""

import pytest

from claims.spans import (
    TOLERANCE,
    ClaimSpans,
    Span,
    claim_verdicts,
    claims_agree,
    labels_agree,
    match_claims,
    sentence_disagrees,
)


def claim(start, end, *, cue=None, mention=None, source=1, kind="paraphrase", status=2):
    return ClaimSpans(
        content=Span(start, end),
        cue=Span(*cue) if cue else None,
        mention=Span(*mention) if mention else None,
        source_id=source,
        attribution_type=kind,
        status_id=status,
    )


def test_overlap_counts_shared_characters():
    assert Span(0, 10).overlap(Span(5, 20)) == 5
    assert Span(0, 10).overlap(Span(10, 20)) == 0  # half-open: touching is not overlapping
    assert Span(0, 10).overlap(None) == 0


@pytest.mark.parametrize(
    ("other", "near"),
    [
        (Span(2, 12), True),  # both ends two characters off
        (Span(3, 10), False),  # start three off
        (Span(0, 7), False),  # end three off
        (None, False),
    ],
)
def test_near_is_within_the_tolerance_at_each_end(other, near):
    assert TOLERANCE == 2
    assert Span(0, 10).near(other) is near


def test_from_dict_and_from_claim_read_the_same_claim():
    row = {
        "content_start": 5,
        "content_end": 9,
        "cue_start": None,
        "cue_end": None,
        "mention_start": 0,
        "mention_end": 4,
        "source_id": None,
        "attribution_type": "",
        "status_id": 3,
    }

    class Row:
        pass

    obj = Row()
    obj.__dict__.update(row)

    assert ClaimSpans.from_dict(row) == ClaimSpans.from_claim(obj)
    assert ClaimSpans.from_dict(row).mention == Span(0, 4)
    assert ClaimSpans.from_dict(row).cue is None


def test_claims_are_matched_by_largest_overlap_one_to_one():
    a = [claim(0, 20), claim(30, 40)]
    b = [claim(32, 41), claim(15, 35), claim(0, 18)]

    matching = match_claims(a, b)

    # a0 overlaps b2 by 18 and b1 by 5: b2; a1 overlaps b0 by 8, b1 by 5: b0. b1 is left.
    assert matching.pairs == [(0, 2), (1, 0)]
    assert (matching.only_a, matching.only_b) == ([], [1])


def test_a_tie_in_content_is_broken_by_the_cue():
    a = [claim(0, 10, cue=(12, 15))]
    b = [claim(0, 10, cue=(40, 44)), claim(0, 10, cue=(12, 15))]

    assert match_claims(a, b).pairs == [(0, 1)]


def test_disjoint_claims_do_not_match():
    matching = match_claims([claim(0, 5)], [claim(5, 9)])
    assert (matching.pairs, matching.only_a, matching.only_b) == ([], [0], [0])


@pytest.mark.parametrize(
    ("other", "agree"),
    [
        (claim(1, 11), True),
        (claim(0, 13), False),
        (claim(0, 10, source=None), False),
        (claim(0, 10, kind="direct_quote"), False),
        (claim(0, 10, status=5), False),
        (claim(0, 10, cue=(20, 24)), False),  # a cue on one side only
        (claim(0, 10, mention=(30, 35)), False),
    ],
)
def test_matched_claims_agree_on_fields_and_every_span(other, agree):
    assert claims_agree(claim(0, 10), other) is agree


def test_cues_and_mentions_agree_within_the_tolerance():
    one = claim(0, 40, cue=(41, 45), mention=(50, 60))
    two = claim(1, 41, cue=(42, 45), mention=(48, 61))
    assert claims_agree(one, two)


def test_labels_agree_claim_by_claim_in_any_order():
    one = [claim(0, 10), claim(12, 30, source=7)]
    two = [claim(13, 31, source=7), claim(1, 10)]
    assert labels_agree(one, two)
    assert not labels_agree(one, two[:1])
    assert not labels_agree(one, [two[0], claim(1, 10, status=9)])


def test_not_a_claim_agrees_only_with_not_a_claim():
    assert labels_agree([], [])
    assert not labels_agree([], [claim(0, 5)])


def test_a_sentence_disagrees_when_any_pair_does():
    """Agreement within a tolerance is not transitive: 0-10, 2-12, 4-14 — the first and the
    last are four characters apart, so every pair is compared."""
    assert not sentence_disagrees([[claim(0, 10)], [claim(2, 12)]])
    assert sentence_disagrees([[claim(0, 10)], [claim(2, 12)], [claim(4, 14)]])
    assert not sentence_disagrees([[claim(0, 10)]])
    assert not sentence_disagrees([])


def test_verdicts_say_which_claims_agree_differ_or_stand_alone():
    a = [claim(0, 10), claim(20, 30), claim(40, 50)]
    b = [claim(0, 10), claim(20, 30, status=9)]
    c = [claim(1, 11), claim(21, 30)]

    assert claim_verdicts([a, b, c]) == [
        ["agrees", "differs", "alone"],
        ["agrees", "differs"],
        ["agrees", "differs"],
    ]
    assert claim_verdicts([a]) == [["alone", "alone", "alone"]]
    assert claim_verdicts([[], []]) == [[], []]
