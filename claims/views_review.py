"""Editors' pages: the review queue, adjudication of one sentence, the quality dashboard."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from claims import quality, selectors, services
from claims.forms import GoldForm, ReviewFilterForm, SendBackForm, claim_initial
from claims.models import Annotation, Article, ReviewItem, Source, VerificationStatus
from claims.roles import EDITOR, role_required

TEMPLATE = "claims/review.html"


@require_GET
@login_required
@role_required(EDITOR)
def review_queue(request):
    filter_form = ReviewFilterForm(request.GET)
    filters = filter_form.filters()
    after = filter_form.cleaned_data.get("after", "") if filter_form.is_valid() else ""
    items, next_cursor = selectors.review_queue(filters=filters, after=after)
    counts = selectors.review_state_counts(filters=filters)
    context = {
        "items": items,
        "next_cursor": next_cursor,
        "after": after,
        "filters": filters,
        "base_query": filter_form.query(after=""),
        "tabs": [(v, label, counts[v]) for v, label in filter_form.fields["state"].choices],
        "choices": _filter_choices(),
    }
    template = f"{TEMPLATE}#review-list" if request.htmx else TEMPLATE
    return render(request, template, context)


@require_GET
@login_required
@role_required(EDITOR)
def review_detail(request, sentence_id: int):
    sentence = selectors.review_detail(sentence_id=sentence_id)
    return render(request, "claims/adjudicate.html", _detail_context(request, sentence))


@require_POST
@login_required
@role_required(EDITOR)
def review_accept(request, sentence_id: int):
    sentence = selectors.review_detail(sentence_id=sentence_id)
    annotation = get_object_or_404(
        Annotation, pk=_int(request.POST.get("annotation")), sentence=sentence
    )
    try:
        services.gold_label_accept(
            annotation=annotation,
            editor=request.user,
            expected_version=_int(request.POST.get("version")),
            comment=request.POST.get("comment", ""),
            expected_label_version=_optional_int(request.POST.get("label_version")),
        )
    except services.GoldConflict as conflict:
        return _conflict(request, sentence, conflict)
    messages.success(request, f"Accepted {annotation.annotator.username}'s label as gold.")
    return _next(request, sentence)


@require_POST
@login_required
@role_required(EDITOR)
def review_correct(request, sentence_id: int):
    sentence = selectors.review_detail(sentence_id=sentence_id)
    form = _gold_form(request, sentence, data=request.POST)
    if not form.is_valid():
        return render(
            request,
            "claims/adjudicate.html",
            _detail_context(request, sentence, form=form),
            status=422,
        )
    try:
        services.gold_label_set(
            sentence=sentence,
            editor=request.user,
            label=form.label(),
            expected_version=form.cleaned_data["version"],
            comment=form.cleaned_data["comment"],
        )
    except services.GoldConflict as conflict:
        return _conflict(request, sentence, conflict)
    except ValidationError as error:
        form.add_error(None, error)
        return render(
            request,
            "claims/adjudicate.html",
            _detail_context(request, sentence, form=form),
            status=422,
        )
    messages.success(request, "Saved the corrected gold label.")
    return _next(request, sentence)


@require_POST
@login_required
@role_required(EDITOR)
def review_send_back(request, sentence_id: int):
    sentence = selectors.review_detail(sentence_id=sentence_id)
    form = SendBackForm(request.POST)
    if form.is_valid():
        try:
            services.sentence_send_back(
                sentence=sentence, editor=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            form.add_error("comment", error)
    if form.errors:
        context = _detail_context(request, sentence, send_back_form=form)
        return render(request, "claims/adjudicate.html", context, status=422)
    messages.success(request, "Sent back to the annotators with your comment.")
    return _next(request, sentence)


@require_http_methods(["GET", "POST"])
@login_required
@role_required(EDITOR)
def review_bulk_accept(request):
    filter_form = ReviewFilterForm(request.GET)
    filters = filter_form.filters()
    items = selectors.unanimous_open_items(filters=filters)
    if request.method == "POST":
        count = services.gold_labels_bulk_accept(items=items, editor=request.user)
        messages.success(request, f"Accepted {count} unanimous sentence(s) as gold.")
        return redirect(f"{reverse('claims:review_queue')}?{filter_form.query(after='')}")
    context = {"count": items.count(), "base_query": filter_form.query(after="")}
    return render(request, "claims/bulk_accept.html", context)


@require_GET
@login_required
@role_required(EDITOR)
def quality_dashboard(request):
    return render(request, "claims/quality.html", {"report": quality.report()})


# --- helpers -------------------------------------------------------------------------------


def _optional_int(value) -> int | None:
    """A version the form may leave out (older pages): None, else as `_int` reads it."""
    return None if value is None else _int(value)


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1  # never a version: reported as a conflict, never saved


def _detail_context(request, sentence, *, form=None, send_back_form=None, conflict=None):
    gold = getattr(sentence, "gold", None)
    filter_form = ReviewFilterForm(request.GET)
    return {
        "sentence": sentence,
        "gold": gold,
        "form": form or _gold_form(request, sentence),
        "send_back_form": send_back_form or SendBackForm(),
        "statuses": selectors.statuses(),
        "sources": Source.objects.filter(merged_into=None, status=Source.Status.ACTIVE).only(
            "name"
        ),
        "history": selectors.sentence_history(sentence=sentence),
        "conflict": conflict,
        "filter_query": filter_form.query(after=""),
        "next_id": selectors.review_neighbour(sentence=sentence, filters=filter_form.filters()),
    }


def _gold_form(request, sentence, *, data=None) -> GoldForm:
    """The correction form: posted, or filled from the gold label, else the first label."""
    initial = claims = None
    if data is None:
        gold = getattr(sentence, "gold", None)
        start = gold or (sentence.labels[0] if sentence.labels else None)
        initial = {"version": gold.version if gold else 0, "comment": gold.comment if gold else ""}
        if start is not None:
            initial["is_claim"] = "yes" if start.is_claim else "no"
            claims = [claim_initial(claim) for claim in start.claim_list]
    return GoldForm(
        data,
        initial=initial,
        claims_initial=claims,
        user=request.user,
        statuses=selectors.statuses(),
        body=sentence.article.body,
        sentence=(sentence.start, sentence.end),
    )


def _conflict(request, sentence, conflict):
    sentence = selectors.review_detail(sentence_id=sentence.pk)  # show the winner's decision
    context = _detail_context(request, sentence, conflict=conflict)
    return render(request, "claims/adjudicate.html", context, status=409)


def _next(request, sentence):
    filter_form = ReviewFilterForm(request.GET)
    next_id = selectors.review_neighbour(sentence=sentence, filters=filter_form.filters())
    query = filter_form.query(after="")
    if next_id:
        return redirect(f"{reverse('claims:review_detail', args=[next_id])}?{query}")
    return redirect(f"{reverse('claims:review_queue')}?{query}")


def _filter_choices() -> dict:
    return {
        "articles": Article.objects.filter(pk__in=ReviewItem.objects.values("article_id")).only(
            "id", "title"
        ),
        "outlets": Article.objects.exclude(outlet="")
        .order_by("outlet")
        .values_list("outlet", flat=True)
        .distinct(),
        "sources": Source.objects.filter(merged_into=None).only("id", "name"),
        "statuses": VerificationStatus.objects.all(),
        "annotators": selectors.annotators(),
    }
