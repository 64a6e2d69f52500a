"""Issue 13: suggestions with spans and new sources — stored at import (English and
Ukrainian), pre-filled on the annotate page, a new source proposed from the suggestion with one
form (the key p submits it), refreshed by refresh_suggestions, and measured on the quality page.

What the rules find is theirs to decide (tests/test_attribution.py): these tests compare what is
stored and shown with what the rules return, and check the words only where the rules are plain.
"""

import html
import re

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.urls import reverse

from claims import services
from claims.importing import ArticleRecord
from claims.models import Annotation, Article, Sentence, Source, VerificationStatus
from tests.conftest import make_user
from tests.factories_workspace import annotatable, assign

HX = {"HX-Request": "true"}

ENGLISH = (
    "Russia's Defence Ministry said on Monday that 12 drones were shot down over Belgorod. "
    "Traffic resumed on Tuesday."
)
UKRAINIAN = (
    "Губернатор Харківської області Олег Синєгубов заявив, що внаслідок обстрілу поранено "
    "трьох людей. Ситуація під контролем."
)
SPANS = ("cue", "mention", "content")
NEW_SOURCE_FIELDS = (
    "suggested_new_source_name",
    "suggested_new_source_kind",
    "suggested_new_source_side",
)


def imported(body: str, title: str = "Article") -> Article:
    """An article imported as files are (the batched path: one INSERT of raw rows)."""
    services.articles_import(records=[ArticleRecord(body=body, title=title)])
    return Article.objects.get(title=title)


def span_text(sentence: Sentence, role: str) -> str:
    span = sentence.suggested_span(role)
    return sentence.text[span[0] : span[1]] if span else ""


def rules_say(sentence: Sentence, language: str):
    (suggestion,) = services.source_matcher().suggest([sentence.text], lang=language)
    return suggestion


def annotate_url(article, sentence) -> str:
    return f"{reverse('claims:annotate', args=[article.pk])}?s={sentence.pk}"


def editor_of(page: str) -> str:
    return page[page.index('<aside id="editor"') :]


def hidden(fragment: str, name: str) -> str:
    match = re.search(rf'name="{re.escape(name)}" value="([^"]*)"', fragment)
    assert match, f"no {name} in the form"
    return html.unescape(match.group(1))


def source_value(editor: str) -> str:
    match = re.search(r'name="claims-0-source"[^>]*value="([^"]*)"', editor)
    return html.unescape(match.group(1))


def proposal_form(editor: str) -> str:
    start = editor.index('<form class="new-source" data-propose-suggested')
    return editor[start : editor.index("</form>", start)]


@pytest.fixture
def ann_client(client, annotator):
    client.force_login(annotator)
    return client


# --- stored at import ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "language", "cue", "mention_word", "content_word"),
    [
        (ENGLISH, "en", "said", "Defence Ministry", "drones"),
        (UKRAINIAN, "uk", "заявив", "Синєгубов", "поранено"),
    ],
    ids=["english", "ukrainian"],
)
def test_import_stores_the_suggested_spans(
    mod_source, body, language, cue, mention_word, content_word
):
    article = imported(body)
    first, second = annotatable(article)
    expected = rules_say(first, language)

    assert article.language == language
    for role in SPANS:  # the rules' own offsets, relative to the sentence
        assert first.suggested_span(role) == getattr(expected, f"{role}_span"), role
    assert span_text(first, "cue") == cue
    assert mention_word in span_text(first, "mention")
    assert content_word in span_text(first, "content")
    assert [second.suggested_span(role) for role in SPANS] == [None, None, None]


def test_import_stores_a_new_source_for_a_speaker_the_taxonomy_lacks(db):
    article = imported(UKRAINIAN)
    first = annotatable(article)[0]
    new = rules_say(first, "uk").new_source

    assert new is not None and "Синєгубов" in new.name
    assert first.suggested_source is None
    assert (
        first.suggested_new_source_name,
        first.suggested_new_source_kind,
        first.suggested_new_source_side,
    ) == (new.name, new.kind, new.side)


def test_a_taxonomy_source_is_no_new_source(mod_source):
    first = annotatable(imported(ENGLISH))[0]

    assert first.suggested_source == mod_source
    assert first.suggested_new_source_name == ""


def test_a_replaced_body_is_suggested_for_in_its_own_language(mod_source):
    article, _ = services.article_upsert(record=ArticleRecord(body=ENGLISH, external_id="a1"))
    article, _ = services.article_upsert(record=ArticleRecord(body=UKRAINIAN, external_id="a1"))

    article.refresh_from_db()
    assert article.language == "uk"
    assert span_text(annotatable(article)[0], "cue") == "заявив"


def test_the_database_keeps_suggested_spans_ordered_and_inside_the_sentence(mod_source):
    first = annotatable(imported(ENGLISH))[0]
    rows = Sentence.objects.filter(pk=first.pk)

    for change in (
        {"mention_start": 0, "mention_end": len(first.text) + 1},  # past the text
        {"content_start": 5, "content_end": 5},  # empty
        {"content_start": 5, "content_end": None},  # half a span
        {"suggested_new_source_kind": "wizard"},
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            rows.update(**change)


# --- the annotate page -----------------------------------------------------------------------


def test_the_suggested_claim_is_prefilled_with_the_suggested_spans(
    ann_client, annotator, mod_source
):
    article = imported(ENGLISH)
    assign(article, annotator)
    first = annotatable(article)[0]

    editor = editor_of(ann_client.get(annotate_url(article, first)).content.decode())

    for role in SPANS:  # body offsets: the sentence's start plus the suggestion's offsets
        start, end = first.suggested_span(role, body=True)
        assert start == first.start + getattr(first, f"{role}_start")
        assert hidden(editor, f"claims-0-{role}_start") == str(start), role
        assert hidden(editor, f"claims-0-{role}_end") == str(end), role
    assert source_value(editor) == mod_source.name
    # the editor's copy of the sentence marks each suggested span apart
    assert 'title="Suggested cue">said</mark>' in editor
    assert f'title="Suggested source mention">{span_text(first, "mention")}</mark>' in editor
    assert f'title="Suggested content">{span_text(first, "content")}</mark>' in editor
    assert "data-propose-suggested" not in editor  # no new source to propose


def test_a_sentence_without_suggested_spans_is_prefilled_whole(ann_client, annotator, db):
    article = imported(ENGLISH)  # no taxonomy: the second sentence has no suggestion at all
    assign(article, annotator)
    second = annotatable(article)[1]

    editor = editor_of(ann_client.get(annotate_url(article, second)).content.decode())

    assert hidden(editor, "claims-0-content_start") == str(second.start)
    assert hidden(editor, "claims-0-content_end") == str(second.end)
    assert hidden(editor, "claims-0-cue_start") == ""
    assert hidden(editor, "claims-0-mention_start") == ""


def test_a_new_source_suggestion_offers_its_proposal(ann_client, annotator):
    article = imported(UKRAINIAN)
    assign(article, annotator)
    first = annotatable(article)[0]

    editor = editor_of(ann_client.get(annotate_url(article, first)).content.decode())
    form = proposal_form(editor)

    name = first.suggested_new_source_name
    assert f"New source suggested: <strong>{name}</strong>" in editor
    assert "press <kbd>p</kbd> to propose it" in editor
    assert f'action="{reverse("claims:source_propose", args=[article.pk, first.pk])}"' in form
    assert hidden(form, "propose-name") == name
    assert hidden(form, "propose-kind") == first.suggested_new_source_kind
    assert hidden(form, "propose-side") == first.suggested_new_source_side
    assert first.get_suggested_new_source_kind_display() in editor
    assert source_value(editor) == ""  # not a source yet: nothing to choose


def _propose_from_the_page(client, article, sentence, **headers):
    form = proposal_form(editor_of(client.get(annotate_url(article, sentence)).content.decode()))
    data = {name: hidden(form, name) for name in ("propose-name", "propose-kind", "propose-side")}
    data["csrfmiddlewaretoken"] = hidden(form, "csrfmiddlewaretoken")
    url = reverse("claims:source_propose", args=[article.pk, sentence.pk])
    return client.post(url, data, headers=headers)


def test_proposing_the_suggestion_without_js_creates_and_selects_the_source(ann_client, annotator):
    article = imported(UKRAINIAN)
    assign(article, annotator)
    first = annotatable(article)[0]

    response = _propose_from_the_page(ann_client, article, first)

    assert response.status_code == 302
    source = Source.objects.get(name=first.suggested_new_source_name)
    assert source.status == Source.Status.PENDING and source.proposed_by == annotator
    assert (source.kind, source.side) == (
        first.suggested_new_source_kind,
        first.suggested_new_source_side,
    )
    editor = editor_of(ann_client.get(response.url).content.decode())
    assert source_value(editor) == source.name  # the claim now names it
    assert "data-propose-suggested" not in editor  # and it is not offered twice
    assert f"Suggested source: <strong>{source.name}</strong>" in editor


def test_proposing_the_suggestion_by_htmx_answers_the_editor_with_it_chosen(ann_client, annotator):
    article = imported(UKRAINIAN)
    assign(article, annotator)
    first = annotatable(article)[0]

    response = _propose_from_the_page(ann_client, article, first, **HX)

    page = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in page and 'id="editor"' in page
    assert f"Proposed “{first.suggested_new_source_name}”" in page
    assert source_value(page) == first.suggested_new_source_name


def test_the_label_records_the_new_source_it_started_from(ann_client, annotator):
    article = imported(UKRAINIAN)
    assign(article, annotator)
    first = annotatable(article)[0]
    _propose_from_the_page(ann_client, article, first)
    editor = editor_of(ann_client.get(annotate_url(article, first)).content.decode())
    form = editor[editor.index('<form id="label-form"') :]
    data = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))
    data.update(
        {"is_claim": "yes", "claims-0-status": "unverified", "claims-0-source": source_value(form)}
    )

    response = ann_client.post(reverse("claims:sentence_save", args=[article.pk, first.pk]), data)

    assert response.status_code == 302, response.content.decode()[:2000]
    annotation = Annotation.objects.get()
    assert annotation.source.name == first.suggested_new_source_name
    assert annotation.suggested_new_source_name == first.suggested_new_source_name
    assert annotation.suggested_source is None
    claim = annotation.claims.get()
    assert (claim.mention_start, claim.mention_end) == first.suggested_span("mention", body=True)


def test_the_shortcut_sheet_and_keys_know_p(ann_client, annotator, db):
    article = imported(UKRAINIAN)
    assign(article, annotator)

    page = ann_client.get(reverse("claims:annotate", args=[article.pk])).content.decode()

    assert "<td><kbd>p</kbd></td><td>propose the suggested new source" in page


# --- refresh_suggestions ---------------------------------------------------------------------


def test_refresh_suggestions_fills_the_new_fields_of_existing_rows(mod_source):
    english, ukrainian = imported(ENGLISH, "en"), imported(UKRAINIAN, "uk")
    fields = [f"{role}_{end}" for role in SPANS for end in ("start", "end")]
    before = list(Sentence.objects.order_by("pk").values(*fields, *NEW_SOURCE_FIELDS))
    # as rows imported before issue 13 are: nothing of it stored
    Sentence.objects.update(**dict.fromkeys(fields), **dict.fromkeys(NEW_SOURCE_FIELDS, ""))
    Article.objects.update(language="")

    call_command("refresh_suggestions", stdout=open("/dev/null", "w"))  # noqa: SIM115

    assert list(Sentence.objects.order_by("pk").values(*fields, *NEW_SOURCE_FIELDS)) == before
    assert any(row["mention_start"] is not None for row in before)
    assert any(row["suggested_new_source_name"] for row in before)
    english.refresh_from_db()
    ukrainian.refresh_from_db()
    assert (english.language, ukrainian.language) == ("en", "uk")


# --- the quality page ------------------------------------------------------------------------


def _label(sentence, annotator, source):
    """The annotator's label, started from the sentence's suggestion, with this source."""
    status = VerificationStatus.objects.get(code="unverified")
    claim = services.suggested_claim(
        sentence, source_id=source.pk if source else None, status_id=status.pk
    )
    services.annotation_save(
        sentence=sentence,
        annotator=annotator,
        label={"is_claim": True, "claims": [claim]},
        expected_version=0,
    )


def _stat(page: str, element_id: str) -> str:
    start = page.index(f'id="{element_id}"')
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page[start : page.index("</div>", start)]))


def test_quality_shows_how_often_suggested_and_new_sources_are_kept(
    client, editor, annotator, annotator2, mod_source
):
    other = Source.objects.create(name="Kharkiv regional administration", kind="government")
    person = Source.objects.create(name="Oleh Syniehubov", kind="government", side="Ukraine")
    english = annotatable(imported(ENGLISH, "en"))[0]
    ukrainian = annotatable(imported(UKRAINIAN, "uk"))[0]
    proposed = services.source_propose(
        name=ukrainian.suggested_new_source_name, kind="government", side="", proposed_by=annotator
    )
    _label(english, annotator, mod_source)  # the suggested source kept
    _label(english, annotator2, other)  # changed
    _label(ukrainian, annotator, proposed)  # the suggested new source, proposed and chosen
    _label(ukrainian, annotator2, person)  # the same person under another name
    _label(ukrainian, make_user("ann3", "annotator"), None)  # no source
    client.force_login(editor)

    page = client.get(reverse("claims:quality")).content.decode()

    assert "50% of 2 suggested sources kept" in _stat(page, "suggestions-kept")
    assert "33% of 3 suggested new sources chosen" in _stat(page, "new-sources-kept")

    # An editor merges the proposal into the taxonomy's entry: its name stays as an alias, so
    # both labels now chose the suggested speaker.
    services.source_merge(source=proposed, into=person)
    page = client.get(reverse("claims:quality")).content.decode()
    assert "67% of 3 suggested new sources chosen" in _stat(page, "new-sources-kept")
    assert "50% of 2 suggested sources kept" in _stat(page, "suggestions-kept")
