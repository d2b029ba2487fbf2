"""The studio's list of jobs and its start form (with the matchup picker), and archiving a job out of the list."""
from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from jobs import services
from jobs.models import Job, JobEvent
from jobs.services.calendar import is_sample, slate_for
from pipeline.contracts import PresetConfig
from pipeline.errors import PipelineError
from presets.models import Account, Preset
from previews import access, selectors
from previews.access import staff_required
from previews.forms import FindJobsForm, StartJobForm


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
                                                   "notices": selectors.comment_notices(), "sample": sample,
                                                   "broken_accounts": Account.objects.filter(
                                                       status=Account.Status.BROKEN)},
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
