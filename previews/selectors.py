"""Reads for the studio pages: what a job page shows, in the shapes the templates and JS want."""
from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils.dateparse import parse_datetime

from core.pipelines import current_pipeline
from jobs.files import job_files_fetch
from jobs.models import Job, LayerRun, PlanVersion
from jobs.selectors import built_plan_version, game_data, game_timing, job_labels, latest_draft
from jobs.services import InvalidInput, plan_preview
from jobs.services.calendar import is_sample
from jobs.services.collaboration import comment_payload, viewers_of
from jobs.services.drafts import draft_payload
from pipeline.contracts import Adjustments, PresetConfig, RenderPlan
from pipeline.contracts.adjustments import describe_changes
from pipeline.labels import Labels
from pipeline.post import PLATFORMS, texts
from pipeline.render.parity import slide_times, snapshot_times
from previews.sprites import sprites_for


def file_url(job: Job, path: str) -> str:
    return reverse("previews:job-file", kwargs={"job_id": job.pk, "path": path})


def layer_rows(job: Job) -> list[dict]:
    """One row per layer the job runs: its latest attempt, for the progress list."""
    runs = {}
    for run in job.layer_runs.order_by("started_at"):
        runs[run.layer] = run
    rows = []
    preset = PresetConfig.model_validate(job.preset.config)
    for spec in current_pipeline().layers:
        run: LayerRun | None = runs.get(spec.name)
        if run is None and not spec.applies(preset):
            # A layer that will never run is not "waiting": say that it is skipped, and why.
            rows.append({"layer": spec.name, "title": spec.title, "status": "skipped", "progress": 0,
                         "duration_s": None, "attempt": 0, "error": "", "note": spec.skipped_because})
            continue
        rows.append({"layer": spec.name, "title": spec.title, "status": run.status if run else "waiting",
                     "progress": round((run.progress if run else 0.0) * 100), "duration_s": run.duration_s if run
                     else None, "attempt": run.attempt if run else 0, "error": run.error_message if run else "",
                     "note": ""})
    return rows


def plan_payload(job: Job, plan: RenderPlan, version: PlanVersion | None = None) -> dict:
    """A plan for the review page: the RenderPlan plus where its files and fonts are served from."""
    return {
        "job": str(job.pk), "status": job.status, "version": version.number if version else None,
        "plan": plan.model_dump(mode="json"),
        "files_url": reverse("previews:job-file", kwargs={"job_id": job.pk, "path": "x"})[:-1],
        "fonts_url": reverse("previews:font", kwargs={"name": "x"})[:-1],
        "snapshot_times": snapshot_times(plan),
        "slide_times": slide_times(plan),
        "sprites": sprites_for(job.pk, plan),
        "post_texts": post_texts(plan),
        "labels": Labels(plan).as_dict(),
    }


def game_notice(job: Job, now: dt.datetime | None = None) -> dict | None:
    """What the job page says about the game behind a job: whether its data is the shipped sample (the same
    games and odds for any date) and whether the game has kicked off, or will have by the time the post goes
    out. None before L1 has read it."""
    timing = game_timing(job, now)
    if timing is None:
        return None
    source = timing.pop("data").source
    return {**timing, "sample": is_sample(source), "source": source}


def post_texts(plan: RenderPlan) -> list[dict]:
    """The post as each platform will carry it (pipeline/post.py cuts it): the review page shows these, so the
    counts a reviewer sees are the ones L7 delivers."""
    whole = len(plan.post.caption.strip()) + len(" ".join(plan.post.hashtags)) + (2 if plan.post.hashtags else 0)
    rows = []
    for name, text in texts(plan.post).items():
        limits = PLATFORMS[name]
        rows.append({"platform": name, "label": limits.label, "text": text, "chars": len(text),
                     "max_chars": limits.max_chars, "hashtags": sum(word.startswith("#") for word in text.split()),
                     "max_hashtags": limits.max_hashtags, "shortened": len(text) < whole})
    return rows


def originals(plan: RenderPlan) -> dict:
    """What the reviewer can edit, as built: the review page compares its fields with these."""
    editable = [layer for layer in plan.all_layers() if layer.type == "text" and layer.editable]
    captions = next((layer for layer in plan.overlay if layer.type == "captions"), None)
    return {"texts": {layer.id: layer.text for layer in editable},
            "colors": {layer.id: layer.color for layer in editable},
            "captions": [" ".join(word.text for word in group.words) for group in captions.groups] if captions else [],
            "post": plan.post.model_dump(mode="json")}


def review_payload(job: Job, version: PlanVersion) -> dict:
    """What the review page loads: while in review the plan as the shared draft makes it, with the draft, what
    it was built as, and the comments; afterwards the newest version as it is."""
    plan = RenderPlan.model_validate(version.plan)
    draft, problem = None, ""
    if job.status == Job.Status.AWAITING_REVIEW:
        draft = latest_draft(job)
        if draft is not None and draft.adjustments:
            try:
                plan = plan_preview(job=job, adjustments=draft.adjustments)
            except InvalidInput as exc:
                # After a re-run the draft may name layers the fresh plan no longer has.
                problem = f"the saved draft does not apply to this plan ({exc}); it starts again from the plan as built"
                draft = None
    built = built_plan_version(job)
    return {**plan_payload(job, plan, version), "draft": {**draft_payload(draft), "problem": problem},
            "originals": originals(RenderPlan.model_validate(built.plan) if built else plan),
            "comments": comment_rows(job)}


def comment_rows(job: Job) -> list[dict]:
    return [comment_payload(c) for c in job.comments.select_related("author", "resolved_by").order_by("at_s", "pk")]


def draft_rows(job: Job) -> list[dict]:
    """The shared draft's history, newest first, each save with what it changed in words."""
    rows, previous, labels = [], Adjustments(), job_labels(job)
    for draft in job.draft_revisions.select_related("created_by").order_by("number"):
        current = Adjustments.model_validate(draft.adjustments or {})
        rows.append({"number": draft.number, "by": draft.created_by, "at": draft.created_at, "note": draft.note,
                     "changes": describe_changes(previous, current, labels)})
        previous = current
    return rows[::-1]


def studio_jobs(*, q: str = "", preset=None, status: str = "", day=None, archived: bool = False,
                limit: int = 100) -> list[Job]:
    """The studio's job list, newest first and filtered, each with how many of its comments are open; a request's
    variants sit together (the first of them where the group falls), each knowing its number and how many."""
    from django.db.models import Count, Q

    jobs = Job.objects.select_related("preset").order_by("-created_at")
    if not archived:
        jobs = jobs.filter(archived_at__isnull=True)
    for word in q.split():
        jobs = jobs.filter(Q(title__icontains=word) | Q(keywords__icontains=word) | Q(preset__name__icontains=word)
                           | Q(inputs__matchup_id__icontains=word))
    if preset is not None:
        jobs = jobs.filter(preset=preset)
    if status:
        jobs = jobs.filter(status=status)
    if day is not None:
        jobs = jobs.filter(Q(game_day=day) | Q(game_day__isnull=True, inputs__date=day.isoformat()))
    found = list(jobs.annotate(open_comments=Count("comments", filter=Q(comments__resolved_at__isnull=True)))[:limit])
    sizes = dict(Job.objects.filter(variant_group__in={job.variant_group for job in found if job.variant_group})
                 .values_list("variant_group").annotate(n=Count("id")))
    groups: dict = {}
    for job in found:
        groups.setdefault(job.variant_group or job.pk, []).append(job)
    ordered = []
    for members in groups.values():
        members.sort(key=lambda job: job.variant)
        for job in members:
            job.variant_count = sizes.get(job.variant_group, 0)
        ordered += members
    return ordered


def comment_notices(limit: int = 8) -> list[dict]:
    """The newest open comments on any job: the studio list's notifications."""
    from jobs.models import Comment

    rows = (Comment.objects.filter(resolved_at__isnull=True).select_related("author", "job__preset")
            .order_by("-created_at")[:limit])
    return [{**comment_payload(c), "job": str(c.job_id), "preset": c.job.preset.name} for c in rows]


def watched_jobs(jobs) -> dict[str, list[str]]:
    """Who has each of these jobs open (the batch grid's marks)."""
    return viewers_of([job.pk for job in jobs])


def version_rows(job: Job) -> list[dict]:
    """Plan versions, each with what changed since the one before it, in words."""
    rows, previous, labels = [], Adjustments(), job_labels(job)
    for version in job.plan_versions.select_related("approved_by", "created_by").order_by("number"):
        current = Adjustments.model_validate(version.adjustments or {})
        changes = describe_changes(previous, current, labels)
        rows.append({"number": version.number, "note": version.note, "changes": changes,
                     "by": version.approved_by or version.created_by, "approved_at": version.approved_at,
                     "created_at": version.created_at})
        previous = current
    return rows


# What a rendered file is called when it is saved: from the job, so files of two jobs never collide in a
# downloads folder ("final.mp4", "slide_01.jpg" did): 2026-12-01_dal-phi_reel_v2.mp4, ..._slide-01.jpg.
_PART = {"final": "", "image": "", "slides": "_reel", "poster": "_poster", "captions": ""}


def download_base(job: Job, version: int) -> str:
    """The name every download of a render starts with: the game's day and teams, the kind, the plan version."""
    data = game_data(job)
    if data is not None:
        matchup = data.matchup
        what = f"{matchup.game_time:%Y-%m-%d}_{matchup.away.abbreviation.lower()}-{matchup.home.abbreviation.lower()}"
    else:
        what = f"{job.created_at:%Y-%m-%d}_{str(job.pk)[:8]}"
    return f"{what}_{job.preset.kind}_v{version}"


def download_name(base: str, file: str) -> str:
    stem, _, ext = file.rsplit("/", 1)[-1].rpartition(".")
    if stem.startswith("slide_"):
        return f"{base}_slide-{stem.removeprefix('slide_')}.{ext}"
    return f"{base}{_PART.get(stem, '_' + stem)}.{ext}"


def render_summary(job: Job) -> dict | None:
    render = job.renders.select_related("plan_version").first()
    if render is None:
        return None
    base = download_base(job, render.plan_version.number)
    files = [{**f, "url": file_url(job, f["file"]), "name": download_name(base, f["file"])} for f in render.files]
    l7 = job.layer_runs.filter(layer="L7", status__in=["done", "reused"]).first()
    l6 = job.layer_runs.filter(layer="L6", status="done").order_by("-pk").first()
    colour = (l6.output or {}).get("colour", {}) if l6 else {}
    moments = differing_moments(render.plan_version, (l6.output or {}).get("differences", {}) if l6 else {})
    # The warning is for what a person sees (parity.visible_difference); the SSIM figures stay for the record.
    verdict = ("differs" if moments else "match") if render.parity else None
    from pipeline.render.parity import BRAND_DELTA_E_MAX

    return {"render": render, "files": files, "parity": render.parity, "verdict": verdict, "moments": moments,
            "zip_name": f"{base}.zip",
            "colour": max(colour.values()) if colour else None, "colour_ok": BRAND_DELTA_E_MAX,
            "video": next((f for f in files if f["kind"] == "video"), None),
            # What the player shows before it plays (a blank first frame otherwise): the reel's poster, or a
            # carousel reel's first slide.
            "poster": next((f for f in files if f["kind"] == "poster"), None)
            or next((f for f in files if f["kind"] == "slide"), None),
            "images": [f for f in files if f["kind"] in ("slide", "image")],
            "distribution": l7.output if l7 else None, "deliveries": delivery_log(job),
            "publications": publications_of(job)}


def publications_of(job: Job) -> list[dict]:
    """Each post made (or being made) on a platform account: where, its state, the post's id and link, the steps
    and answers on the way, and when its figures were last read."""
    from pipeline.publish import PLATFORM_LABELS

    return [{"destination": p.destination, "platform": PLATFORM_LABELS.get(p.platform, p.platform),
             "account": p.account.handle if p.account else "(disconnected)", "version": p.plan_version,
             "state": p.get_state_display(), "published": p.state == p.State.PUBLISHED, "post_id": p.post_id,
             "url": p.url, "log": p.log, "pulled_at": p.insights_pulled_at, "problem": p.insights_problem}
            for p in job.publications.select_related("account").order_by("plan_version", "destination")]


def differing_moments(version: PlanVersion, differences: dict[str, dict]) -> list[dict]:
    """The moments where the render differs visibly from what was approved, each named as the page names it
    ("0:04.2, Pick 1") with the approved canvas snapshot and the rendered frame (the difference outlined)."""
    if not differences:
        return []
    plan = RenderPlan.model_validate(version.plan)
    labels = Labels(plan)
    moments = []
    for key, difference in sorted(differences.items(), key=lambda item: float(item[0])):
        t = float(key)
        scene = next((s for s in plan.scenes if s.start <= t < s.end), plan.scenes[-1])
        moments.append({"at": f"{int(t // 60)}:{t % 60:04.1f}", "scene": labels.scene(scene.id),
                        "snapshot": version.snapshots.get(difference.get("snapshot", "")), "frame": difference["frame"],
                        "share": difference["share"]})
    return moments


def delivery_log(job: Job) -> list[dict]:
    """Each attempt to deliver the job's files: when, how it ended (the receiver's answer), and when the next
    one is due after a failure."""
    retries = {e.payload.get("attempt"): e.payload for e in job.events.filter(type="delivery.retry")}
    rows = []
    for number, run in enumerate(job.layer_runs.filter(layer="L7").order_by("started_at", "pk"), start=1):
        output = run.output or {}
        retry = retries.get(number) or {}
        rows.append({"attempt": number, "at": run.finished_at or run.started_at, "status": run.status,
                     "answer": output.get("status_code") or retry.get("status"),
                     "detail": run.error_message or output.get("location", ""),
                     "next_at": parse_datetime(retry["next_at"]) if retry.get("next_at") else None})
    return rows


FRAME_WIDTH = 180
# The review page's static preview (browsers that cannot draw the plan): big enough to read the text.
STATIC_FRAME_WIDTH = 360


def frames_of(job: Job, plan: RenderPlan, *, width: int = FRAME_WIDTH, first_only: bool = False) -> list[dict]:
    """JPEG frames of a plan, one per scene at its still time, drawn by L6's compositor."""
    import base64

    from pipeline.render.compositor import scene_stills

    return [{"scene": scene, "t": t, "src": "data:image/jpeg;base64," + base64.b64encode(jpeg).decode()}
            for scene, t, jpeg in scene_stills(plan, job_files_fetch(job.pk), width=width, first_only=first_only)]


def plan_frames(job: Job, *, first_only: bool = False) -> list[dict]:
    """Small frames of the job's plan as built, one per scene (cached by plan version): the batch grid's tiles."""
    from django.core.cache import cache

    version = built_plan_version(job)
    if version is None:
        return []
    key = f"plan-frames:{version.pk}:{int(first_only)}"
    if (cached := cache.get(key)) is not None:
        return cached
    frames = frames_of(job, RenderPlan.model_validate(version.plan), first_only=first_only)
    cache.set(key, frames, 3600)
    return frames


def scheduled_jobs(*, days: int) -> list[Job]:
    """Jobs not yet delivered whose slot is within `days` days (or already past), soonest first."""
    from datetime import timedelta

    from django.utils import timezone

    from jobs.services.delivery import RESCHEDULABLE

    jobs = list(Job.objects.select_related("preset")
                .filter(status__in=RESCHEDULABLE, publish_at__isnull=False,
                        publish_at__lte=timezone.now() + timedelta(days=days))
                .order_by("publish_at")[:500])
    # What a person planning the day must see beside a slot: it has passed, it falls after the game's start,
    # or nothing will be delivered (the preset names no destination).
    kickoffs = {}
    for run in LayerRun.objects.filter(job__in=jobs, layer="L1", status__in=["done", "reused"]).order_by("pk"):
        if kickoff := parse_datetime(str(run.output.get("matchup", {}).get("game_time", ""))):
            kickoffs[run.job_id] = kickoff
    now = timezone.now()
    delivered = {}  # preset id -> whether it names a destination, read once per preset
    for job in jobs:
        if job.preset_id not in delivered:
            delivered[job.preset_id] = PresetConfig.model_validate(job.preset.config).providers.distribution is not None
        job.notes = []
        if job.publish_at < now:
            job.notes.append("overdue: its slot has passed")
        if job.pk in kickoffs and job.publish_at >= kickoffs[job.pk]:
            job.notes.append(f"after kick-off ({kickoffs[job.pk]:%H:%M UTC})")
        if not delivered[job.preset_id]:
            job.notes.append("not delivered: the preset has no destination")
    return jobs
