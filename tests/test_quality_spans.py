"""The quality page's span agreement: figures computed by hand, and a flat query count.

Labels are written with the ORM (Annotation with its old mirror fields, plus Claim rows), not
through the services, so that these tests only depend on the model.
"""

import html as html_lib
import re

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from claims.models import Annotation, Claim, Source, VerificationStatus
from tests.conftest import make_user
from tests.factories_workspace import annotatable, make_article, numbered_body

BODY = (
    "The defence ministry said the bridge was hit overnight. "
    "Officials in Kyiv denied any strike, while the mayor said power was back. "
    "Traffic resumed on Tuesday morning. "
    "Shelling damaged two schools, according to local reports. "
    "The governor wrote that three people were hurt."
)


def text_of(response) -> str:
    return response.content.decode()


def visible_text(fragment: str) -> str:
    return html_lib.unescape(re.sub(r"<[^>]+>", "", fragment))


def at(sentence, phrase: str, nth: int = 0) -> tuple[int, int]:
    """Body offsets of the nth `phrase` in the sentence."""
    starts = [m.start() for m in re.finditer(re.escape(phrase), sentence.text)]
    start = sentence.start + starts[nth]
    return start, start + len(phrase)


def label(sentence, annotator, claims: list[dict]) -> Annotation:
    """An annotation with its claims; the old fields mirror the first claim."""
    first = claims[0] if claims else {}
    annotation = Annotation.objects.create(
        sentence=sentence,
        annotator=annotator,
        is_claim=bool(claims),
        source=first.get("source"),
        status=first.get("status"),
        attribution_type="direct_quote" if claims else "",
    )
    for position, claim in enumerate(claims):
        content, cue, mention = claim["content"], claim.get("cue"), claim.get("mention")
        Claim.objects.create(
            annotation=annotation,
            position=position,
            content_start=content[0],
            content_end=content[1],
            cue_start=cue[0] if cue else None,
            cue_end=cue[1] if cue else None,
            mention_start=mention[0] if mention else None,
            mention_end=mention[1] if mention else None,
            source=claim.get("source"),
            attribution_type="direct_quote",
            status=claim["status"],
        )
    return annotation


def legacy_claim_label(sentence, annotator, status) -> Annotation:
    """A claim label from before claims were rows: is_claim without any Claim."""
    return Annotation.objects.create(
        sentence=sentence, annotator=annotator, is_claim=True, status=status
    )


@pytest.fixture
def statuses(db):
    return {s.code: s for s in VerificationStatus.objects.all()}


@pytest.fixture
def labelled(db, statuses):
    """Two annotators, A and B, on the five sentences of BODY."""
    u, d = statuses["unverified"], statuses["disputed"]
    ministry = Source.objects.create(name="Defence ministry", kind="government")
    kyiv = Source.objects.create(name="Kyiv city officials", kind="government")
    s0, s1, s2, s3, s4 = annotatable(make_article(body=BODY, title="Bridge"))
    a, b = make_user("alice", "annotator"), make_user("bruno", "annotator")
    # s0: one claim each; B's content starts 4 characters later ("bridge…" without "the ").
    mention0, cue0 = at(s0, "The defence ministry"), at(s0, "said")
    label(
        s0,
        a,
        [
            dict(
                content=at(s0, "the bridge was hit overnight"),
                cue=cue0,
                mention=mention0,
                source=ministry,
                status=u,
            )
        ],
    )
    label(
        s0,
        b,
        [
            dict(
                content=at(s0, "bridge was hit overnight"),
                cue=cue0,
                mention=mention0,
                source=ministry,
                status=d,
            )
        ],
    )
    # s1: A two claims (Kyiv's denial, the mayor's statement), B only the first.
    denial = dict(
        content=at(s1, "any strike"),
        cue=at(s1, "denied"),
        mention=at(s1, "Officials in Kyiv"),
        source=kyiv,
        status=u,
    )
    mayor = dict(
        content=at(s1, "power was back"),
        cue=at(s1, "said"),
        mention=at(s1, "the mayor"),
        source=None,
        status=u,
    )
    label(s1, a, [denial, mayor])
    label(s1, b, [denial])
    # s2: not a claim, both.
    label(s2, a, [])
    label(s2, b, [])
    # s3: the same unattributed claim without cue or mention, both.
    schools = dict(content=at(s3, "Shelling damaged two schools"), source=None, status=d)
    label(s3, a, [schools])
    label(s3, b, [schools])
    # s4: A's label has no claim rows (a legacy label): the sentence is not compared.
    legacy_claim_label(s4, a, u)
    label(s4, b, [dict(content=at(s4, "three people were hurt"), status=u)])
    return s0, s1, s2, s3, s4


def span_rows(html: str) -> dict[str, list[str]]:
    """The 'Span agreement' table: measure -> its cells' visible text."""
    section = html.split("<h2>Span agreement</h2>", 1)[1].split("</section>", 1)[0]
    rows = {}
    for row in re.findall(r"<tr>\s*<td>(.*?)</tr>", section, re.S):
        name, rest = row.split("</td>", 1)
        cells = re.findall(r'<td class="num">(.*?)</td>', rest, re.S)
        rows[visible_text(name).strip()] = [" ".join(visible_text(c).split()) for c in cells]
    return rows


def test_quality_shows_span_agreement_computed_by_hand(client, labelled):
    client.force_login(make_user("ed", "editor"))

    response = client.get(reverse("claims:quality"))

    assert response.status_code == 200
    html = text_of(response)
    assert "<th>alice / bruno</th>" in html
    # One pair (alice, bruno) over s0-s3 (s4: alice's label has no claims to compare).
    # Content: alice 1+2+0+1 = 4 spans, bruno 1+1+0+1 = 3. Exact: s0 starts 4 apart (> 2),
    # s1 "any strike" =, s3 = -> 2; F1 = 2*2 / (4+3) = 4/7 = 0.571. Overlap: s0 overlaps too
    # -> 3; F1 = 6/7 = 0.857. The pooled, mean and pair figures are the same (one pair).
    # Cue: alice "said", "denied", "said" (3), bruno "said", "denied" (2), equal: 2 matched,
    # F1 = 4/5 = 0.8 both ways. Mention likewise (ministry, Kyiv officials, the mayor): 0.8.
    # Matched claims (by content): s0, s1 (denial), s3 -> 3.
    # Source: (ministry, ministry) (kyiv, kyiv) (unattributed, unattributed): no
    # disagreement, 3 categories -> alpha = 1 - 5 * 0 / (36 - 12) = 1.
    # Status: (unverified, disputed) (u, u) (d, d): n = 6, n_u = n_d = 3, sum o_cc = 0+2+2 = 4,
    # expected 36 - 18 = 18 -> alpha = 1 - 5 * (6 - 4) / 18 = 4/9 = 0.444.
    # Same number of claims: s0 1 = 1, s1 2 != 1, s2 0 = 0, s3 1 = 1 -> 3/4.
    assert span_rows(html) == {
        "Content, exact": ["0.571 (2 of 4 + 3)", "0.571", "0.571 (2 of 4 + 3)"],
        "Content, overlap": ["0.857 (3 of 4 + 3)", "0.857", "0.857 (3 of 4 + 3)"],
        "Cue, exact": ["0.800 (2 of 3 + 2)", "0.800", "0.800 (2 of 3 + 2)"],
        "Cue, overlap": ["0.800 (2 of 3 + 2)", "0.800", "0.800 (2 of 3 + 2)"],
        "Source mention, exact": ["0.800 (2 of 3 + 2)", "0.800", "0.800 (2 of 3 + 2)"],
        "Source mention, overlap": ["0.800 (2 of 3 + 2)", "0.800", "0.800 (2 of 3 + 2)"],
        "\N{GREEK SMALL LETTER ALPHA} source (matched claims)": ["1.000 (n=3)", "", "1.000 (n=3)"],
        "\N{GREEK SMALL LETTER ALPHA} status (matched claims)": ["0.444 (n=3)", "", "0.444 (n=3)"],
        "Same number of claims": ["0.750 (n=4)", "", "0.750 (n=4)"],
    }
    assert "4 sentence labels compared and 3 matched claims" in html
    spans = response.context["report"].spans
    assert spans.rows[0].pooled.value == pytest.approx(4 / 7)
    assert spans.rows[7].pooled.value == pytest.approx(4 / 9)


def test_a_third_annotator_adds_two_pairs(client, labelled, statuses):
    # carla labels s0 like alice and s2 as a claim: pairs (alice, bruno), (alice, carla),
    # (bruno, carla). Claim counts: alice-bruno 3 of 4 (above); alice-carla s0 1 = 1,
    # s2 0 != 1 -> 1/2; bruno-carla s0 1 = 1, s2 0 != 1 -> 1/2. Pooled (3+1+1) / (4+2+2) = 5/8.
    s0, _, s2, *_ = labelled
    carla = make_user("carla", "annotator")
    alice_s0 = Claim.objects.get(annotation__sentence=s0, annotation__annotator__username="alice")
    label(
        s0,
        carla,
        [
            dict(
                content=(alice_s0.content_start, alice_s0.content_end),
                source=alice_s0.source,
                status=alice_s0.status,
            )
        ],
    )
    label(s2, carla, [dict(content=at(s2, "Traffic resumed"), status=statuses["unverified"])])
    client.force_login(make_user("ed", "editor"))

    html = text_of(client.get(reverse("claims:quality")))

    for pair in ("alice / bruno", "alice / carla", "bruno / carla"):
        assert f"<th>{pair}</th>" in html
    assert span_rows(html)["Same number of claims"] == [
        "0.625 (n=8)",
        "",
        "0.750 (n=4)",
        "0.500 (n=2)",
        "0.500 (n=2)",
    ]


def test_quality_with_one_annotator_says_span_agreement_needs_two(client, statuses):
    sentence = annotatable(make_article(body=BODY))[0]
    label(sentence, make_user("alice", "annotator"), [])
    client.force_login(make_user("ed", "editor"))

    html = text_of(client.get(reverse("claims:quality")))

    assert "Span agreement needs two annotators' labels." in html


def test_quality_query_count_does_not_grow_with_claims(
    client, labelled, statuses, django_assert_max_num_queries
):
    client.force_login(make_user("ed", "editor"))
    client.get(reverse("claims:quality"))  # warm up (session, caches)
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("claims:quality")).status_code == 200
    # 20 more sentences, labelled by both with three claims each: 120 more claims.
    alice, bruno = User.objects.get(username="alice"), User.objects.get(username="bruno")
    status = statuses["unverified"]
    for sentence in annotatable(make_article(body=numbered_body(20))):
        claims = [
            dict(content=(sentence.start + i, sentence.start + i + 3), status=status)
            for i in (0, 4, 8)
        ]
        label(sentence, alice, claims)
        label(sentence, bruno, claims)
    assert Claim.objects.count() > 120

    with django_assert_max_num_queries(len(few)):
        response = client.get(reverse("claims:quality"))

    assert span_rows(text_of(response))["Same number of claims"][0] == "0.958 (n=24)"  # 23/24
