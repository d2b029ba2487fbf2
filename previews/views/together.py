"""The desk together on one job: comments and their resolution (the live side is jobs/consumers.py)."""
from __future__ import annotations

from django.http import JsonResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_http_methods, require_POST

from jobs import services
from jobs.models import Job
from previews import access, selectors
from previews.access import staff_required
from previews.views.common import REFUSED, json_body, refusal


@staff_required(api=True, perms=access.VIEW_JOBS)
@require_http_methods(["GET", "POST"])
def job_comments(request, job_id):
    """GET: the job's comments. POST {"at_s", "layer", "text"}: pin one to a moment (and a layer)."""
    job = get_object_or_404(Job, pk=job_id)
    if request.method == "GET":
        return JsonResponse({"comments": selectors.comment_rows(job)})
    try:
        body = json_body(request)
        comment = services.comment_add(job_id=job.pk, user=request.user, at_s=body.get("at_s"),
                                       text=body.get("text"), layer_id=body.get("layer") or "")
    except REFUSED as exc:
        return refusal(exc, job_id)
    return JsonResponse({"comment": selectors.comment_payload(comment)}, status=201)


@staff_required(api=True, perms=access.VIEW_JOBS)
@require_POST
def job_comment_resolve(request, job_id, comment_id: int):
    job = get_object_or_404(Job, pk=job_id)
    try:
        comment = services.comment_resolve(job_id=job.pk, comment_id=comment_id, user=request.user)
    except REFUSED as exc:
        return refusal(exc, job_id)
    return JsonResponse({"comment": selectors.comment_payload(comment)})
