"""Editors' sources page: the taxonomy with the pending proposals first; approve, edit, merge
(with a preview) and undo a merge."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from claims import selectors, services
from claims.forms import SourceEditForm, SourceMergeForm
from claims.models import Source, SourceMerge
from claims.roles import EDITOR, role_required

PAGE_SIZE = 50
TEMPLATE = "claims/sources.html"
DETAIL = "claims/source.html"


@require_GET
@login_required
@role_required(EDITOR)
def source_list(request):
    query = request.GET.get("q", "").strip()[:200]
    page = Paginator(selectors.taxonomy_sources(query=query), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    template = f"{TEMPLATE}#source-list" if request.htmx else TEMPLATE
    return render(request, template, {"page": page, "query": query})


@require_http_methods(["GET", "POST"])
@login_required
@role_required(EDITOR)
def source_detail(request, source_id: int):
    source = selectors.taxonomy_source(source_id=source_id)
    form = SourceEditForm.for_source(source, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.source_edit(source=source, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error.messages)
        else:
            messages.success(request, f"Saved {form.cleaned_data['name']!r}.")
            return redirect("claims:source_detail", source_id=source.pk)
    status = 422 if form.errors else 200
    return render(request, DETAIL, _detail_context(source, form=form), status=status)


@require_POST
@login_required
@role_required(EDITOR)
def source_approve(request, source_id: int):
    source = get_object_or_404(Source, pk=source_id, merged_into=None)
    if source.status == Source.Status.PENDING:
        services.source_approve(source=source)
        messages.success(request, f"Approved {source.name!r}: every annotator can choose it now.")
    if request.POST.get("next") == "list":  # approved from the list: back to the list
        return redirect("claims:source_list")
    return redirect("claims:source_detail", source_id=source.pk)


@require_http_methods(["GET", "POST"])
@login_required
@role_required(EDITOR)
def source_merge(request, source_id: int):
    source = selectors.taxonomy_source(source_id=source_id)
    data = request.POST if request.method == "POST" else request.GET or None
    form = SourceMergeForm(data, source=source)
    preview = None
    if form.is_valid():
        into = form.cleaned_data["target"]
        try:
            services.source_merge_check(source=source, into=into)
            if request.method == "POST":
                moved = services.source_merge(source=source, into=into, merged_by=request.user)
                messages.success(
                    request,
                    f"Merged {source.name!r} into {into.name!r}: {moved} claim(s) moved.",
                )
                return redirect("claims:source_detail", source_id=into.pk)
            preview = selectors.source_merge_preview(source=source, into=into)
        except ValidationError as error:
            form.add_error(None, error.messages)
    status = 422 if form.errors else 200
    context = {**_detail_context(source), "merge_form": form, "preview": preview}
    return render(request, DETAIL, context, status=status)


@require_POST
@login_required
@role_required(EDITOR)
def source_unmerge(request, source_id: int):
    merge = get_object_or_404(SourceMerge, source_id=source_id, undone_at=None)
    try:
        back = services.source_unmerge(merge=merge, undone_by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("claims:source_detail", source_id=merge.into_id)
    messages.success(request, f"Undid the merge: {merge.source.name!r} is back, {back} claim(s).")
    return redirect("claims:source_detail", source_id=source_id)


def _detail_context(source: Source, *, form: SourceEditForm | None = None) -> dict:
    return {
        "source": source,
        "form": form or SourceEditForm.for_source(source),
        "merge_form": SourceMergeForm(source=source),
        "articles": selectors.source_articles(source=source),
        "merges": selectors.source_merges(source=source),
        "history": selectors.source_history(source=source),
        "kinds": Source.Kind,
    }
