"""Blind annotation against crafted requests: nothing an annotator is answered depends on the
gold label or on other annotators' labels.

One article, annotator A's own data held fixed; the rest of the world changes (another
annotator labels, an editor accepts that label, corrects the gold label, accepts A's label).
After each change A sends the same requests, crafted ones included (a stale version, a
`gold_version` field as the old form had), and every answer must be byte for byte what it was
in the untouched world (the CSRF token aside).
"""

import re
from types import SimpleNamespace

import pytest
from django.urls import reverse

from claims import services
from claims.models import Annotation, GoldLabel
from tests.conftest import make_user
from tests.factories_workspace import (
    annotatable,
    assign,
    claim_label,
    label_post,
    make_annotators,
    make_article,
    no_claim_label,
    save,
)

HX = {"HX-Request": "true"}
CSRF = re.compile(r'(csrfmiddlewaretoken" value=|"X-CSRFToken": )"[^"]*"')


def normalized(response) -> tuple:
    body = CSRF.sub(r'\1"…"', response.content.decode())
    return response.status_code, response.get("Location"), body


@pytest.fixture
def world(db):
    """A and B annotate a three-sentence article; A has labelled the first sentence."""
    article = make_article(3, title="Blind article")
    a, b = make_annotators("blind-a", "blind-b")
    editor = make_user("blind-ed", "editor")
    assign(article, a, b)
    first, second = annotatable(article)[:2]
    save(first, a, claim_label(note="A's own"))
    return SimpleNamespace(article=article, a=a, b=b, editor=editor, first=first, second=second)


def probe(client, article, first, second) -> dict:
    """A's requests, none of which changes A's data when it is done."""
    annotate = reverse("claims:annotate", args=[article.pk])
    edit = reverse("claims:sentence_edit", args=[article.pk, first.pk])
    save_first = reverse("claims:sentence_save", args=[article.pk, first.pk])
    save_second = reverse("claims:sentence_save", args=[article.pk, second.pk])
    undo = reverse("claims:undo", args=[article.pk])
    same = label_post(first, version=1, note="A's own")
    answers = {
        "queue": client.get(reverse("claims:home")),
        "page": client.get(annotate),
        "page first": client.get(f"{annotate}?s={first.pk}"),
        "page second": client.get(f"{annotate}?s={second.pk}"),
        "editor first": client.get(edit, headers=HX),
        "editor second": client.get(
            reverse("claims:sentence_edit", args=[article.pk, second.pk]), headers=HX
        ),
        "stale version": client.post(save_first, label_post(first, version=0), headers=HX),
        "stale version, plain": client.post(save_first, label_post(first, version=7)),
        "double submit": client.post(save_first, same, headers=HX),
    }
    for crafted in ("0", "1", "2", "99", "-1", "x"):
        answers[f"gold_version={crafted}"] = client.post(
            save_first, {**same, "gold_version": crafted}, headers=HX
        )
        answers[f"gold_version={crafted}, stale"] = client.post(
            save_first, {**label_post(first, version=0), "gold_version": crafted}, headers=HX
        )
    # A change of A's own and its undo: A's data is as before afterwards.
    answers["save second"] = client.post(save_second, label_post(second, note="new"), headers=HX)
    answers["undo"] = client.post(undo, {"s": second.pk}, headers=HX)
    answers["after"] = client.get(f"{annotate}?s={second.pk}")
    return {name: normalized(response) for name, response in answers.items()}


def test_answers_do_not_depend_on_others_labels_or_the_gold_label(client, world):
    article, a, b, editor, first, second = (
        world.article,
        world.a,
        world.b,
        world.editor,
        world.first,
        world.second,
    )
    client.force_login(a)
    untouched = probe(client, article, first, second)
    statuses = {name: answer[0] for name, answer in untouched.items()}
    assert statuses["stale version"] == statuses["gold_version=99, stale"] == 409
    assert statuses["double submit"] == statuses["gold_version=99"] == 200
    assert (statuses["save second"], statuses["undo"]) == (200, 200)
    mine = Annotation.objects.get(annotator=a)

    def others_label():
        save(first, b, no_claim_label(note="B's secret"))
        save(second, b, no_claim_label(note="B's secret"))

    def editor_accepts_others():
        for sentence in (first, second):
            services.gold_label_accept(
                annotation=Annotation.objects.get(sentence=sentence, annotator=b),
                editor=editor,
                expected_version=0,
            )

    def editor_corrects():
        for sentence in (first, second):
            gold = GoldLabel.objects.get(sentence=sentence)
            services.gold_label_set(
                sentence=sentence,
                editor=editor,
                label=claim_label(status_code="false"),
                expected_version=gold.version,
            )

    def editor_accepts_mine():
        services.gold_label_accept(
            annotation=mine,
            editor=editor,
            expected_version=GoldLabel.objects.get(sentence=first).version,
        )

    for change in (others_label, editor_accepts_others, editor_corrects, editor_accepts_mine):
        change()
        client.force_login(a)
        answers = probe(client, article, first, second)
        for name, answer in answers.items():
            assert answer == untouched[name], f"{change.__name__}: {name!r} differs"
        assert not any("secret" in body for _, _, body in answers.values())


def test_a_crafted_gold_version_is_ignored_and_reveals_nothing(client, world):
    """The old form's hidden field, sent by hand after an editor decided: the label is saved
    as any other (A's own version check only), the answer names no gold label."""
    article, a, b, editor, second = world.article, world.a, world.b, world.editor, world.second
    save(second, b, claim_label(status_code="false"))
    services.gold_label_set(
        sentence=second, editor=editor, label=claim_label(status_code="false"), expected_version=0
    )
    client.force_login(a)

    response = client.post(
        reverse("claims:sentence_save", args=[article.pk, second.pk]),
        {**label_post(second), "gold_version": "0"},
        headers=HX,
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "gold" not in html.lower() and "adjudicated" not in html
    assert Annotation.objects.get(annotator=a, sentence=second).version == 1


def test_the_annotate_page_carries_no_gold_version(client, world):
    client.force_login(world.a)

    html = client.get(reverse("claims:annotate", args=[world.article.pk])).content.decode()

    assert "gold_version" not in html
