"""The researchers' export page: filters, a live row count, streamed downloads, and export
jobs for selections too large to stream at once."""

from django.conf import settings
from django.contrib.auth.decorators import login_required, permission_required
from django.http import (
    FileResponse,
    HttpResponse,
    HttpResponseBadRequest,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from claims import dataset, selectors
from claims.forms import ExportForm
from claims.jobs import exports

EXPORT_PERMISSION = "claims.export_dataset"


@require_GET
@login_required
@permission_required(EXPORT_PERMISSION, raise_exception=True)
def export_page(request):
    form = ExportForm(request.GET or None)
    if form.unknown():
        return _unknown(form)
    valid = not form.is_bound or form.is_valid()
    filters = form.filters() if form.is_bound and valid else selectors.ExportFilters()
    # The bare page counts later, in its own htmx request: the filters show at once.
    count_later = valid and not form.is_bound and not request.htmx
    count = selectors.export_count(filters=filters) if valid and not count_later else None
    template = "claims/export.html#row-count" if request.htmx else "claims/export.html"
    context = {"form": form, "count": count, "count_later": count_later, **_modes(count)}
    return render(request, template, context, status=200 if valid else 422)


@require_GET
@login_required
@permission_required(EXPORT_PERMISSION, raise_exception=True)
def export_download(request):
    form = ExportForm(request.GET)
    if form.unknown():
        return _unknown(form)
    if not form.is_valid():
        return render(request, "claims/export.html", {"form": form, "count": None}, status=422)
    try:
        dataset.pseudonym_key()
    except dataset.PseudonymKeyMissing as error:
        return HttpResponse(str(error), status=503, content_type="text/plain; charset=utf-8")
    filters, fmt = form.filters(), form.cleaned_data.get("format") or "csv"
    name = dataset.filename(filters, fmt)
    if fmt == "zip":
        return FileResponse(dataset.bundle_file(filters), as_attachment=True, filename=name)
    chunks = (
        dataset.claim_review_chunks(filters)
        if fmt == "claimreview"
        else dataset.data_chunks(filters, fmt)
    )
    response = StreamingHttpResponse(
        (chunk.encode("utf-8") for chunk in chunks), content_type=dataset.CONTENT_TYPES[fmt]
    )
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@require_POST
@login_required
@permission_required(EXPORT_PERMISSION, raise_exception=True)
def export_job_start(request):
    """The page's download buttons for a large selection: the filters arrive as the form's
    fields, the format in the query string (the button carries the CSRF token)."""
    data = request.POST.copy()
    data.pop("csrfmiddlewaretoken", None)
    data.setlist("format", request.GET.getlist("format") or data.getlist("format"))
    form = ExportForm(data)
    if form.unknown():
        return _unknown(form)
    if not form.is_valid():
        return render(request, "claims/export.html", {"form": form, "count": None}, status=422)
    job = exports.export_start(user=request.user, query=exports.query_of(data))
    return redirect("claims:job_detail", job_id=job.pk)


def _modes(count: int | None) -> dict:
    """Which downloads run as jobs for this many rows (None: not counted yet). Past
    CLAIMDESK_EXPORT_JOB_ROWS a download streams too long for a browser tab (all formats);
    the ZIP bundle is built before its first byte, and its card's agreement figures read every
    annotation whatever the filters, so by default (0) it is always a job (docs/export.md)."""
    rows, zip_rows = settings.CLAIMDESK_EXPORT_JOB_ROWS, settings.CLAIMDESK_EXPORT_JOB_ROWS_ZIP
    return {
        "background": count is not None and count > rows,
        "zip_background": zip_rows == 0 or (count is not None and count > zip_rows),
        "export_file_hours": settings.CLAIMDESK_EXPORT_FILE_HOURS,
    }


def _unknown(form):
    return HttpResponseBadRequest(
        f"Unknown export parameter(s): {', '.join(form.unknown())}. "
        f"Allowed: {', '.join(form.fields)}.",
        content_type="text/plain; charset=utf-8",
    )
