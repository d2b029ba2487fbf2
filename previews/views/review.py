"""The review page and what a reviewer does on it: the plan and its frames, drafts, rollback, suggestions, pictures,
and the decisions (approve, skip review, reject, retry, re-run)."""
from __future__ import annotations

from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from jobs import services
from jobs.models import Job
from jobs.selectors import latest_plan_version
from pipeline.contracts import PresetConfig, RenderPlan
from pipeline.errors import PipelineError, StoreError
from previews import access, selectors
from previews.access import staff_required
from previews.forms import RejectForm
from previews.views.accounts import fetching_problem
from previews.views.common import REFUSED, json_body, refusal


@staff_required(perms=access.VIEW_JOBS)
@ensure_csrf_cookie
@require_GET
def job_detail(request, job_id):
    job = get_object_or_404(Job.objects.select_related("preset", "created_by"), pk=job_id)
    version = latest_plan_version(job)
    from jobs.metrics import render_estimate

    siblings = list(Job.objects.filter(variant_group=job.variant_group).order_by("created_at")) \
        if job.variant_group else []
    return render(request, "previews/job.html", {
        "siblings": siblings,
        "job": job, "layers": selectors.layer_rows(job), "versions": selectors.version_rows(job),
        "drafts": selectors.draft_rows(job), "viewers": selectors.watched_jobs([job]).get(str(job.pk), []),
        "render_estimate": render_estimate(job.preset_id, version.plan.get("duration") if version else None),
        "render_summary": selectors.render_summary(job), "reject_form": RejectForm(),
        "last_seq": job.last_event_seq, "has_plan": version is not None,
        "reviewing": job.status == Job.Status.AWAITING_REVIEW,
        "timed": job.preset.kind == "reel",  # a carousel or a still is reviewed as images, not on a timeline
        "game": selectors.game_notice(job),
        "delivery": job.publish_at is not None and job.status in services.RESCHEDULABLE
                    and PresetConfig.model_validate(job.preset.config).providers.distribution is not None,
        "may_review": access.can(request.user, access.REVIEW),
        "may_skip": access.can(request.user, access.PUBLISH_UNREVIEWED),
        "public_url_problem": fetching_problem(PresetConfig.model_validate(job.preset.config)),
    })


@staff_required(api=True, perms=access.VIEW_JOBS, post_perms=access.REVIEW)
@require_http_methods(["GET", "POST"])
def job_plan(request, job_id):
    """GET: the current plan. POST: adjustments in, the adjusted plan out; nothing is saved."""
    job = get_object_or_404(Job.objects.select_related("preset"), pk=job_id)
    version = latest_plan_version(job)
    if version is None:
        return JsonResponse({"errors": {"plan": ["this job has no plan yet"]}}, status=409)
    if request.method == "GET":
        return JsonResponse(selectors.review_payload(job, version))
    try:
        adjustments = json_body(request).get("adjustments")
        plan = services.plan_preview(job=job, adjustments=adjustments)
    except REFUSED as exc:
        return refusal(exc, job_id)
    # The plan the reviewer is looking at is the one to render ahead (its unchanged scenes are cached).
    services.render_ahead_want(job.pk, adjustments or None)
    return JsonResponse(selectors.plan_payload(job, plan))


@staff_required(api=True, perms=access.REVIEW)
@require_POST
def job_approve(request, job_id):
    job = get_object_or_404(Job, pk=job_id)
    try:
        body = json_body(request)
        snapshots = body.get("snapshots") or {}
        if not isinstance(snapshots, dict) or not all(isinstance(v, str) for v in snapshots.values()):
            raise services.InvalidInput({"snapshots": ["snapshots must map times to image data URLs"]})
        changes = body.get("changes")
        if changes is not None and not isinstance(changes, dict):
            raise services.InvalidInput({"changes": ["the fields you changed, as an object of field name to value"]})
        # The server renders its own draft: a page's copy of the adjustments is not taken as the plan (an old
        # page sending its whole set has it merged field by field, like a save).
        version = services.job_approve(job_id=job.pk, user=request.user, changes=changes,
                                       adjustments=body.get("adjustments"), snapshots=snapshots,
                                       check_odds=not body.get("confirm_odds", False), draft_seen=body.get("draft"),
                                       check_kickoff=not body.get("confirm_kickoff", False))
    except REFUSED as exc:
        return refusal(exc, job_id)
    except PipelineError as exc:
        return JsonResponse({"error": f"could not check the odds: {exc.describe()}"}, status=502)
    return JsonResponse({"approved": version.number, "status": Job.Status.APPROVED})


@staff_required(api=True, perms=access.REVIEW)
@require_POST
def job_draft(request, job_id):
    """{"changes": {field: value or null}, "seen": N}: merged into the shared draft; everyone on the page
    sees it. Answers the new draft, its plan, and whose changes it replaced."""
    job = get_object_or_404(Job, pk=job_id)
    try:
        body = json_body(request)
        draft, plan, overwrote = services.draft_save(job_id=job.pk, user=request.user,
                                                     changes=body.get("changes"), seen=body.get("seen", 0))
    except REFUSED as exc:
        return refusal(exc, job_id)
    job.refresh_from_db()
    return JsonResponse({"draft": selectors.draft_payload(draft), "overwrote": overwrote,
                         **selectors.plan_payload(job, plan)})


@staff_required(api=True, perms=access.REVIEW)
@require_POST
def job_rollback(request, job_id):
    """{"version": N} or {"draft": N}: that one's adjustments become the shared draft again."""
    job = get_object_or_404(Job, pk=job_id)
    try:
        body = json_body(request)
        draft = services.draft_rollback(job_id=job.pk, user=request.user, version=body.get("version"),
                                        draft=body.get("draft"))
    except REFUSED as exc:
        return refusal(exc, job_id)
    return JsonResponse({"draft": selectors.draft_payload(draft)})


@staff_required(api=True, perms=access.REVIEW)
@require_POST
def job_suggestions(request, job_id):
    """{"adjustments": ...}: the suggestions for the plan as the reviewer sees it, each with its one-click fix."""
    from jobs.services.suggestions import review_suggestions_for

    job = get_object_or_404(Job.objects.select_related("preset"), pk=job_id)
    try:
        return JsonResponse(review_suggestions_for(job=job, adjustments=json_body(request).get("adjustments")))
    except REFUSED as exc:
        return refusal(exc, job_id)


@staff_required(api=True, perms=access.REVIEW)
@require_POST
def job_picture(request, job_id):
    """{"scene": id}: another picture for the scene; answers the draft change that uses it."""
    from jobs.services.suggestions import scene_picture_remake

    job = get_object_or_404(Job, pk=job_id)
    try:
        made = scene_picture_remake(job_id=job.pk, scene=json_body(request).get("scene"), user=request.user)
    except REFUSED as exc:
        return refusal(exc, job_id)
    return JsonResponse({**made, "url": selectors.file_url(job, made["file"])})


def _action(request, job_id, action, **kwargs):
    job = get_object_or_404(Job, pk=job_id)
    try:
        action(job_id=job.pk, user=request.user, **kwargs)
    except REFUSED as exc:
        return refusal(exc, job_id)
    job.refresh_from_db()
    return JsonResponse({"status": job.status})


@staff_required(api=True, perms=access.PUBLISH_UNREVIEWED)
@require_POST
def job_skip_preview(request, job_id):
    return _action(request, job_id, services.job_skip_preview)


@staff_required(api=True, perms=access.REVIEW)
@require_POST
def job_reject(request, job_id):
    try:
        reason = json_body(request).get("reason", "")
    except REFUSED as exc:
        return refusal(exc, job_id)
    return _action(request, job_id, services.job_reject, reason=reason if isinstance(reason, str) else "")


@staff_required(api=True, perms=access.RERUN)
@require_POST
def job_retry(request, job_id):
    return _action(request, job_id, services.job_retry)


@staff_required(api=True, perms=access.RERUN)
@require_POST
def job_rerun(request, job_id):
    return _action(request, job_id, services.job_rerun)


@staff_required(api=True, perms=access.VIEW_JOBS)
@require_GET
def job_sprite(request, job_id, key: str):
    """A text layer drawn by L6's compositor, which the review canvas composites (previews/sprites.py). Its name
    is the hash of its pixels' inputs: it never changes, so the browser keeps it."""
    from previews import sprites

    job = get_object_or_404(Job, pk=job_id)
    version = latest_plan_version(job)
    png = sprites.sprite_png(key, RenderPlan.model_validate(version.plan) if version else None)
    if png is None:
        raise Http404("No such sprite: the page draws the text itself.")
    response = HttpResponse(png, content_type="image/png")
    response["Cache-Control"] = "private, max-age=31536000, immutable"
    return response


@staff_required(api=True, perms=access.VIEW_JOBS, post_perms=access.REVIEW)
@require_http_methods(["GET", "POST"])
def job_frames(request, job_id):
    """GET: small frames of the plan as built (the batch grid). POST: adjustments in, frames of the adjusted
    plan out, drawn by the server (the review page's static preview, where the browser cannot draw it)."""
    job = get_object_or_404(Job.objects.select_related("preset"), pk=job_id)
    try:
        if request.method == "POST":
            plan = services.plan_preview(job=job, adjustments=json_body(request).get("adjustments"))
            return JsonResponse({"frames": selectors.frames_of(job, plan, width=selectors.STATIC_FRAME_WIDTH)})
        return JsonResponse({"frames": selectors.plan_frames(job, first_only=request.GET.get("first") == "1")})
    except REFUSED as exc:
        return refusal(exc, job_id)
    except StoreError:
        raise  # 503 in words (previews.middleware): the files are out of reach, the plan is not at fault
    except PipelineError as exc:
        return JsonResponse({"error": exc.describe()}, status=409)
