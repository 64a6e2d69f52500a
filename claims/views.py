"""Pages: my queue, the annotate workspace, the article list and reader, assignment."""

import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from claims import selectors, services
from claims.forms import AssignForm, LabelForm, SourceProposalForm, claim_initial, is_id
from claims.models import Article
from claims.roles import ANNOTATOR, EDITOR, has_role, role_names, role_required

PAGE_SIZE = 50
TEMPLATE = "claims/annotate.html"


@require_GET
@login_required
def home(request):
    if ANNOTATOR in role_names(request.user):
        queue = selectors.annotator_queue(user=request.user)
        return render(request, "claims/queue.html", {"queue": queue})
    search = request.GET.get("q", "").strip()
    page = Paginator(selectors.article_list(search=search), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    template = "claims/home.html#article-list" if request.htmx else "claims/home.html"
    return render(request, template, {"page": page, "search": search})


@require_GET
@login_required
def article_detail(request, article_id: int):
    article = get_object_or_404(Article, pk=article_id)
    if not has_role(request.user, EDITOR, "researcher"):
        selectors.assignment_for(user=request.user, article_id=article_id)
    paragraphs = selectors.article_paragraphs(article=article)
    context = {"article": article, "paragraphs": paragraphs}
    return render(request, "claims/article_detail.html", context)


# --- the annotate workspace ----------------------------------------------------------------


@require_GET
@login_required
def annotate(request, article_id: int):
    article = selectors.assignment_for(user=request.user, article_id=article_id).article
    sentences = selectors.workspace_sentences(user=request.user, article=article)
    current = _pick_current(sentences, request.GET.get("s"))
    context = _editor_context(request, article, current, sentences=sentences)
    return render(request, TEMPLATE, context)


@require_GET
@login_required
def sentence_edit(request, article_id: int, sentence_id: int):
    article = selectors.assignment_for(user=request.user, article_id=article_id).article
    if not request.htmx:
        return redirect(f"{reverse('claims:annotate', args=[article.pk])}?s={sentence_id}")
    sentence = selectors.sentence_for_edit(
        user=request.user, article=article, sentence_id=sentence_id
    )
    return render(request, f"{TEMPLATE}#editor", _editor_context(request, article, sentence))


@require_POST
@login_required
def sentence_save(request, article_id: int, sentence_id: int):
    sentence = selectors.assigned_sentence(
        user=request.user, article_id=article_id, sentence_id=sentence_id
    )
    article = sentence.article
    form = _label_form(request, article, sentence, data=request.POST)
    if not form.is_valid():
        return _invalid(request, article, sentence, form)
    try:
        sentence.mine = services.annotation_save(
            sentence=sentence,
            annotator=request.user,
            label=form.label(),
            expected_version=form.cleaned_data["version"],
        )
    except services.AnnotationConflict as conflict:
        return _conflict(request, article, sentence, conflict)
    except ValidationError as error:
        form.add_error(None, error)
        return _invalid(request, article, sentence, form)
    # The row shows the claims as saved, read from the form (sources and statuses included).
    sentence.mine.claim_list = form.unsaved_claims()
    following = selectors.next_for_edit(user=request.user, article=article, after=sentence)
    if not request.htmx:
        return redirect(_annotate_url(article, (following or sentence).pk))
    return _after_change(request, article, changed=sentence, following=following or sentence)


@require_POST
@login_required
def undo(request, article_id: int):
    article = selectors.assignment_for(user=request.user, article_id=article_id).article
    try:
        event = services.annotation_undo(annotator=request.user, article=article)
        notice = None if event else "Nothing to undo."
    except services.AnnotationConflict:
        event, notice = None, "Your last change was changed since, in another tab; kept as is."
    if event is None:
        if not request.htmx:
            messages.info(request, notice)
            return redirect(_annotate_url(article, request.POST.get("s")))
        sentence = _sentence_or_first(request, article, request.POST.get("s"))
        return _editor_response(request, article, sentence, status=200, notice=notice)
    if not request.htmx:
        messages.success(request, "Undone.")
        return redirect(_annotate_url(article, event.sentence_id))
    sentence = selectors.sentence_for_edit(
        user=request.user, article=article, sentence_id=event.sentence_id
    )
    return _after_change(request, article, changed=sentence, following=sentence)


# --- sources -------------------------------------------------------------------------------


SOURCE_PARAM = re.compile(r"claims-\d{1,2}-source")


@require_GET
@login_required
def source_search(request):
    # The field is the claim's source (claims-N-source); a plain "source" works too.
    query = request.GET.get("source") or next(
        (v for k, v in request.GET.items() if SOURCE_PARAM.fullmatch(k)), ""
    )
    # ?article=<id> from the annotate page: the proposals of the others working on it too.
    article_id = selectors.working_on(user=request.user, article_id=request.GET.get("article"))
    results = selectors.source_search(query=query, user=request.user, article_id=article_id)
    return render(request, f"{TEMPLATE}#source-results", {"source_results": results})


@require_POST
@login_required
def source_propose(request, article_id: int, sentence_id: int):
    article = selectors.assignment_for(user=request.user, article_id=article_id).article
    sentence = selectors.sentence_for_edit(
        user=request.user, article=article, sentence_id=sentence_id
    )
    proposal = SourceProposalForm(request.POST, prefix="propose")
    source = None
    if proposal.is_valid():
        try:
            source = services.source_propose(**proposal.cleaned_data, proposed_by=request.user)
        except ValidationError as error:
            proposal.add_error("name", error.messages)  # a model's error dict would not fit
    if not request.htmx:
        if source is None:
            messages.error(request, " ".join(proposal.errors.get("name", ["Check the proposal."])))
        else:
            messages.success(request, f"Proposed {source.name!r}; you can use it now.")
        return redirect(_annotate_url(article, sentence.pk))
    status = 200 if source else 422
    return _editor_response(
        request, article, sentence, proposal=proposal, proposed=source, status=status
    )


# --- assignment (editors) ------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@login_required
@role_required(EDITOR)
def assign(request):
    articles = selectors.articles_for_assignment()
    annotators = User.objects.filter(groups__name=ANNOTATOR, is_active=True).order_by("username")
    # ?job=<id>: the articles an import job created or updated, ticked.
    initial = {
        "articles": selectors.job_article_ids(user=request.user, job_id=request.GET.get("job"))
    }
    form = AssignForm(
        request.POST or None, articles=articles, annotators=annotators, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        try:
            created = services.assignments_create(**form.cleaned_data, assigned_by=request.user)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"Created {len(created)} assignment(s).")
            return redirect("claims:assign")
    return render(request, "claims/assign.html", {"form": form})


# --- helpers -------------------------------------------------------------------------------


def _annotate_url(article: Article, sentence_id) -> str:
    url = reverse("claims:annotate", args=[article.pk])
    return f"{url}?s={sentence_id}" if sentence_id else url


def _sentence_or_first(request, article, sentence_id):
    if sentence_id and is_id(sentence_id):
        return selectors.sentence_for_edit(
            user=request.user, article=article, sentence_id=int(sentence_id)
        )
    sentences = selectors.workspace_sentences(user=request.user, article=article)
    return selectors.next_sentence(sentences=sentences, after=None)


def _pick_current(sentences, wanted):
    by_id = {str(s.pk): s for s in sentences if s.is_annotatable}
    if wanted:
        if wanted not in by_id:
            raise Http404("No such sentence in this article.")
        return by_id[wanted]
    sent_back = next((s for s in sentences if getattr(s, "send_back", None)), None)
    return sent_back or selectors.next_sentence(sentences=sentences, after=None)


def _editor_context(request, article, sentence, *, sentences=None, form=None, **extra):
    if sentence is not None:
        selectors.with_suggestion(sentence, user=request.user)
    if form is None and sentence is not None:
        form = _label_form(request, article, sentence)
    return {
        "article": article,
        "sentences": sentences,
        "current": sentence,
        "form": form,
        "statuses": _statuses(request),
        "progress": (
            selectors.progress_of(sentences)
            if sentences is not None
            else selectors.progress(user=request.user, article=article)
        ),
        "proposal": extra.pop("proposal", None) or SourceProposalForm(prefix="propose"),
        **extra,
    }


def _label_form(request, article, sentence, *, data=None) -> LabelForm:
    """The label form of a sentence: posted, or filled from the user's label or the suggestion."""
    initial, claims = (None, None) if data is not None else _label_initial(sentence)
    return LabelForm(
        data,
        initial=initial,
        claims_initial=claims,
        user=request.user,
        statuses=_statuses(request),
        body=article.body,
        sentence=(sentence.start, sentence.end),
        article_id=article.pk,
    )


def _statuses(request):
    """The active statuses, read once per request (the form and the page share them)."""
    if not hasattr(request, "claims_statuses"):
        request.claims_statuses = selectors.statuses()
    return request.claims_statuses


def _invalid(request, article, sentence, form):
    selectors.with_my_label(sentence, user=request.user)
    return _editor_response(request, article, sentence, form=form, status=422)


def _conflict(request, article, sentence, conflict):
    """409: the annotator's own label changed elsewhere (another tab, an undo); the answer
    shows that label, never the gold label nor another annotator's (blind annotation)."""
    selectors.with_my_label(sentence, user=request.user)  # the label that won
    return _editor_response(request, article, sentence, conflict=True, status=409)


def _label_initial(sentence) -> tuple[dict, list[dict]]:
    """The form's initial values and its claims'. Only the annotator's own label and the
    suggestion: nothing in the form depends on the gold label or on other annotators' labels
    (blind annotation)."""
    mine = sentence.mine
    if mine is None:  # start from the suggestion: one claim, the whole sentence
        initial = {"is_claim": "yes" if sentence.suggested_is_claim else None, "version": 0}
        return initial, [_suggested_claim(sentence)]
    initial = {
        "is_claim": "yes" if mine.is_claim else "no",
        "note": mine.note,
        "evidence_url": mine.evidence_url,
        "version": mine.version,
    }
    claims = [claim_initial(claim) for claim in selectors.claims_of(mine)]
    # "not a claim": the suggested claim stands ready, should the annotator change their mind
    return initial, claims or [_suggested_claim(sentence)]


def _suggested_claim(sentence) -> dict:
    """The suggestion as a claim: its spans (the suggested content, else the whole sentence;
    cue; source mention), its source, or the suggested new source once the annotator can use
    it (they proposed it: see selectors.with_suggestion)."""
    source = sentence.suggested_source or getattr(sentence, "suggested_new_source", None)
    return {
        **sentence.suggested_claim_spans(),
        "source": source.name if source else "",
        "attribution_type": sentence.suggested_attribution,
        "status": sentence.suggested_status.code if sentence.suggested_status else None,
    }


def _editor_response(request, article, sentence, *, status: int, form=None, **extra):
    """The editor for `sentence`: a partial for htmx, else the whole page."""
    if not request.htmx:
        sentences = selectors.workspace_sentences(user=request.user, article=article)
        context = _editor_context(
            request, article, sentence, sentences=sentences, form=form, **extra
        )
        return render(request, TEMPLATE, context, status=status)
    context = _editor_context(request, article, sentence, form=form, **extra)
    return render(request, f"{TEMPLATE}#editor", context, status=status)


def _after_change(request, article, *, changed, following):
    """htmx: the editor moves on (or stays, after the last sentence); the changed row and the
    progress bar update out of band."""
    selectors.attach_segments([changed])
    context = _editor_context(request, article, following)
    return render(request, "claims/saved.html", {**context, "changed": changed})
