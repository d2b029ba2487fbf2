"""The review studio's pages and endpoints. Staff only; every POST carries a CSRF token."""
from __future__ import annotations

import mimetypes

from django.contrib.admin.views.decorators import staff_member_required
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, render

from jobs.models import Job
from previews.media import OutsideJobFolder, resolve_job_file


@staff_member_required
def studio_index(request):
    jobs = Job.objects.select_related("preset").order_by("-created_at")[:100]
    return render(request, "previews/index.html", {"jobs": jobs})


@staff_member_required
def job_file(request, job_id, path: str):
    job = get_object_or_404(Job, pk=job_id)
    try:
        real = resolve_job_file(job.work_dir, path)
    except OutsideJobFolder:
        raise Http404("No such file in this job.") from None
    content_type, _ = mimetypes.guess_type(real.name)
    response = FileResponse(real.open("rb"), content_type=content_type or "application/octet-stream")
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=3600"
    return response
