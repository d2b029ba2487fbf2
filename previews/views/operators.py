"""The desk's operating pages: the metrics dashboard, the batch review grid and its actions, a request's variants side
by side."""
from __future__ import annotations

import dataclasses
import datetime as dt
import uuid

from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET, require_POST

from jobs import services
from jobs.models import Job, JobEvent
from pipeline.errors import PipelineError
from previews import access, selectors
from previews.access import staff_required
from previews.views.common import REFUSED, json_body, refusal


@staff_required(perms=access.VIEW_JOBS)
@require_GET
def metrics_dashboard(request):
    """Preview time, approval rate, renders per approved job and failures over the last 7 and 30 days."""
    from jobs.metrics import preview_by_day, window
    from previews import charts

    panels = []
    daily = sorted(preview_by_day(30).items())
    for days in (7, 30):
        stats = window(days)
        by_day = [(day, value) for day, value in daily if day > timezone.localdate() - dt.timedelta(days=days)]
        panels.append({"days": days, "summary": stats.summary(), "charts": [
            charts.lines({"p50": [(d.strftime("%m-%d"), v[50]) for d, v in by_day],
                          "p95": [(d.strftime("%m-%d"), v[95]) for d, v in by_day]},
                         title=f"Preview time per day, last {days} days", unit=" s",
                         y_label="seconds to review"),
            charts.bars([(k, v) for k, v in sorted(stats.outcomes.items())],
                        title=f"Review outcomes, last {days} days", y_label="jobs"),
            charts.bars([(f"{layer} {kind}", n) for (layer, kind), n in stats.failures.most_common(8)],
                        title=f"Failures by layer and error, last {days} days", y_label="failed runs"),
        ]})
    from jobs.metrics import engagement_by_preset, engagement_by_segment
    from pipeline.labels import segment_label

    segments = [dataclasses.replace(row, name=segment_label(row.name)) for row in engagement_by_segment()]
    return render(request, "previews/metrics.html", {"panels": panels, "presets": engagement_by_preset(),
                                                     "segments": segments})


@staff_required(perms=access.VIEW_JOBS)
@ensure_csrf_cookie
@require_GET
def batch_review(request):
    jobs = list(Job.objects.filter(status=Job.Status.AWAITING_REVIEW, inputs__batch=True)
                .select_related("preset").order_by("created_at"))
    watched = selectors.watched_jobs(jobs)
    for job in jobs:
        job.watchers = watched.get(str(job.pk), [])
    last_event = JobEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    return render(request, "previews/batch.html", {"jobs": jobs, "last_event": last_event,
                                                   "may_skip": access.can(request.user, access.PUBLISH_UNREVIEWED)})


BATCH_ACTIONS = {"approve": services.job_approve, "skip": services.job_skip_preview, "reject": services.job_reject}


@staff_required(api=True, perms=access.BATCH)
@require_POST
def batch_action(request):
    """Approve, skip preview or reject several jobs at once; each one is recorded as its own decision."""
    try:
        body = json_body(request)
    except REFUSED as exc:
        return refusal(exc)
    action, ids = body.get("action"), body.get("jobs")
    if action not in BATCH_ACTIONS:
        return JsonResponse({"errors": {"action": ["choose approve, skip or reject"]}}, status=400)
    if action == "skip" and not access.can(request.user, access.PUBLISH_UNREVIEWED):
        return JsonResponse({"error": "skipping the preview renders a plan nobody looked at: only a desk admin "
                                      "may (ask for permission to publish without review)"}, status=403)
    if not isinstance(ids, list) or not ids or len(ids) > 200 or not all(isinstance(i, str) for i in ids):
        return JsonResponse({"errors": {"jobs": ["send the ids of the jobs, at most 200"]}}, status=400)
    try:
        ids = [str(uuid.UUID(i)) for i in ids]
    except ValueError:
        return JsonResponse({"errors": {"jobs": ["every job id must be a UUID"]}}, status=400)
    results = {}
    for job_id in ids:
        kwargs = {"reason": body.get("reason", "")} if action == "reject" else {}
        if action == "approve":
            kwargs["check_odds"] = kwargs["check_kickoff"] = True
        try:
            BATCH_ACTIONS[action](job_id=job_id, user=request.user, **kwargs)
        except Job.DoesNotExist:
            results[job_id] = {"ok": False, "error": "no such job"}
        except services.OddsMoved as exc:
            results[job_id] = {"ok": False, "error": f"the odds moved ({exc}); open the job to look"}
        except services.KickedOff as exc:
            results[job_id] = {"ok": False, "error": f"{exc} Open the job to confirm."}
        except REFUSED as exc:
            results[job_id] = {"ok": False, "error": str(exc)}
        except PipelineError as exc:
            results[job_id] = {"ok": False, "error": exc.describe()}
        else:
            # Where the job stands now, for the tile to follow it from (the socket tells the rest).
            results[job_id] = {"ok": True, "status": Job.objects.filter(pk=job_id).values_list("status", flat=True)
                               .first()}
    return JsonResponse({"results": results})


@staff_required(perms=access.VIEW_JOBS)
@ensure_csrf_cookie
@require_GET
def variants(request, group):
    """A job's variants side by side; approving one (as built, or after adjusting it on its page) renders it."""
    jobs = list(Job.objects.filter(variant_group=group).select_related("preset").order_by("created_at"))
    if not jobs:
        raise Http404("No such variants.")
    last_event = JobEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    return render(request, "previews/variants.html", {"jobs": jobs, "group": group, "last_event": last_event,
                                                      "may_review": access.can(request.user, access.REVIEW)})
