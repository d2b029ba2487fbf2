"""When a job goes out: its slot (move it, deliver now) and the calendar of what is scheduled."""
from __future__ import annotations

import datetime as dt

from django.http import JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from jobs import services
from jobs.models import Job
from previews import access, selectors
from previews.access import staff_required
from previews.views.common import REFUSED, json_body, refusal


@staff_required(api=True, perms=access.REVIEW)
@require_POST
def job_delivery(request, job_id):
    """{"publish_at": ISO time with its offset} moves the slot L7 delivers at; {"now": true} delivers now."""
    job = get_object_or_404(Job, pk=job_id)
    try:
        body = json_body(request)
        if body.get("now") is True:
            job = services.delivery_start(job_id=job.pk, user=request.user)
        else:
            job = services.delivery_reschedule(job_id=job.pk, publish_at=_aware_time(body.get("publish_at")),
                                               user=request.user)
    except REFUSED as exc:
        return refusal(exc, job_id)
    return JsonResponse({"status": job.status, "publish_at": job.publish_at.isoformat() if job.publish_at else None})


def _aware_time(value) -> dt.datetime:
    if not isinstance(value, str) or not value.strip():
        raise services.InvalidInput({"publish_at": ["give the time as ISO 8601 with its offset, like "
                                                    "2026-11-22T18:00:00+00:00"]})
    try:
        moment = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise services.InvalidInput({"publish_at": [f"{value[:40]!r} is not a time like 2026-11-22T18:00:00+00:00"]}) \
            from None
    if timezone.is_naive(moment):
        raise services.InvalidInput({"publish_at": ["give the time with its offset (+00:00 or Z)"]})
    return moment


@staff_required(perms=access.VIEW_JOBS)
@require_GET
def calendar(request):
    """What is scheduled: jobs with a slot in the next 14 days (or waiting past theirs), by day."""
    days = {}
    for job in selectors.scheduled_jobs(days=14):
        days.setdefault(timezone.localtime(job.publish_at).date(), []).append(job)
    return render(request, "previews/calendar.html", {"days": sorted(days.items())})
