"""The annotate form's claims (issue 12): a formset of claims with body-offset spans, the
pre-filled suggestion, and the marked spans on the page."""

import re

import pytest
from django.urls import reverse

from claims.models import Annotation, Claim
from tests.factories_workspace import (
    annotatable,
    assign,
    claim_fields,
    label_post,
    make_article,
    no_claim_label,
    save,
)

HX = {"HX-Request": "true"}
BODY = (
    "The mayor of Northport spoke at noon. "
    '"The bridge will reopen in May. Nobody was hurt," she said. '
    "The transport agency said repairs began on Monday, while unions disputed the cost."
)


@pytest.fixture
def article(db):
    return make_article(body=BODY, title="Bridge article")


@pytest.fixture
def sentences(article):
    return annotatable(article)


@pytest.fixture
def ann_client(client, annotator, article):
    assign(article, annotator)
    client.force_login(annotator)
    return client


def at(sentence, words: str) -> tuple[int, int]:
    """Body offsets of `words` inside the sentence."""
    index = sentence.text.index(words)
    return sentence.start + index, sentence.start + index + len(words)


def save_url(article, sentence) -> str:
    return reverse("claims:sentence_save", args=[article.pk, sentence.pk])


def annotate_url(article, sentence) -> str:
    return f"{reverse('claims:annotate', args=[article.pk])}?s={sentence.pk}"


def marks(html: str, role: str, sentence_id: int) -> list[str]:
    """The texts of the marks of a role inside a sentence's row."""
    row = re.search(rf'<span id="s-{sentence_id}".*?<span class="text">(.*?)</span>', html, re.S)
    assert row, f"no row {sentence_id}"
    return re.findall(rf'<mark class="[^"]*\bspan-{role}\b[^"]*"[^>]*>(.*?)</mark>', row.group(1))


def stored(annotation: Annotation) -> list[tuple]:
    return [
        (
            c.content_start,
            c.content_end,
            c.cue_start,
            c.cue_end,
            c.mention_start,
            c.mention_end,
            c.source.name if c.source else None,
            c.status.code,
        )
        for c in annotation.claims.order_by("position")
    ]


def test_sentences_are_split_as_the_tests_expect(sentences):
    assert [s.text for s in sentences] == [
        "The mayor of Northport spoke at noon.",
        '"The bridge will reopen in May.',
        'Nobody was hurt," she said.',
        "The transport agency said repairs began on Monday, while unions disputed the cost.",
    ]


def test_save_two_claims_of_one_sentence(ann_client, article, sentences, mod_source):
    s = sentences[3]
    first = claim_fields(
        s,
        content=at(s, "repairs began on Monday"),
        cue=at(s, "said"),
        mention=at(s, "The transport agency"),
        source="Russian MoD",
    )
    second = claim_fields(
        s, content=at(s, "disputed the cost"), mention=at(s, "unions"), status_code="disputed"
    )

    response = ann_client.post(save_url(article, s), label_post(s, [first, second]), headers=HX)

    assert response.status_code == 200
    annotation = Annotation.objects.get(sentence=s)
    assert stored(annotation) == [
        (*at(s, "repairs began on Monday"), *at(s, "said"), *at(s, "The transport agency"),
         mod_source.name, "unverified"),
        (*at(s, "disputed the cost"), None, None, *at(s, "unions"), None, "disputed"),
    ]  # fmt: skip
    html = response.content.decode()
    assert marks(html, "content", s.pk) == ["repairs began on Monday", "disputed the cost"]
    assert marks(html, "mention", s.pk) == ["The transport agency", "unions"]
    assert marks(html, "cue", s.pk) == ["said"]
    assert "2 claims" in html and "Unverified" in html and "Disputed" in html


def test_content_across_two_sentences_with_the_mention_in_an_earlier_one(
    ann_client, article, sentences
):
    mayor, quote, said = sentences[0], sentences[1], sentences[2]
    content = (at(quote, "The bridge")[0], at(said, "Nobody was hurt")[1])
    claim = claim_fields(
        said, content=content, cue=at(said, "said"), mention=at(mayor, "The mayor of Northport")
    )

    response = ann_client.post(save_url(article, said), label_post(said, [claim]))

    assert response.status_code == 302
    annotation = Annotation.objects.get(sentence=said)
    (row,) = stored(annotation)
    assert row[:6] == (*content, *at(said, "said"), *at(mayor, "The mayor of Northport"))
    assert (
        article.body[content[0] : content[1]] == "The bridge will reopen in May. Nobody was hurt"
    )

    page = ann_client.get(annotate_url(article, said)).content.decode()
    assert marks(page, "content", quote.pk) == ["The bridge will reopen in May."]
    assert marks(page, "content", said.pk) == ["Nobody was hurt"]
    assert marks(page, "cue", said.pk) == ["said"]
    assert marks(page, "mention", mayor.pk) == ["The mayor of Northport"]
    assert f'data-owner="{said.pk}"' in page
    # the editor reopens the label with the claim as saved
    assert f'name="claims-0-content_start" value="{content[0]}"' in page
    assert 'name="claims-TOTAL_FORMS" value="1"' in page


@pytest.mark.parametrize(
    ("claim", "message"),
    [
        ({"cue_start": "10", "cue_end": ""}, "The cue needs both a start and an end."),
        ({"mention_start": "30", "mention_end": "20"}, "must end after it starts"),
        ({"content_start": "", "content_end": ""}, "Mark the claim&#x27;s content (x)"),
        ({"content_start": "0", "content_end": "99999"}, "runs past the end of the article"),
        ({"content_start": "0", "content_end": "5"}, "must include words of this sentence"),
        ({"status": ""}, "A claim needs a verification status"),
        ({"source": "Nobody Knows"}, "No source is called"),
        ({"content_start": "²"}, "Enter a whole number"),
    ],
)
def test_invalid_claims_are_422_with_a_message(ann_client, article, sentences, claim, message):
    s = sentences[3]
    data = label_post(s, [{**claim_fields(s), **claim}])

    for headers in (HX, {}):
        response = ann_client.post(save_url(article, s), data, headers=headers)

        assert response.status_code == 422
        assert message in response.content.decode()
    assert not Annotation.objects.exists()


def test_a_claim_without_claims_is_422(ann_client, article, sentences):
    s = sentences[3]

    response = ann_client.post(save_url(article, s), label_post(s, []), headers=HX)

    assert response.status_code == 422
    assert "Mark the claim&#x27;s content (x) in the text, or say" in response.content.decode()


def test_deleted_claims_are_not_saved_and_all_deleted_is_an_error(ann_client, article, sentences):
    s = sentences[3]
    kept = claim_fields(s, content=at(s, "disputed the cost"))
    dropped = claim_fields(s, content=at(s, "repairs began"), status_code="", delete=True)

    response = ann_client.post(save_url(article, s), label_post(s, [dropped, kept]), headers=HX)

    assert response.status_code == 200
    assert [c[:2] for c in stored(Annotation.objects.get())] == [at(s, "disputed the cost")]
    again = label_post(s, [{**kept, "DELETE": "on"}], version=1)
    assert ann_client.post(save_url(article, s), again, headers=HX).status_code == 422


def test_not_a_claim_ignores_the_claims_posted(ann_client, article, sentences):
    s = sentences[0]
    data = label_post(s, [{**claim_fields(s), "status": "", "content_start": ""}], is_claim="no")

    response = ann_client.post(save_url(article, s), data, headers=HX)

    assert response.status_code == 200
    annotation = Annotation.objects.get()
    assert not annotation.is_claim and not annotation.claims.exists()


def test_too_many_claims_is_422(ann_client, article, sentences):
    s = sentences[3]
    data = label_post(s, [claim_fields(s)] * 21)

    response = ann_client.post(save_url(article, s), data, headers=HX)

    assert response.status_code == 422
    assert not Annotation.objects.exists()


def test_a_new_label_is_prefilled_from_the_suggestion(ann_client, article, sentences):
    """Without JavaScript the form still works: one claim over the suggested content (else
    the whole sentence), the cue the suggestion found (sentence offsets become body offsets),
    source and type."""
    s = sentences[3]
    s.refresh_from_db()
    page = ann_client.get(annotate_url(article, s)).content.decode()
    editor = page[page.index('<aside id="editor"') :]
    content = s.suggested_span("content", body=True) or (s.start, s.end)

    assert f'name="claims-0-content_start" value="{content[0]}"' in editor
    assert f'name="claims-0-content_end" value="{content[1]}"' in editor
    assert 'name="claims-TOTAL_FORMS" value="1"' in editor
    assert '<template id="claim-template">' in editor and "claims-__prefix__-source" in editor
    if s.cue_start is not None:
        assert f'name="claims-0-cue_start" value="{s.start + s.cue_start}"' in editor


def test_the_prefilled_form_posted_as_is_saves(ann_client, article, sentences):
    """The no-JS path: what the page shows, posted back with a status, is a valid label."""
    s = sentences[3]
    page = ann_client.get(annotate_url(article, s)).content.decode()
    form = page[
        page.index('<form id="label-form"') : page.index(
            "</form>", page.index('<form id="label-form"')
        )
    ]
    data = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))
    data.update({"is_claim": "yes", "claims-0-status": "unverified"})
    data["claims-0-source"] = re.search(r'name="claims-0-source"[^>]*value="([^"]*)"', form).group(
        1
    )

    response = ann_client.post(save_url(article, s), data)

    assert response.status_code == 302, response.content.decode()[:2000]
    (claim,) = Annotation.objects.get().claims.all()
    s.refresh_from_db()
    content = s.suggested_span("content", body=True) or (s.start, s.end)
    assert (claim.content_start, claim.content_end) == content


def test_reopening_a_label_lists_its_claims_in_order(ann_client, annotator, article, sentences):
    s = sentences[3]
    a, b = at(s, "repairs began on Monday"), at(s, "disputed the cost")
    ann_client.post(
        save_url(article, s),
        label_post(s, [claim_fields(s, content=b), claim_fields(s, content=a, note="second")]),
    )

    page = ann_client.get(annotate_url(article, s)).content.decode()

    assert f'name="claims-0-content_start" value="{b[0]}"' in page
    assert f'name="claims-1-content_start" value="{a[0]}"' in page
    assert 'name="claims-TOTAL_FORMS" value="2"' in page
    assert 'name="claims-INITIAL_FORMS" value="2"' in page
    assert Claim.objects.get(position=1).note == "second"


def test_a_not_a_claim_row_has_no_marks(ann_client, annotator, article, sentences):
    save(sentences[0], annotator, no_claim_label())

    page = ann_client.get(annotate_url(article, sentences[1])).content.decode()

    assert marks(page, "content", sentences[0].pk) == []
    assert '<span class="chip none">not a claim</span>' in page


def test_source_search_reads_the_claims_source_field(ann_client, mod_source):
    response = ann_client.get(reverse("claims:source_search"), {"claims-3-source": "russian mod"})

    assert mod_source.name in response.content.decode()
