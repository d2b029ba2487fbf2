"""The review studio's pages and endpoints. Staff only; every POST carries a CSRF token.

Views are thin: they parse the request, call one service, and answer.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import uuid

from django.contrib import messages
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from jobs import files, services
from jobs.models import Job, JobEvent
from jobs.selectors import job_labels, latest_plan_version
from jobs.services.calendar import is_sample, slate_for
from pipeline.contracts import PresetConfig, RenderPlan
from pipeline.errors import PipelineError, StoreError
from presets.models import Preset
from previews import access, selectors
from previews.access import staff_required
from previews.accounts import fetching_problem
from previews.forms import FindJobsForm, RejectForm, StartJobForm
from previews.media import OutsideJobFolder, clean_job_path, resolve_job_file
from previews.ranges import file_response

logger = logging.getLogger("previews")
MAX_BODY = 4 * 1024 * 1024


def _json_body(request) -> dict:
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


def _refusal(exc: Exception, job_id=None) -> JsonResponse:
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


@staff_required(perms=access.VIEW_JOBS, post_perms=access.START_JOBS)
@ensure_csrf_cookie
@require_http_methods(["GET", "POST"])
def studio_index(request):
    first_preset = Preset.objects.filter(active=True).order_by("name").values_list("slug", flat=True).first()
    form = StartJobForm(request.POST or None, user=request.user,
                        initial={"preset": first_preset, "sport": "nfl", "date": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            job = services.job_create(preset=form.cleaned_data["preset"], inputs=form.job_inputs(),
                                      created_by=request.user, variants=form.cleaned_data["variants"])
        except services.InvalidInput as exc:
            for field, problems in exc.errors.items():
                form.add_error(field if field in form.fields else None, "; ".join(problems))
        else:
            messages.success(request, f"{job.preset.name} started: its page follows the layers as they run.")
            if job.variant_group:
                return redirect("previews:variants", group=job.variant_group)
            return redirect(job.get_absolute_url())
    find = FindJobsForm(request.GET or None)
    jobs = selectors.studio_jobs(**find.filters()) if find.is_bound else selectors.studio_jobs()
    last_event = JobEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    sample = [p.name for p in Preset.objects.filter(active=True).order_by("name")
              if is_sample(PresetConfig.model_validate(p.config).providers.data.name)]
    return render(request, "previews/index.html", {"jobs": jobs, "form": form, "find": find,
                                                   "filtered": find.is_bound and find.active,
                                                   "archivable": services.ARCHIVABLE,
                                                   "may_review": access.can(request.user, access.REVIEW),
                                                   "last_event": last_event,
                                                   "notices": selectors.comment_notices(), "sample": sample},
                  status=400 if request.method == "POST" else 200)


@staff_required(api=True, perms=access.START_JOBS)
@require_GET
def matchups(request):
    """The matchups the preset's data source lists for a sport and date: the start form's picker."""
    preset = Preset.objects.filter(slug=request.GET.get("preset", ""), active=True).first()
    if preset is None:
        return JsonResponse({"errors": {"preset": ["pick an active preset"]}}, status=400)
    try:
        date = dt.date.fromisoformat(request.GET.get("date") or timezone.localdate().isoformat())
    except ValueError:
        return JsonResponse({"errors": {"date": ["not a date like 2026-11-22"]}}, status=400)
    sport = request.GET.get("sport", "nfl")
    try:
        slate = slate_for(preset=preset, sport=sport, date=date)
    except PipelineError as exc:
        return JsonResponse({"errors": {"matchup_id": [exc.describe()]}}, status=502 if exc.retryable else 400)
    return JsonResponse({"matchups": [{"id": m.id, "title": f"{m.away.full_name} @ {m.home.full_name}",
                                       "game_time": m.game_time.isoformat()} for m in slate.matchups],
                         "sample": is_sample(PresetConfig.model_validate(preset.config).providers.data.name)})


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
        adjustments = _json_body(request).get("adjustments")
        plan = services.plan_preview(job=job, adjustments=adjustments)
    except REFUSED as exc:
        return _refusal(exc, job_id)
    # The plan the reviewer is looking at is the one to render ahead (its unchanged scenes are cached).
    services.render_ahead_want(job.pk, adjustments or None)
    return JsonResponse(selectors.plan_payload(job, plan))


@staff_required(api=True, perms=access.REVIEW)
@require_POST
def job_approve(request, job_id):
    job = get_object_or_404(Job, pk=job_id)
    try:
        body = _json_body(request)
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
        return _refusal(exc, job_id)
    except PipelineError as exc:
        return JsonResponse({"error": f"could not check the odds: {exc.describe()}"}, status=502)
    return JsonResponse({"approved": version.number, "status": Job.Status.APPROVED})


# ---------------------------------------------------------------------------------------------- the desk together


@staff_required(api=True, perms=access.REVIEW)
@require_POST
def job_draft(request, job_id):
    """{"changes": {field: value or null}, "seen": N}: merged into the shared draft; everyone on the page
    sees it. Answers the new draft, its plan, and whose changes it replaced."""
    job = get_object_or_404(Job, pk=job_id)
    try:
        body = _json_body(request)
        draft, plan, overwrote = services.draft_save(job_id=job.pk, user=request.user,
                                                     changes=body.get("changes"), seen=body.get("seen", 0))
    except REFUSED as exc:
        return _refusal(exc, job_id)
    job.refresh_from_db()
    return JsonResponse({"draft": selectors.draft_payload(draft), "overwrote": overwrote,
                         **selectors.plan_payload(job, plan)})


@staff_required(api=True, perms=access.REVIEW)
@require_POST
def job_rollback(request, job_id):
    """{"version": N} or {"draft": N}: that one's adjustments become the shared draft again."""
    job = get_object_or_404(Job, pk=job_id)
    try:
        body = _json_body(request)
        draft = services.draft_rollback(job_id=job.pk, user=request.user, version=body.get("version"),
                                        draft=body.get("draft"))
    except REFUSED as exc:
        return _refusal(exc, job_id)
    return JsonResponse({"draft": selectors.draft_payload(draft)})


@staff_required(api=True, perms=access.REVIEW)
@require_POST
def job_suggestions(request, job_id):
    """{"adjustments": ...}: the suggestions for the plan as the reviewer sees it, each with its one-click fix."""
    from jobs.services.suggestions import review_suggestions_for

    job = get_object_or_404(Job.objects.select_related("preset"), pk=job_id)
    try:
        return JsonResponse(review_suggestions_for(job=job, adjustments=_json_body(request).get("adjustments")))
    except REFUSED as exc:
        return _refusal(exc, job_id)


@staff_required(api=True, perms=access.REVIEW)
@require_POST
def job_picture(request, job_id):
    """{"scene": id}: another picture for the scene; answers the draft change that uses it."""
    from jobs.services.suggestions import scene_picture_remake

    job = get_object_or_404(Job, pk=job_id)
    try:
        made = scene_picture_remake(job_id=job.pk, scene=_json_body(request).get("scene"), user=request.user)
    except REFUSED as exc:
        return _refusal(exc, job_id)
    return JsonResponse({**made, "url": selectors.file_url(job, made["file"])})


@staff_required(api=True, perms=access.VIEW_JOBS)
@require_http_methods(["GET", "POST"])
def job_comments(request, job_id):
    """GET: the job's comments. POST {"at_s", "layer", "text"}: pin one to a moment (and a layer)."""
    job = get_object_or_404(Job, pk=job_id)
    if request.method == "GET":
        return JsonResponse({"comments": selectors.comment_rows(job)})
    try:
        body = _json_body(request)
        comment = services.comment_add(job_id=job.pk, user=request.user, at_s=body.get("at_s"),
                                       text=body.get("text"), layer_id=body.get("layer") or "")
    except REFUSED as exc:
        return _refusal(exc, job_id)
    return JsonResponse({"comment": selectors.comment_payload(comment)}, status=201)


@staff_required(api=True, perms=access.VIEW_JOBS)
@require_POST
def job_comment_resolve(request, job_id, comment_id: int):
    job = get_object_or_404(Job, pk=job_id)
    try:
        comment = services.comment_resolve(job_id=job.pk, comment_id=comment_id, user=request.user)
    except REFUSED as exc:
        return _refusal(exc, job_id)
    return JsonResponse({"comment": selectors.comment_payload(comment)})


def _action(request, job_id, action, **kwargs):
    job = get_object_or_404(Job, pk=job_id)
    try:
        action(job_id=job.pk, user=request.user, **kwargs)
    except REFUSED as exc:
        return _refusal(exc, job_id)
    job.refresh_from_db()
    return JsonResponse({"status": job.status})


@staff_required(perms=access.REVIEW)
@require_POST
def job_archive(request, job_id):
    """The studio list's Archive (and Restore) button: a plain form, so it works without the page's script."""
    job = get_object_or_404(Job, pk=job_id)
    archived = request.POST.get("archived", "1") != "0"
    try:
        services.job_archive(job_id=job.pk, user=request.user, archived=archived)
    except services.InvalidInput as exc:
        messages.error(request, "; ".join(m for problems in exc.errors.values() for m in problems))
    else:
        title = job.title or job.preset.name
        messages.success(request, f"{title} archived." if archived else f"{title} is back in the list.")
    back = request.POST.get("next", "")
    safe = back.startswith("/studio/") and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()})
    return redirect(back if safe else "previews:index")


@staff_required(api=True, perms=access.PUBLISH_UNREVIEWED)
@require_POST
def job_skip_preview(request, job_id):
    return _action(request, job_id, services.job_skip_preview)


@staff_required(api=True, perms=access.REVIEW)
@require_POST
def job_reject(request, job_id):
    try:
        reason = _json_body(request).get("reason", "")
    except REFUSED as exc:
        return _refusal(exc, job_id)
    return _action(request, job_id, services.job_reject, reason=reason if isinstance(reason, str) else "")


@staff_required(api=True, perms=access.RERUN)
@require_POST
def job_retry(request, job_id):
    return _action(request, job_id, services.job_retry)


@staff_required(api=True, perms=access.RERUN)
@require_POST
def job_rerun(request, job_id):
    return _action(request, job_id, services.job_rerun)


@staff_required(api=True, perms=access.REVIEW)
@require_POST
def job_delivery(request, job_id):
    """{"publish_at": ISO time with its offset} moves the slot L7 delivers at; {"now": true} delivers now."""
    job = get_object_or_404(Job, pk=job_id)
    try:
        body = _json_body(request)
        if body.get("now") is True:
            job = services.delivery_start(job_id=job.pk, user=request.user)
        else:
            job = services.delivery_reschedule(job_id=job.pk, publish_at=_aware_time(body.get("publish_at")),
                                               user=request.user)
    except REFUSED as exc:
        return _refusal(exc, job_id)
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


@require_http_methods(["GET", "HEAD"])
def file_link(request, token: str):
    """A job file for whoever holds a link `jobs.files.job_file_link` signed, until it expires."""
    from django.core import signing

    try:
        job_id, path = files.job_file_from_link(token)
    except signing.SignatureExpired:
        return HttpResponse("This link has expired: ask for the files to be delivered again.", status=410,
                            content_type="text/plain; charset=utf-8")
    except signing.BadSignature:
        raise Http404("No such file.") from None
    job = get_object_or_404(Job, pk=job_id)
    try:
        real = resolve_job_file(files.job_files_fetch(job.pk), path)
    except OutsideJobFolder:
        raise Http404("No such file.") from None
    return file_response(request, real, cache="private, no-store")


@staff_required(perms=access.VIEW_JOBS)
@require_GET
def calendar(request):
    """What is scheduled: jobs with a slot in the next 14 days (or waiting past theirs), by day."""
    days = {}
    for job in selectors.scheduled_jobs(days=14):
        days.setdefault(timezone.localtime(job.publish_at).date(), []).append(job)
    return render(request, "previews/calendar.html", {"days": sorted(days.items())})


@staff_required(perms=access.VIEW_JOBS)
@require_GET
def job_download(request, job_id):
    """Every file of the job's render in one zip, each named from the job (selectors.download_name), with the
    post copy beside them as each platform will carry it."""
    import tempfile
    import zipfile

    from pipeline.post import texts

    job = get_object_or_404(Job.objects.select_related("preset"), pk=job_id)
    summary = selectors.render_summary(job)
    if summary is None:
        raise Http404("This job has no render to download yet.")
    folder = files.job_files_fetch(job.pk)
    base = summary["zip_name"].removesuffix(".zip")
    spool = tempfile.TemporaryFile()
    # Stored, not deflated: the video and the images are compressed already.
    with zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_STORED) as archive:
        for item in summary["files"]:
            archive.write(resolve_job_file(folder, item["file"]), arcname=item["name"])
        plan = RenderPlan.model_validate(summary["render"].plan_version.plan)
        for platform, words in texts(plan.post).items():
            archive.writestr(f"{base}_post-{platform}.txt", words + "\n")
    spool.seek(0)
    return FileResponse(spool, as_attachment=True, filename=summary["zip_name"], content_type="application/zip")


@staff_required(api=True, perms=access.VIEW_JOBS)
@require_http_methods(["GET", "HEAD"])
def job_file(request, job_id, path: str):
    job = get_object_or_404(Job, pk=job_id)
    if files.remote_store() is not None:
        # In the object store: the same checks, then a signed link that expires (SIGNED_URL_SECONDS).
        try:
            key = clean_job_path(path)
        except OutsideJobFolder:
            raise Http404("No such file in this job.") from None
        if not files.job_file_stored(job.pk, key):
            raise Http404("No such file in this job.")
        response = HttpResponseRedirect(files.job_file_url(job.pk, key))
        response["Cache-Control"] = "private, no-store"
        return response
    try:
        real = resolve_job_file(job.work_dir, path)
    except OutsideJobFolder:
        raise Http404("No such file in this job.") from None
    return file_response(request, real)


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


# ---------------------------------------------------------------------------------------------- preset builder


@staff_required(perms=access.VIEW_PRESETS)
@require_GET
def presets_index(request):
    """The presets, each opening in the studio's preset editor (it was reachable only through the admin)."""
    presets = Preset.objects.order_by("-active", "name")
    return render(request, "previews/presets.html", {
        "presets": [{"preset": p, "config": PresetConfig.model_validate(p.config)} for p in presets],
        "may_edit": access.can(request.user, access.EDIT_PRESETS)})


@staff_required(perms=access.VIEW_PRESETS, post_perms=access.EDIT_PRESETS)
@ensure_csrf_cookie
@require_http_methods(["GET", "POST"])
def preset_builder(request, slug):
    from presets import editor
    from presets.forms import PresetForm

    preset = get_object_or_404(Preset, slug=slug)
    form = PresetForm(request.POST or None, instance=preset)
    form.user = request.user
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, f"Preset {preset.name} saved.")
        return redirect("previews:preset", slug=form.instance.slug)
    return render(request, "previews/preset.html", {
        "preset": preset, "form": form, "sections": editor.SECTIONS, "fonts": editor.fonts(),
        "references": PresetConfig.model_validate(preset.config).brand.references,
        "team_logos": sorted(PresetConfig.model_validate(preset.config).brand.team_logos),
        "fonts_json": json.dumps(editor.fonts()), "zones_json": json.dumps(editor.platform_zones()),
    }, status=400 if request.method == "POST" else 200)


@staff_required(api=True, perms=access.EDIT_PRESETS)
@require_POST
def preset_thumbnails(request, slug):
    """The config being edited -> field errors, or thumbnails drawn by the real renderer from a sample plan."""
    from presets.models import config_errors
    from presets.services import preset_thumbnails as thumbnails
    from presets.services import sample_lengths

    get_object_or_404(Preset, slug=slug)
    try:
        config = _json_body(request).get("config")
    except REFUSED as exc:
        return _refusal(exc)
    if not isinstance(config, dict):
        return JsonResponse({"errors": {"config": ["the config must be a JSON object"]}}, status=400)
    if errors := config_errors(config):
        return JsonResponse({"errors": errors}, status=400)
    try:
        parsed = PresetConfig.model_validate(config)
        return JsonResponse({"thumbnails": thumbnails(parsed), "lengths": sample_lengths(parsed)})
    except PipelineError as exc:
        return JsonResponse({"errors": {exc.field or "config": [exc.describe()]}}, status=400)


@staff_required(perms=access.ADD_PRESETS)
@require_POST
def preset_duplicate(request, slug):
    from presets.services import preset_duplicate as duplicate

    copy = duplicate(preset=get_object_or_404(Preset, slug=slug))
    messages.success(request, f"Duplicated as {copy.slug} (inactive until you turn it on).")
    return redirect("previews:preset", slug=copy.slug)


@staff_required(perms=access.UPLOAD_BRAND)
@require_POST
def preset_upload(request, slug, what):
    from presets import services as preset_services
    from presets.uploads import UploadRejected

    preset = get_object_or_404(Preset, slug=slug)
    uploaded = request.FILES.get("file")
    if uploaded is None:
        messages.error(request, "Choose a file to upload.")
        return redirect("previews:preset", slug=slug)
    try:
        if what == "logo":
            name = preset_services.preset_set_logo(preset=preset, uploaded=uploaded)
        elif what == "reference":
            name = preset_services.preset_add_reference(preset=preset, uploaded=uploaded)
        elif what == "team":
            name = preset_services.preset_set_team_logo(preset=preset, uploaded=uploaded,
                                                        team=request.POST.get("team", ""))
        else:
            name = preset_services.preset_add_font(preset=preset, uploaded=uploaded,
                                                   role=request.POST.get("role", "heading_font"),
                                                   family=request.POST.get("family", ""))
    except (UploadRejected, ValueError) as exc:
        messages.error(request, f"{uploaded.name} was refused: {exc}")
    else:
        messages.success(request, f"{uploaded.name} saved as {name}.")
    return redirect("previews:preset", slug=slug)


@staff_required(perms=access.UPLOAD_BRAND)
@require_POST
def preset_reference_remove(request, slug, name: str):
    from presets.services import preset_remove_reference

    preset = get_object_or_404(Preset, slug=slug)
    try:
        preset_remove_reference(preset=preset, name=name)
    except ValueError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Reference image {name} removed.")
    return redirect("previews:preset", slug=slug)


@staff_required(api=True, perms=access.VIEW_PRESETS)
@require_GET
def preset_reference(request, slug, name: str):
    """One of the preset's reference images (only the ones it names, from the brand folder)."""
    preset = get_object_or_404(Preset, slug=slug)
    if name not in PresetConfig.model_validate(preset.config).brand.references:
        raise Http404("No such reference image.")
    path = files.brand_fetch() / name
    if not path.is_file():
        raise Http404("No such reference image.")
    response = FileResponse(path.open("rb"), content_type="image/jpeg")
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=86400"
    return response


@staff_required(api=True, perms=access.VIEW_JOBS)
@require_GET
def font_file(request, name: str):
    """Shipped and uploaded fonts, for the review canvas (it draws with the same files as L6)."""
    from pipeline import text

    try:
        path = text.font_path(name)
    except PipelineError:
        files.brand_fetch()  # uploaded on another machine (object storage): fetch the brand folder once
        try:
            path = text.font_path(name)
        except PipelineError:
            raise Http404("No such font.") from None
    response = FileResponse(path.open("rb"), content_type="font/otf" if name.endswith(".otf") else "font/ttf")
    response["Cache-Control"] = "private, max-age=86400"
    return response


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


# ---------------------------------------------------------------------------------------------- batch review


@staff_required(api=True, perms=access.VIEW_JOBS, post_perms=access.REVIEW)
@require_http_methods(["GET", "POST"])
def job_frames(request, job_id):
    """GET: small frames of the plan as built (the batch grid). POST: adjustments in, frames of the adjusted
    plan out, drawn by the server (the review page's static preview, where the browser cannot draw it)."""
    job = get_object_or_404(Job.objects.select_related("preset"), pk=job_id)
    try:
        if request.method == "POST":
            plan = services.plan_preview(job=job, adjustments=_json_body(request).get("adjustments"))
            return JsonResponse({"frames": selectors.frames_of(job, plan, width=selectors.STATIC_FRAME_WIDTH)})
        return JsonResponse({"frames": selectors.plan_frames(job, first_only=request.GET.get("first") == "1")})
    except REFUSED as exc:
        return _refusal(exc, job_id)
    except StoreError:
        raise  # 503 in words (previews.middleware): the files are out of reach, the plan is not at fault
    except PipelineError as exc:
        return JsonResponse({"error": exc.describe()}, status=409)


@staff_required(api=True, perms=access.VIEW_JOBS)
@require_POST
def job_recording(request, job_id):
    """A preview recording from the browser: remuxed so that it carries its duration, kept with the job."""
    job = get_object_or_404(Job, pk=job_id)
    uploaded = request.FILES.get("recording")
    if uploaded is None:
        return JsonResponse({"errors": {"recording": ["send the recording as the `recording` file"]}}, status=400)
    try:
        saved = services.recording_save(job=job, uploaded=uploaded, user=request.user)
    except REFUSED as exc:
        return _refusal(exc, job_id)
    return JsonResponse({**saved, "url": selectors.file_url(job, saved["file"])})


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
        body = _json_body(request)
    except REFUSED as exc:
        return _refusal(exc)
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
