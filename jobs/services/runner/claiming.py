"""Claiming a layer of a job: at most one attempt runs it, a stale one is given up, a finished layer only makes
sure the next is queued, and a layer whose input hash matches a finished run reuses its output (layer output
caching)."""
from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from jobs import files
from jobs.locks import job_for_update
from jobs.models import Asset, Job, LayerRun
from jobs.services.events import event_record
from jobs.services.runner.advancing import advance, ensure_next_queued, fail, render_started
from jobs.services.runner.inputs import finished_output, gather_inputs, runnable
from jobs.services.state import job_transition
from pipeline import registry
from pipeline.errors import LayerTimeoutError, PipelineError
from pipeline.registry import LayerInput, LayerSpec, Pipeline

logger = logging.getLogger("jobs")
S = Job.Status


@dataclass
class Claim:
    run_id: int
    spec: LayerSpec
    inputs: LayerInput
    work_dir: Path


def lost_attempts(job: Job, layer: str) -> int:
    """Attempts of this layer whose worker vanished or timed out without getting further than any attempt
    before them, since the job (re)started. An attempt that moved the layer on is not lost: L6 keeps every
    scene chunk it finished, so a render whose workers are killed again and again still gets through; a task
    that kills its worker at the same point every time still runs out of attempts."""
    runs = job.layer_runs.filter(layer=layer).order_by("attempt")
    if job.started_at:
        runs = runs.filter(started_at__gte=job.started_at)
    lost, furthest = 0, 0.0
    for status, progress in runs.values_list("status", "progress"):
        if status == LayerRun.Status.ABANDONED and progress <= furthest:
            lost += 1
        furthest = max(furthest, progress)
    return lost


def claim(job_id, layer: str, pipeline: Pipeline) -> Claim | None:
    spec = pipeline.spec(layer)
    with transaction.atomic():
        job = job_for_update(job_id)
        if job is None:
            logger.info("job %s is gone; nothing to run for %s", job_id, layer)
            return None
        if not runnable(job, pipeline, layer):
            logger.info("job %s is %s; %s does not run now", job_id, job.status, layer)
            return None
        if finished_output(job, layer) is not None:
            ensure_next_queued(job, pipeline, layer)
            return None
        stale_before = timezone.now() - timedelta(seconds=settings.PIPELINE["HEARTBEAT_STALE_S"])
        running = job.layer_runs.filter(layer=layer, status=LayerRun.Status.RUNNING).first()
        if running is not None:
            if running.heartbeat_at and running.heartbeat_at >= stale_before:
                logger.info("%s of job %s is already running (attempt %s)", layer, job_id, running.attempt)
                return None
            abandon(running, reason="its heartbeat went stale")
        if lost_attempts(job, layer) >= settings.PIPELINE["LAYER_MAX_ATTEMPTS"]:
            fail(job, layer, LayerTimeoutError(
                f"gave up after {settings.PIPELINE['LAYER_MAX_ATTEMPTS']} attempts that timed out or lost their "
                "worker without getting further", layer=layer))
            return None
        try:
            inputs = gather_inputs(job, pipeline, spec)
        except PipelineError as exc:
            fail(job, layer, exc)
            return None
        digest = registry.input_hash(spec, inputs)
        mark_started(job, pipeline, layer)
        attempt = (job.layer_runs.filter(layer=layer).order_by("-attempt").values_list("attempt", flat=True)
                   .first() or 0) + 1
        if spec.cacheable and reuse_cached(job, spec, digest, attempt, pipeline):
            return None
        run = LayerRun.objects.create(job=job, layer=layer, attempt=attempt, input_hash=digest,
                                      heartbeat_at=timezone.now())
        if layer == pipeline.render_layer:
            render_started(job, inputs.plan_version)
        event_record(job_id=job.pk, type="layer.started", payload={"layer": layer, "attempt": attempt})
        return Claim(run_id=run.pk, spec=spec, inputs=inputs, work_dir=job.work_dir)


def mark_started(job: Job, pipeline: Pipeline, layer: str) -> None:
    fields = {"current_layer": layer}
    if job.status == S.QUEUED:
        job_transition(job, S.RUNNING, started_at=job.started_at or timezone.now(), **fields)
    elif job.status == S.APPROVED:
        job_transition(job, S.RENDERING, **fields)
    else:
        job.current_layer = layer
        job.save(update_fields=["current_layer", "updated_at"])


def abandon(run: LayerRun, *, reason: str) -> None:
    run.status = LayerRun.Status.ABANDONED
    run.finished_at = timezone.now()
    run.error_type = "WorkerLost"
    run.error_message = f"attempt {run.attempt} was abandoned: {reason}"
    run.save(update_fields=["status", "finished_at", "error_type", "error_message"])
    event_record(job_id=run.job_id, type="layer.abandoned",
                 payload={"layer": run.layer, "attempt": run.attempt, "reason": reason})


def reuse_cached(job: Job, spec: LayerSpec, digest: str, attempt: int, pipeline: Pipeline) -> bool:
    """Reuse a finished run of the same layer with the same input hash; copy its files into this job."""
    runs = LayerRun.objects.filter(layer=spec.name, input_hash=digest, status=LayerRun.Status.DONE).exclude(job=job)
    if spec.cache_ttl_s is not None:
        runs = runs.filter(finished_at__gte=timezone.now() - timedelta(seconds=spec.cache_ttl_s))
    if job.fresh_after is not None:
        runs = runs.filter(finished_at__gte=job.fresh_after)
    source = runs.order_by("-finished_at").first()
    if source is None:
        return False
    assets = list(Asset.objects.filter(job_id=source.job_id, layer=spec.name))
    if files.remote_store() is not None:
        # Copied inside the store; a worker fetches them when a later layer needs them.
        if not files.job_files_copy(source.job_id, job.pk, [asset.path for asset in assets]):
            return False
    else:
        source_dir = source.job.work_dir
        if not all((source_dir / asset.path).is_file() for asset in assets):
            return False
        for asset in assets:
            link_or_copy(source_dir / asset.path, job.work_dir / asset.path)
    run = LayerRun.objects.create(job=job, layer=spec.name, attempt=attempt, input_hash=digest,
                                  status=LayerRun.Status.REUSED, output=source.output, reused_from=source,
                                  finished_at=timezone.now(), duration_s=0.0, progress=1.0)
    Asset.objects.bulk_create([
        Asset(job=job, layer=spec.name, kind=a.kind, path=a.path, sha256=a.sha256, bytes=a.bytes, width=a.width,
              height=a.height, duration=a.duration, metadata=a.metadata) for a in assets])
    event_record(job_id=job.pk, type="layer.reused",
                 payload={"layer": spec.name, "from_job": str(source.job_id), "input_hash": digest})
    logger.info("%s of job %s reused from job %s (input hash %s)", spec.name, job.pk, source.job_id, digest[:12])
    advance(job, pipeline, spec.name, run)
    return True


def link_or_copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.tmp")
    try:
        os.link(src, tmp)
    except OSError:
        shutil.copy2(src, tmp)
    os.replace(tmp, dst)

