"""claims.highlight: a sentence's text cut at the edges of marked spans (body offsets)."""

from claims import highlight
from claims.highlight import Role, Segment, Span, claim_spans, segments
from claims.models import Claim

TEXT = "Kyiv said the bridge was hit."  # a sentence at body offset 100


def texts(result):
    return [(s.text, s.classes) for s in result]


def test_no_spans_is_one_plain_segment():
    assert segments(TEXT, 100, []) == [Segment(TEXT, ())]


def test_empty_text_has_no_segments():
    assert segments("", 100, [Span(90, 110, "content")]) == []


def test_content_cue_and_mention_of_one_claim():
    spans = [Span(100, 104, "mention"), Span(105, 109, "cue"), Span(110, 129, "content")]

    assert texts(segments(TEXT, 100, spans)) == [
        ("Kyiv", "span-mention"),
        (" ", ""),
        ("said", "span-cue"),
        (" ", ""),
        ("the bridge was hit.", "span-content"),
    ]


def test_nested_spans_cut_the_outer_one():
    spans = [Span(100, 129, "content", 0), Span(105, 109, "cue", 0)]

    result = segments(TEXT, 100, spans)

    assert texts(result) == [
        ("Kyiv ", "span-content"),
        ("said", "span-content span-cue"),
        (" the bridge was hit.", "span-content"),
    ]
    assert result[1].roles == (Role("content", 0), Role("cue", 0))


def test_overlapping_claims_are_both_named():
    spans = [Span(100, 120, "content", 0, 7), Span(110, 129, "content", 1, 7)]

    result = segments(TEXT, 100, spans)

    assert [(s.text, s.claims) for s in result] == [
        ("Kyiv said ", "0"),
        ("the bridge", "0 1"),
        (" was hit.", "1"),
    ]
    assert result[1].classes == "span-content" and result[1].owners == "7"


def test_spans_crossing_the_sentence_edges_are_clipped():
    spans = [Span(60, 104, "content", 0), Span(125, 300, "mention", 1)]

    assert texts(segments(TEXT, 100, spans)) == [
        ("Kyiv", "span-content"),
        (" said the bridge was ", ""),
        ("hit.", "span-mention"),
    ]


def test_a_span_over_the_whole_sentence_and_beyond():
    assert texts(segments(TEXT, 100, [Span(0, 1000, "content")])) == [(TEXT, "span-content")]


def test_spans_outside_empty_or_reversed_are_ignored():
    spans = [
        Span(0, 100, "content"),
        Span(129, 140, "cue"),
        Span(110, 110, "cue"),
        (120, 110, "cue"),
    ]

    assert segments(TEXT, 100, spans) == [Segment(TEXT, ())]


def test_same_roles_side_by_side_are_one_segment():
    spans = [Span(100, 110, "content", 0), Span(110, 129, "content", 0)]

    assert texts(segments(TEXT, 100, spans)) == [(TEXT, "span-content")]


def test_claim_spans_of_a_claim_row():
    claim = Claim(position=2, content_start=10, content_end=30, mention_start=0, mention_end=4)

    assert claim_spans(claim, owner=5) == [
        Span(10, 30, "content", 2, 5),
        Span(0, 4, "mention", 2, 5),
    ]


def test_marked_html_escapes_the_text_and_marks_the_pieces():
    text = 'Officials <b>said</b> "A & B" held.'
    spans = [(0, 9, "mention", 0), (10, 21, "cue", 0), (22, 29, "content", 1)]

    html_text = highlight.marked_html(highlight.segments(text, 0, spans))

    assert html_text == (
        '<mark class="span-mention" data-claim="0" data-owner="">Officials</mark> '
        '<mark class="span-cue" data-claim="0" data-owner="">&lt;b&gt;said&lt;/b&gt;</mark> '
        '<mark class="span-content" data-claim="1" data-owner="">"A &amp; B"</mark> held.'
    )
    assert highlight.marked_html(highlight.segments(text, 0, [])) == (
        'Officials &lt;b&gt;said&lt;/b&gt; "A &amp; B" held.'
    )


def test_suggested_html_marks_each_suggested_span_apart_and_escapes():
    text = "The <b>ministry</b> said drones fell."
    spans = [(0, 19, "mention"), (20, 24, "cue"), (25, 37, "content")]

    marked = highlight.suggested_html(text, spans)

    assert marked == (
        '<mark class="suggested span-mention" title="Suggested source mention">'
        "The &lt;b&gt;ministry&lt;/b&gt;</mark> "
        '<mark class="suggested span-cue" title="Suggested cue">said</mark> '
        '<mark class="suggested span-content" title="Suggested content">drones fell.</mark>'
    )


def test_suggested_html_names_every_role_of_an_overlap():
    marked = highlight.suggested_html("he said so", [(0, 10, "content"), (3, 7, "cue")])

    assert (
        'class="suggested span-content span-cue" title="Suggested content and cue">said' in marked
    )
    assert highlight.suggested_html("plain", []) == "plain"
