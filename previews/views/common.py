"""What every studio endpoint shares: reading a JSON body within its limit, and the one mapping of a service's refusal
to an HTTP answer."""
from __future__ import annotations

import json

from django.http import JsonResponse

from jobs import services
from jobs.models import Job
from jobs.selectors import job_labels

MAX_BODY = 4 * 1024 * 1024


def json_body(request) -> dict:
    if len(request.body) > MAX_BODY:
        raise services.InvalidInput({"__all__": ["the request is too large"]})
    if not request.body:
        return {}
    try:
        data = json.loads(request.body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise services.InvalidInput({"__all__": ["the request body is not JSON"]}) from None
    if not isinstance(data, dict):
        raise services.InvalidInput({"__all__": ["the request body must be a JSON object"]})
    return data


# What a service refuses, and the one mapping of it to an HTTP answer: the person's input is wrong (400, field
# errors), or the job is not where the action needs it (409: approved meanwhile, the odds or the draft moved).
REFUSED = (services.InvalidInput, services.IllegalTransition, services.NotInReview, services.OddsMoved,
           services.DraftMoved, services.KickedOff)


def refusal(exc: Exception, job_id=None) -> JsonResponse:
    if isinstance(exc, services.InvalidInput):
        # Each field as the job's page labels it ("Pick 1 headline (words)", not "text_edits.prop_1_title"): the
        # page shows these beside the messages (static/previews/api.js describeErrors).
        job = Job.objects.filter(pk=job_id).first() if job_id else None
        labels = job_labels(job) if job else None
        if labels is None:
            return JsonResponse({"errors": exc.errors}, status=400)
        return JsonResponse({"errors": {field: [labels.say(m) for m in messages] for field, messages in
                                        exc.errors.items()},
                             "labels": {field: labels.field(field) for field in exc.errors},
                             "room": exc.room}, status=400)
    if isinstance(exc, services.OddsMoved):
        return JsonResponse({"odds_changed": exc.changes}, status=409)
    if isinstance(exc, services.KickedOff):
        return JsonResponse({"error": str(exc), "kickoff": str(exc)}, status=409)
    if isinstance(exc, services.DraftMoved):
        return JsonResponse({"error": str(exc), "draft_moved": {"number": exc.number, "by": exc.by}}, status=409)
    return JsonResponse({"error": str(exc)}, status=409)
