"""The import page: editors upload files or paste text; a job imports them in the background."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from claims import jobs
from claims.forms import ImportForm
from claims.models import Job
from claims.roles import EDITOR, role_required


@require_http_methods(["GET", "POST"])
@login_required
@role_required(EDITOR)
def import_page(request):
    form = ImportForm(request.POST, request.FILES) if request.method == "POST" else ImportForm()
    if form.is_bound and form.is_valid():
        files = form.job_files()
        job = jobs.start(
            kind=Job.Kind.IMPORT,
            user=request.user,
            params=form.job_params(list(files)),
            files=files,
        )
        return redirect("claims:job_detail", job_id=job.pk)
    return render(
        request, "claims/import.html", {"form": form}, status=422 if form.errors else 200
    )
