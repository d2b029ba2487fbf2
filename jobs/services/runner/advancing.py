"""After a layer finished (or failed): record its files, and move the job on: the plan for review after the review
layer, the render's bookkeeping, the calendar's slot, the next layer, or the job's end."""
from __future__ import annotations

import logging

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from pydantic import ValidationError

from core.pipelines import current_pipeline
from jobs import selectors
from jobs.models import Asset, Job, LayerRun, Outcome, PlanVersion, Render
from jobs.selectors import next_plan_number
from jobs.services.delivery import delivery_retry_later, delivery_wait
from jobs.services.describing import job_describe
from jobs.services.events import event_record
from jobs.services.runner.inputs import build_plan_for, gather_inputs
from jobs.services.runner.queueing import enqueue_layer, layer_context, render_ahead_want
from jobs.services.state import job_transition
from pipeline.context import RecordedAsset
from pipeline.contracts import PresetConfig, RenderPlan
from pipeline.contracts.l7 import analytics_id
from pipeline.errors import ContractError, PipelineError
from pipeline.registry import Pipeline

logger = logging.getLogger("jobs")
S = Job.Status


def save_assets(job: Job, layer: str, assets: list[RecordedAsset]) -> None:
    for asset in assets:
        Asset.objects.update_or_create(job=job, path=asset.path, defaults={
            "layer": layer, "kind": asset.kind, "sha256": asset.sha256,
            "bytes": (job.work_dir / asset.path).stat().st_size, "width": asset.width, "height": asset.height,
            "duration": asset.duration, "metadata": asset.metadata})


def advance(job: Job, pipeline: Pipeline, layer: str, run: LayerRun, plan: RenderPlan | None = None) -> None:
    if layer == pipeline.review_after:
        if plan is None:
            # Reused review-layer output: the plan is built again from it (cheap; follows the current preset).
            try:
                inputs = gather_inputs(job, pipeline, pipeline.spec(layer))
                output = pipeline.spec(layer).output_model.model_validate(run.output)
                plan = build_plan_for(job.pk, pipeline, inputs, output, layer_context(job.pk, layer, job.work_dir))
            except ValidationError as exc:
                fail(job, layer, ContractError.from_validation(exc, what="the render plan", layer=layer))
                return
            except PipelineError as exc:
                fail(job, layer, exc)
                return
        job_describe(job, plan)
        plan_ready(job, plan, pipeline)
        return
    if layer == "L1":
        job_describe(job)
    if (slot := (run.output or {}).get("publish_at")) and job.publish_at is None:
        # The calendar's slot: L7 delivers then (jobs/services/delivery.py), unless someone moves it.
        job.publish_at = parse_datetime(slot) if isinstance(slot, str) else slot
        job.save(update_fields=["publish_at", "updated_at"])
    rendered = layer == pipeline.render_layer
    if rendered:
        render_finished(job, run)
    following = pipeline.next_after(layer, PresetConfig.model_validate(job.preset.config))
    if following is None:
        job_transition(job, S.DONE, current_layer="")
    elif not (rendered and delivery_wait(job)):
        enqueue_layer(job.pk, following, pipeline=pipeline)



def unreviewed_by(job: Job, preset: PresetConfig):
    """(who allowed it, why) when the job may go out without review; (None, None) when it waits for a reviewer.

    Only someone who may publish without review can allow it: whoever started the job with "Render without
    review" (no one, from the command line: the operator), or whoever turned the preset's review off. A preset
    whose review is off with nobody named (edited outside the studio) still waits for review."""
    if job.auto_approve:
        who = job.created_by
        if who is None:
            return None, "asked for at creation on the command line"
        if who.has_perm("jobs.publish_unreviewed"):
            return who, f"asked for at creation by {who.get_username()}"
    if not preset.preview.enabled:
        who = job.preset.preview_off_by
        if who is not None and who.has_perm("jobs.publish_unreviewed"):
            return who, f"review is off for this preset (turned off by {who.get_username()})"
    return None, None


def plan_ready(job: Job, plan: RenderPlan, pipeline: Pipeline) -> PlanVersion:
    """After the review layer: save plan version 1; wait for a reviewer, or go on when preview is off."""
    number = next_plan_number(job)
    version = PlanVersion.objects.create(job=job, number=number, plan=plan.model_dump(mode="json"),
                                         origin=PlanVersion.Origin.PIPELINE, note="built from L3, L4 and L5")
    preset = PresetConfig.model_validate(job.preset.config)
    now = timezone.now()
    preview_s = (now - job.created_at).total_seconds()
    allowed_by, why = unreviewed_by(job, preset)
    if why is None:
        job_transition(job, S.AWAITING_REVIEW, review_ready_at=now, preview_s=preview_s, current_layer="")
        event_record(job_id=job.pk, type="plan.ready", payload={"version": number})
        render_ahead_want(job.pk)
        return version
    version.approved_at = now
    version.approved_by = allowed_by
    version.note = f"approved without review: {why}"
    version.save(update_fields=["approved_at", "approved_by", "note"])
    job_transition(job, S.APPROVED, review_ready_at=now, preview_s=preview_s, review_outcome=Outcome.AUTO,
                   current_layer="")
    event_record(job_id=job.pk, type="plan.approved", payload={
        "version": number, "auto": True, "by": getattr(allowed_by, "username", ""), "why": why})
    enqueue_layer(job.pk, pipeline.render_layer, pipeline=pipeline)
    return version



def ensure_next_queued(job: Job, pipeline: Pipeline, layer: str) -> None:
    """A duplicate delivery of a finished layer: queue the next one only if nobody has started it."""
    following = pipeline.next_after(layer, PresetConfig.model_validate(job.preset.config))
    if layer == pipeline.review_after or following is None:
        return
    if not job.layer_runs.filter(layer=following).exists():
        enqueue_layer(job.pk, following, pipeline=pipeline)


def render_started(job: Job, plan_version: int) -> None:
    version = selectors.plan_version(job, plan_version)
    render, created = Render.objects.get_or_create(job=job, plan_version=version, defaults={
        "analytics_id": analytics_id(job.pk, version.number)})
    if not created and render.status != Render.Status.RUNNING:
        render.status, render.error_message = Render.Status.RUNNING, ""
        render.save(update_fields=["status", "error_message"])


def render_finished(job: Job, run: LayerRun) -> None:
    output = run.output or {}
    render = Render.objects.filter(job=job, plan_version__number=output.get("plan_version")).first()
    if render is None:
        return
    render.status = Render.Status.DONE
    render.files = output.get("files", [])
    render.timings = output.get("timings", {})
    render.parity = output.get("parity", {})
    render.readback = {f["file"]: {k: f.get(k) for k in ("width", "height", "duration", "frames", "video_codec",
                                                         "audio_codec", "bytes")} for f in render.files}
    render.finished_at = timezone.now()
    render.duration_s = (render.finished_at - render.started_at).total_seconds()
    render.save(update_fields=["status", "files", "timings", "parity", "readback", "finished_at", "duration_s"])
    event_record(job_id=job.pk, type="render.finished", payload={"plan_version": output.get("plan_version"),
                                                                 "files": [f["file"] for f in render.files]})


def fail(job: Job, layer: str, error: PipelineError) -> None:
    """The job fails at `layer`: the render in progress, an event, the status, and one ERROR record in errors.log.
    A delivery (the layer after the render) that time may fix is scheduled again instead (delivery.py)."""
    pipeline = current_pipeline()
    if pipeline.is_after_review(layer) and layer != pipeline.render_layer and delivery_retry_later(job, error):
        return
    logger.error("%s failed: %s from %s: %s", layer, error.error_type, error.provider or "no provider",
                 error.describe())
    Render.objects.filter(job=job, status=Render.Status.RUNNING).update(
        status=Render.Status.FAILED, error_message=error.describe(), finished_at=timezone.now())
    event_record(job_id=job.pk, type="layer.failed", payload={
        "layer": layer, "error_type": error.error_type, "message": error.describe(), "retryable": error.retryable})
    job_transition(job, S.FAILED, failed_layer=layer, error_type=error.error_type,
                   error_message=error.describe(), retryable=error.retryable)

