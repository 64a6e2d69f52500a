"""Span agreement (claims/agreement.py): hand-computed cases, the degenerate ones included.

Each expected figure is worked out in the comment beside it. Spans are half-open body offsets;
units are sentence ids.
"""

import pytest

from claims.agreement import (
    EXACT,
    OVERLAP,
    UNATTRIBUTED,
    ClaimCountResult,
    SpanF1,
    claim_spans,
    krippendorff_alpha_nominal,
    matched_alpha,
    matched_claim_labels,
    same_claim_count,
    span_agreement,
    span_f1,
)
from claims.spans import ClaimSpans, Span

MEASURES = [(kind, rule) for kind in ("content", "cue", "mention") for rule in (EXACT, OVERLAP)]


def S(start: int, end: int) -> Span:
    return Span(start, end)


def claim(content, *, cue=None, mention=None, source=None, status=1) -> ClaimSpans:
    return ClaimSpans(
        content=S(*content),
        cue=S(*cue) if cue else None,
        mention=S(*mention) if mention else None,
        source_id=source,
        status_id=status,
    )


def both(a, b, rule=EXACT, **kwargs) -> tuple[SpanF1, SpanF1]:
    return span_f1(a, b, rule, **kwargs), span_f1(b, a, rule, **kwargs)


# --- span F1: degenerate cases -----------------------------------------------------------------


@pytest.mark.parametrize("rule", [EXACT, OVERLAP])
def test_no_spans_at_all_is_undefined(rule):
    # Both labelled two sentences as "not a claim": 0 spans each side, every ratio 0/0.
    a = {1: [], 2: []}
    assert span_f1(a, {1: [], 2: []}, rule) == SpanF1(None, None, None, 0, 0, 0)
    assert span_f1({}, {}, rule) == SpanF1(None, None, None, 0, 0, 0)


@pytest.mark.parametrize("rule", [EXACT, OVERLAP])
def test_no_sentence_labelled_by_both_counts_nothing(rule):
    # A labelled sentence 1, B sentence 2 (and sentence 3 is None = not labelled, for B):
    # nothing in common, so none of the spans count: 0/0 everywhere.
    a = {1: [S(0, 5)], 3: [S(10, 15)]}
    b = {2: [S(0, 5)], 3: None}
    assert span_f1(a, b, rule) == SpanF1(None, None, None, 0, 0, 0)


@pytest.mark.parametrize("rule", [EXACT, OVERLAP])
def test_one_side_empty_scores_zero_not_undefined(rule):
    # A marked 2 spans, B labelled the sentence without any: P = 0/2 = 0, R = 0/0 undefined,
    # F1 = 2*0 / (2+0) = 0.
    a, b = {1: [S(0, 5), S(6, 9)]}, {1: []}
    ab, ba = both(a, b, rule)
    assert ab == SpanF1(0.0, None, 0.0, 0, 2, 0)
    assert ba == SpanF1(None, 0.0, 0.0, 0, 0, 2)  # the other way round: P and R swap


@pytest.mark.parametrize("rule", [EXACT, OVERLAP])
def test_identical_labels_agree_perfectly(rule):
    # 3 spans over two sentences on each side, all equal: 3 matched, P = R = F1 = 3/3 = 1.
    a = {1: [S(0, 12), S(14, 30)], 2: [S(31, 50)]}
    assert span_f1(a, dict(a), rule) == SpanF1(1.0, 1.0, 1.0, 3, 3, 3)


@pytest.mark.parametrize("rule", [EXACT, OVERLAP])
def test_disjoint_spans_do_not_match_even_when_adjacent(rule):
    # [0, 5) and [5, 9) share no character (half-open): 0 matched, F1 = 0 / (1+1) = 0.
    # Also far apart ([40, 60) vs [0, 20)) in a second sentence: still 0 of 2+2.
    a = {1: [S(0, 5)], 2: [S(40, 60)]}
    b = {1: [S(5, 9)], 2: [S(0, 20)]}
    assert span_f1(a, b, rule) == SpanF1(0.0, 0.0, 0.0, 0, 2, 2)


@pytest.mark.parametrize("rule", [EXACT, OVERLAP])
def test_spans_pair_within_one_sentence_only(rule):
    # The same offsets under different sentences are not a match: 0 of 1+1 -> F1 0.
    a = {1: [S(0, 5)], 2: []}
    b = {1: [], 2: [S(0, 5)]}
    assert span_f1(a, b, rule) == SpanF1(0.0, 0.0, 0.0, 0, 1, 1)


def test_a_sentence_only_one_side_labelled_is_left_out():
    # Sentence 2 is labelled by A only (B: None): only sentence 1 counts, 1 of 1+1 -> F1 1.
    a = {1: [S(0, 5)], 2: [S(6, 9)]}
    b = {1: [S(0, 5)], 2: None}
    assert span_f1(a, b) == SpanF1(1.0, 1.0, 1.0, 1, 1, 1)


def test_unknown_rule_is_refused():
    with pytest.raises(ValueError, match="unknown rule"):
        span_f1({1: [S(0, 5)]}, {1: [S(0, 5)]}, "fuzzy")


# --- span F1: the tolerance, exact against overlap ---------------------------------------------


def test_off_by_one_is_within_the_tolerance_for_exact():
    # [10, 20) against [11, 20): start 1 apart <= 2, end equal: an exact match (1 of 1+1 ->
    # F1 1), and an overlap (9 characters shared). With tolerance 0 (strict) it is no exact
    # match: F1 = 0 / 2 = 0.
    a, b = {1: [S(10, 20)]}, {1: [S(11, 20)]}
    assert span_f1(a, b, EXACT).f1 == 1.0
    assert span_f1(a, b, OVERLAP).f1 == 1.0
    assert span_f1(a, b, EXACT, tolerance=0).f1 == 0.0


def test_two_characters_at_both_ends_is_still_within_the_tolerance():
    # [8, 22) against [10, 20): both ends exactly 2 apart (= TOLERANCE): exact, F1 1.
    assert span_f1({1: [S(8, 22)]}, {1: [S(10, 20)]}, EXACT).f1 == 1.0


def test_three_characters_off_is_outside_the_tolerance_but_overlaps():
    # [10, 20) against [13, 20): start 3 apart > 2: exact F1 = 0 / (1+1) = 0; they share
    # 7 characters: overlap F1 = 2*1 / (1+1) = 1. Likewise at the end: [10, 20) vs [10, 17).
    for other in (S(13, 20), S(10, 17)):
        a, b = {1: [S(10, 20)]}, {1: [other]}
        assert span_f1(a, b, EXACT) == SpanF1(0.0, 0.0, 0.0, 0, 1, 1)
        assert span_f1(a, b, OVERLAP) == SpanF1(1.0, 1.0, 1.0, 1, 1, 1)


def test_exact_pairs_the_closest_spans_first():
    # A: [10, 20), [12, 22); B: [12, 22), [11, 21). Every pair is within 2 at both ends;
    # distances (|d start| + |d end|): A0-B0 4, A0-B1 2, A1-B0 0, A1-B1 2. Closest first:
    # A1-B0 (0), then A0-B1 (2): 2 of 2+2 matched, F1 1.
    a = {1: [S(10, 20), S(12, 22)]}
    b = {1: [S(12, 22), S(11, 21)]}
    assert span_f1(a, b, EXACT) == SpanF1(1.0, 1.0, 1.0, 2, 2, 2)


def test_one_mention_marked_for_two_claims_counts_twice():
    # "The ministry said X and that Y": A marks the mention [0, 12) for both claims, B for one.
    # One-to-one: 1 matched; P = 1/2, R = 1/1, F1 = 2*1 / (2+1) = 2/3.
    a, b = {1: [S(0, 12), S(0, 12)]}, {1: [S(0, 12)]}
    for rule in (EXACT, OVERLAP):
        assert span_f1(a, b, rule) == SpanF1(0.5, 1.0, pytest.approx(2 / 3), 1, 2, 1)


# --- span F1: many-to-one overlaps -------------------------------------------------------------


def test_a_long_span_over_two_short_ones_matches_one_of_them():
    # A: one quote [0, 20); B split it: [0, 5) and [8, 20). Overlaps 5 and 12: one-to-one,
    # A's span takes [8, 20) (larger). 1 matched; P = 1/1, R = 1/2, F1 = 2*1 / (1+2) = 2/3.
    # Exact: |0-0| ok but |20-5| = 15; |0-8| = 8: none. F1 = 0 / 3 = 0.
    a, b = {1: [S(0, 20)]}, {1: [S(0, 5), S(8, 20)]}
    overlap_ab, overlap_ba = both(a, b, OVERLAP)
    assert overlap_ab == SpanF1(1.0, 0.5, pytest.approx(2 / 3), 1, 1, 2)
    assert overlap_ba == SpanF1(0.5, 1.0, pytest.approx(2 / 3), 1, 2, 1)  # symmetric F1
    assert span_f1(a, b, EXACT) == SpanF1(0.0, 0.0, 0.0, 0, 1, 2)


def test_two_spans_over_one_match_it_once():
    # A: [0, 10), [10, 30); B: [5, 25). Overlaps 5 and 15: B's span goes to A's second.
    # 1 matched; P = 1/2, R = 1/1, F1 = 2 / 3.
    a, b = {1: [S(0, 10), S(10, 30)]}, {1: [S(5, 25)]}
    assert span_f1(a, b, OVERLAP) == SpanF1(0.5, 1.0, pytest.approx(2 / 3), 1, 2, 1)


def test_largest_overlap_first_can_match_more_than_the_first_come():
    # A: [0, 10), [10, 20); B: [5, 15), [0, 8). Overlaps: A0-B0 5, A1-B0 5, A0-B1 8, A1-B1 0.
    # Largest first: A0-B1 (8), then A1-B0 (5): 2 of 2+2, F1 1. (Pairing in order would take
    # A0-B0 first and leave A1 and B1, which do not overlap, alone: F1 1/2.)
    a = {1: [S(0, 10), S(10, 20)]}
    b = {1: [S(5, 15), S(0, 8)]}
    assert span_f1(a, b, OVERLAP) == SpanF1(1.0, 1.0, 1.0, 2, 2, 2)


# --- the spans of claims -----------------------------------------------------------------------


def test_claim_spans_takes_one_kind_and_skips_absent_cues_and_mentions():
    labels = {
        1: [claim((0, 20), cue=(21, 25)), claim((30, 40), mention=(26, 29))],
        2: [],
        3: None,
    }
    assert claim_spans(labels, "content") == {1: [S(0, 20), S(30, 40)], 2: [], 3: None}
    assert claim_spans(labels, "cue") == {1: [S(21, 25)], 2: [], 3: None}
    assert claim_spans(labels, "mention") == {1: [S(26, 29)], 2: [], 3: None}
    with pytest.raises(ValueError, match="unknown span kind"):
        claim_spans(labels, "source")


# --- alpha over matched claims -----------------------------------------------------------------


def alpha_labels():
    """Two annotators; matched claims: sources (1,1) (1,1) (2,2) (1,unattributed), statuses
    (1,1) (1,2) (2,2) (1,None); plus claims nobody matched and a sentence only A labelled."""
    a = {
        1: [claim((0, 10), source=1, status=1), claim((20, 30), source=1, status=1)],
        2: [claim((40, 50), source=2, status=2), claim((60, 70), source=5, status=3)],
        3: [claim((80, 90), source=1, status=1)],
        4: [claim((100, 110), source=9, status=9)],  # B did not label sentence 4
    }
    b = {
        1: [claim((21, 29), source=1, status=2), claim((2, 10), source=1, status=1)],
        2: [claim((45, 55), source=2, status=2)],  # A's [60, 70) is unmatched
        3: [claim((85, 95), source=None, status=None), claim((91, 99), source=7)],
        4: None,
    }
    return a, b


def test_matched_claim_labels_pair_claims_by_content_per_sentence():
    # Sentence 1: A0 [0,10) ~ B1 [2,10) (8 shared), A1 [20,30) ~ B0 [21,29) (8): pairs in A's
    # order (0, 1), (1, 0); sentence 2: A0 ~ B0; sentence 3: A0 [80,90) ~ B0 [85,95) (5 shared;
    # B1 [91,99) overlaps nothing). Sentence 4 is not labelled by B.
    a, b = alpha_labels()
    sources = matched_claim_labels(a, b, "source")
    assert sources == (
        {(1, 0): 1, (1, 1): 1, (2, 0): 2, (3, 0): 1},
        {(1, 0): 1, (1, 1): 1, (2, 0): 2, (3, 0): UNATTRIBUTED},
    )
    statuses = matched_claim_labels(a, b, "status")
    assert statuses == (
        {(1, 0): 1, (1, 1): 1, (2, 0): 2, (3, 0): 1},
        {(1, 0): 1, (1, 1): 2, (2, 0): 2, (3, 0): None},
    )
    with pytest.raises(ValueError, match="unknown field"):
        matched_claim_labels(a, b, "type")


def test_alpha_on_source_over_matched_claims():
    # Units (1,1) (1,1) (2,2) (1,U): n = 8 values; n_1 = 5, n_2 = 2, n_U = 1;
    # sum o_cc = 2 + 2 + 2 + 0 = 6; expected = 8^2 - (25 + 4 + 1) = 34;
    # alpha = 1 - (8-1) * (8-6) / 34 = 1 - 14/34 = 10/17.
    a, b = alpha_labels()
    assert matched_alpha(a, b, "source") == pytest.approx(10 / 17)


def test_alpha_on_status_over_matched_claims_skips_a_missing_status():
    # Units (1,1) (1,2) (2,2); (1,None) has one value and is unpairable. n = 6, n_1 = n_2 = 3;
    # sum o_cc = 2 + 0 + 2 = 4; expected = 36 - 18 = 18; alpha = 1 - 5 * 2 / 18 = 4/9.
    a, b = alpha_labels()
    assert matched_alpha(a, b, "status") == pytest.approx(4 / 9)


def test_alpha_without_matched_claims_or_variation_is_undefined():
    # No overlapping contents: no unit at all -> 0/0. All matched sources equal -> 0/0 too.
    a = {1: [claim((0, 10), source=1)]}
    assert matched_alpha(a, {1: [claim((10, 20), source=1)]}, "source") is None
    assert matched_alpha(a, {1: []}, "source") is None
    assert matched_alpha(a, {1: [claim((0, 9), source=1)]}, "source") is None


# --- the same number of claims -----------------------------------------------------------------


def test_same_number_of_claims_over_sentences_both_labelled():
    # Common sentences 1, 2, 3 (4 only A, 5 only B): 1 vs 1 same, 0 ("not a claim") vs 1
    # differ, 2 vs 2 same -> 2/3. Whether the claims match does not matter here.
    c = claim((0, 5))
    a = {1: [c], 2: [], 3: [c, c], 4: [c]}
    b = {1: [claim((50, 60))], 2: [c], 3: [c, c], 5: [c]}
    assert same_claim_count(a, b) == ClaimCountResult(pytest.approx(2 / 3), 2, 3)


def test_same_number_of_claims_degenerate():
    # Both "not a claim" on both sentences: 0 = 0 twice -> 2/2 = 1. Nothing in common: None.
    assert same_claim_count({1: [], 2: []}, {1: [], 2: []}) == ClaimCountResult(1.0, 2, 2)
    assert same_claim_count({1: []}, {2: []}) == ClaimCountResult(None, 0, 0)
    assert same_claim_count({1: []}, {1: None}) == ClaimCountResult(None, 0, 0)


# --- all pairs -----------------------------------------------------------------------------------


@pytest.mark.parametrize("labels", [{}, {"ann": {1: [claim((0, 5))]}}])
def test_fewer_than_two_annotators_have_no_pairs(labels):
    result = span_agreement(labels)
    assert result.pairs == {}
    assert result.pooled is None
    assert result.mean_f1 == dict.fromkeys(MEASURES)


def test_a_single_pair():
    # A and B on two sentences. Sentence 1: A's claim [0,20) cue [21,25) source 1 status 1;
    # B's [1,20) cue [21,26) source 1 status 2 and a second claim [30,40) (unmatched).
    # Sentence 2: both "not a claim".
    a = {1: [claim((0, 20), cue=(21, 25), source=1, status=1)], 2: []}
    b = {
        1: [claim((1, 20), cue=(21, 26), source=1, status=2), claim((30, 40), source=2)],
        2: [],
    }
    result = span_agreement({"A": a, "B": b})
    assert list(result.pairs) == [("A", "B")]
    pair = result.pairs[("A", "B")]
    # Content: [0,20) ~ [1,20) within 2 (exact and overlap); [30,40) alone: 1 of 1+2:
    # P 1, R 1/2, F1 2/3 for both rules.
    for rule in (EXACT, OVERLAP):
        assert pair.f1[("content", rule)] == SpanF1(1.0, 0.5, pytest.approx(2 / 3), 1, 1, 2)
    # Cue: [21,25) ~ [21,26) end 1 apart: 1 of 1+1 -> F1 1. No mentions: 0/0 -> None.
    assert pair.f1[("cue", EXACT)] == SpanF1(1.0, 1.0, 1.0, 1, 1, 1)
    assert pair.f1[("mention", OVERLAP)] == SpanF1(None, None, None, 0, 0, 0)
    # One matched claim: sources (1,1) -> one category only, alpha None; statuses (1,2):
    # n = 2, o_cc = 0, expected = 4 - 2 = 2, alpha = 1 - 1 * 2 / 2 = 0.
    assert pair.matched_claims == 1
    assert pair.source_alpha is None
    assert pair.status_alpha == 0.0
    # Claim counts: 1 vs 2 differ, 0 vs 0 same -> 1/2.
    assert pair.claim_count == ClaimCountResult(0.5, 1, 2)
    # One pair: pooled is the pair, the mean its F1.
    assert result.pooled == pair
    assert result.mean_f1 == {m: pair.f1[m].f1 for m in MEASURES}
    # Strict exact (tolerance 0): [0,20) vs [1,20) and [21,25) vs [21,26) no longer match.
    strict = span_agreement({"A": a, "B": b}, tolerance=0).pairs[("A", "B")]
    assert strict.f1[("content", EXACT)].f1 == 0.0
    assert strict.f1[("cue", EXACT)].f1 == 0.0
    assert strict.f1[("content", OVERLAP)].f1 == pytest.approx(2 / 3)


def test_identical_labels_of_two_annotators():
    labels = {1: [claim((0, 20), cue=(21, 25), mention=(26, 30), source=3)], 2: []}
    result = span_agreement({"A": labels, "B": labels})
    pair = result.pairs[("A", "B")]
    assert all(pair.f1[m] == SpanF1(1.0, 1.0, 1.0, 1, 1, 1) for m in MEASURES)
    assert pair.claim_count == ClaimCountResult(1.0, 2, 2)
    assert pair.source_alpha is None  # one category only: perfect but undefined


def three_annotators():
    a = {1: [claim((0, 20), cue=(21, 25), source=1, status=1)], 2: []}
    b = {
        1: [claim((0, 20), cue=(22, 25), source=1, status=1)],
        2: [claim((30, 40), mention=(30, 33), source=None, status=1)],
    }
    c = {
        1: [
            claim((5, 20), source=2, status=1),
            claim((22, 28), cue=(28, 30), source=1, status=2),
        ],
        2: None,  # C did not label sentence 2
    }
    return {"A": a, "B": b, "C": c}


def test_three_annotators_pairs():
    result = span_agreement(three_annotators())
    assert list(result.pairs) == [("A", "B"), ("A", "C"), ("B", "C")]
    ab, ac, bc = result.pairs.values()
    # A-B, sentences 1 and 2: content [0,20) = [0,20), and B's [30,40) alone: 1 of 1+2 -> 2/3
    # (exact and overlap). Cue [21,25) ~ [22,25): 1 of 1+1 -> 1. Mention: A none, B [30,33):
    # 0 of 0+1 -> F1 0. One matched claim, sources (1,1), statuses (1,1): alpha None, None.
    # Counts 1 = 1, 0 != 1 -> 1/2.
    assert ab.f1[("content", EXACT)] == SpanF1(1.0, 0.5, pytest.approx(2 / 3), 1, 1, 2)
    assert ab.f1[("content", OVERLAP)] == SpanF1(1.0, 0.5, pytest.approx(2 / 3), 1, 1, 2)
    assert ab.f1[("cue", EXACT)] == SpanF1(1.0, 1.0, 1.0, 1, 1, 1)
    assert ab.f1[("mention", EXACT)] == SpanF1(None, 0.0, 0.0, 0, 0, 1)
    assert (ab.matched_claims, ab.source_alpha, ab.status_alpha) == (1, None, None)
    assert ab.claim_count == ClaimCountResult(0.5, 1, 2)
    # A-C, sentence 1 only: content [0,20) vs [5,20) (start 5 off: no exact) and [22,28):
    # exact 0 of 1+2 -> 0; overlap 15 characters with [5,20): 1 of 1+2 -> 2/3. Cue [21,25)
    # vs [28,30): 0 of 1+1 -> 0. Mentions none: None. Matched claim: sources (1,2):
    # n = 2, o_cc = 0, expected 2, alpha = 1 - 1*2/2 = 0; statuses (1,1): None. Counts 1 vs 2.
    assert ac.f1[("content", EXACT)] == SpanF1(0.0, 0.0, 0.0, 0, 1, 2)
    assert ac.f1[("content", OVERLAP)] == SpanF1(1.0, 0.5, pytest.approx(2 / 3), 1, 1, 2)
    assert ac.f1[("cue", OVERLAP)] == SpanF1(0.0, 0.0, 0.0, 0, 1, 1)
    assert ac.f1[("mention", OVERLAP)] == SpanF1(None, None, None, 0, 0, 0)
    assert (ac.matched_claims, ac.source_alpha, ac.status_alpha) == (1, 0.0, None)
    assert ac.claim_count == ClaimCountResult(0.0, 0, 1)
    # B-C, sentence 1 only: like A-C (B's cue [22,25) vs [28,30): 0).
    assert bc.f1 == ac.f1
    assert (bc.matched_claims, bc.source_alpha, bc.status_alpha) == (1, 0.0, None)
    assert bc.claim_count == ClaimCountResult(0.0, 0, 1)


def test_three_annotators_pooled_and_mean():
    result = span_agreement(three_annotators())
    pooled = result.pooled
    # Content exact: matched 1 + 0 + 0 = 1, n_a 1+1+1 = 3, n_b 2+2+2 = 6:
    # P 1/3, R 1/6, F1 2*1 / 9 = 2/9. Mean over the pairs: (2/3 + 0 + 0) / 3 = 2/9.
    assert pooled.f1[("content", EXACT)] == SpanF1(
        pytest.approx(1 / 3), pytest.approx(1 / 6), pytest.approx(2 / 9), 1, 3, 6
    )
    assert result.mean_f1[("content", EXACT)] == pytest.approx(2 / 9)
    # Content overlap: 1+1+1 of 3 and 6: F1 6/9 = 2/3; mean (2/3 * 3) / 3 = 2/3.
    assert pooled.f1[("content", OVERLAP)].f1 == pytest.approx(2 / 3)
    assert result.mean_f1[("content", OVERLAP)] == pytest.approx(2 / 3)
    # Cue exact: 1+0+0 of 3 and 3: F1 2/6 = 1/3; mean (1 + 0 + 0) / 3 = 1/3.
    assert pooled.f1[("cue", EXACT)] == SpanF1(
        pytest.approx(1 / 3), pytest.approx(1 / 3), pytest.approx(1 / 3), 1, 3, 3
    )
    assert result.mean_f1[("cue", EXACT)] == pytest.approx(1 / 3)
    # Mention: only A-B is defined (F1 0); A-C and B-C are 0/0. Pooled 0 of 0+1 -> 0;
    # the mean is over the defined pair only: 0.
    assert pooled.f1[("mention", EXACT)] == SpanF1(None, 0.0, 0.0, 0, 0, 1)
    assert result.mean_f1[("mention", EXACT)] == 0.0
    # Alpha on the 3 matched pairs as units: sources (1,1) (1,2) (1,2): n = 6, n_1 = 4,
    # n_2 = 2, sum o_cc = 2; expected = 36 - 20 = 16; alpha = 1 - 5 * 4 / 16 = -1/4.
    # Statuses all 1: None.
    assert pooled.matched_claims == 3
    assert pooled.source_alpha == pytest.approx(-1 / 4)
    assert pooled.status_alpha is None
    # Claim counts: 1 + 0 + 0 same of 2 + 1 + 1 sentences: 1/4.
    assert pooled.claim_count == ClaimCountResult(0.25, 1, 4)


def test_pooled_alpha_is_the_alpha_of_all_pairs_matched_claims():
    # The same figure from the public alpha, units keyed by pair.
    labels = three_annotators()
    units_a, units_b = {}, {}
    for c1, c2 in [("A", "B"), ("A", "C"), ("B", "C")]:
        mine, theirs = matched_claim_labels(labels[c1], labels[c2], "source")
        units_a |= {(c1, c2, u): v for u, v in mine.items()}
        units_b |= {(c1, c2, u): v for u, v in theirs.items()}
    expected = krippendorff_alpha_nominal({"x": units_a, "y": units_b})
    assert span_agreement(labels).pooled.source_alpha == pytest.approx(expected)
