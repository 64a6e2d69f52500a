"""A user's jobs: the list, one job's progress and outcome (polled by htmx), its download."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from claims import jobs, selectors
from claims.models import Job
from claims.roles import EDITOR, role_required


@require_GET
@login_required
def job_list(request):
    return render(request, "claims/jobs.html", {"jobs": selectors.jobs_for(request.user)[:100]})


@require_GET
@login_required
def job_detail(request, job_id):
    job = get_object_or_404(selectors.jobs_for(request.user), pk=job_id)
    template = "claims/job.html#job-status" if request.htmx else "claims/job.html"
    return render(request, template, {"job": job, "stale": selectors.job_is_stale(job)})


@require_POST
@login_required
def job_retry(request, job_id):
    job = get_object_or_404(selectors.jobs_for(request.user), pk=job_id)
    if not selectors.job_kind_allowed(request.user, job.kind):
        raise PermissionDenied
    if job.state == job.State.FAILED or selectors.job_is_stale(job):
        jobs.job_requeue(job)
    return redirect("claims:job_detail", job_id=job.pk)


@require_POST
@login_required
@role_required(EDITOR)
def suggestions_refresh_start(request):
    """After the taxonomy changed: every article's suggestions, recomputed in the background."""
    job = jobs.start(kind=Job.Kind.REFRESH_SUGGESTIONS, user=request.user)
    return redirect("claims:job_detail", job_id=job.pk)


@require_GET
@login_required
def job_download(request, job_id):
    job = get_object_or_404(selectors.jobs_for(request.user), pk=job_id, state="succeeded")
    if not selectors.job_kind_allowed(request.user, job.kind):
        raise PermissionDenied
    if not job.file:
        return _gone("This job has no file, or its file was removed when it expired.")
    if job.expires_at and job.expires_at < timezone.now():
        return _gone("This download has expired. Start the export again.")
    try:
        file = job.file.open("rb")
    except FileNotFoundError:  # removed by hand, or storage not shared with this machine
        return _gone("This job's file is missing. Start the export again.")
    return FileResponse(file, as_attachment=True, filename=job.file_name)


def _gone(message: str) -> HttpResponse:
    return HttpResponse(message, status=410, content_type="text/plain; charset=utf-8")
