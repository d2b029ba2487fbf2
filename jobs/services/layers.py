"""Running one layer of one job: claim it, run it outside any transaction, record the result.

Tasks are delivered at least once, so everything here is idempotent: a second
delivery of a finished layer only makes sure the next step is queued; a
delivery while another worker is on the layer (fresh heartbeat) does nothing.
"""
from __future__ import annotations

import contextlib
import contextvars
import functools
import logging
import os
import shutil
import threading
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from pydantic import BaseModel, ValidationError

from jobs import files
from jobs.locks import job_for_update, layer_run_for_update
from jobs.models import Asset, Job, LayerRun, Render
from jobs.selectors import approved_plan_version
from jobs.services.events import event_record
from jobs.services.state import job_transition
from pipeline import registry
from pipeline.context import LayerContext, RecordedAsset
from pipeline.contracts import JobInputs, PresetConfig, RenderPlan
from pipeline.contracts.base import non_finite_path
from pipeline.contracts.l7 import analytics_id
from pipeline.errors import ConfigurationError, ContractError, LayerTimeoutError, PipelineError, StoreError
from pipeline.log_context import job_context
from pipeline.registry import LayerInput, LayerSpec, Pipeline

logger = logging.getLogger("jobs")
S = Job.Status

HEARTBEAT_EVERY_S = 5.0
PROGRESS_EVENT_EVERY_S = 0.25


@functools.cache
def _load(dotted: str) -> Pipeline:
    return registry.load(dotted)


def current_pipeline() -> Pipeline:
    return _load(settings.PIPELINE["FACTORY"])


_inline_queue: contextvars.ContextVar[list | None] = contextvars.ContextVar("inline_queue", default=None)


@contextlib.contextmanager
def inline_queue() -> Iterator[list[tuple[str, str]]]:
    """Collect queued layers in a list instead of django-q2, for `run_job` to run in this process."""
    queue: list[tuple[str, str]] = []
    token = _inline_queue.set(queue)
    try:
        yield queue
    finally:
        _inline_queue.reset(token)


def enqueue_layer(job_id, layer: str, *, pipeline: Pipeline | None = None) -> None:
    """Queue `run_layer(job_id, layer)` once the current transaction commits (never before)."""
    spec = (pipeline or current_pipeline()).spec(layer)
    from django_q.tasks import async_task

    inline = _inline_queue.get()
    if inline is not None:
        transaction.on_commit(lambda: inline.append((str(job_id), layer)))
        return

    def send() -> None:
        options = {"task_name": f"{layer} {job_id}", "group": str(job_id)}
        if timeout := task_timeout(spec):
            options["timeout"] = timeout
        async_task("jobs.tasks.run_layer", str(job_id), layer, **options)

    transaction.on_commit(send)


def task_timeout(spec: LayerSpec) -> int | None:
    """The django-q2 timeout of a layer's task: the render's own setting for a layer that declares a long
    timeout (L6), the cluster's default (None) for the rest."""
    return settings.PIPELINE["RENDER_TIMEOUT_S"] if spec.timeout_s else None


def layer_context(job_id, layer: str, work_dir: Path, **kwargs) -> LayerContext:
    """The context every layer runs with: its folder, secrets from settings, Django's cache."""
    from django.core.cache import cache

    options = {**settings.PIPELINE, "BRAND_DIR": files.brand_folder()}
    return LayerContext(job_id=str(job_id), layer=layer, work_dir=work_dir, secrets=settings.PROVIDER_SECRETS,
                        options=options, cache=cache, logger=logging.getLogger(f"pipeline.{layer}"),
                        scenes=files.scenes_for(job_id),
                        file_link=lambda rel: files.job_file_link(job_id, rel), **kwargs)


def running_inline() -> bool:
    """Inside `inline_queue` (run_job, the benchmarks): one process runs the job, with no workers beside it."""
    return _inline_queue.get() is not None


def enqueue_helpers(job_id, layer: str, count: int) -> None:
    """Queue `count` helper tasks for a running layer (they return at once when there is nothing left to do)."""
    from django_q.tasks import async_task

    if running_inline():
        return  # run_job renders in this one process: there are no other workers to help
    for index in range(count):
        async_task("jobs.tasks.help_layer", str(job_id), layer, task_name=f"{layer} helper {index + 1} {job_id}",
                   group=str(job_id))


def layer_help(*, job_id, layer: str) -> object:
    """A helper task's work for a layer that is running elsewhere (L6: unclaimed chunks)."""
    pipeline = current_pipeline()
    spec = pipeline.spec(layer)
    job = Job.objects.select_related("preset").filter(pk=job_id).first()
    if spec.help is None or job is None or not _runnable(job, pipeline, layer):
        return None
    if not job.layer_runs.filter(layer=layer, status=LayerRun.Status.RUNNING).exists():
        return None
    with job_context(str(job_id), layer):
        try:
            files.job_files_fetch(job.pk)
        except StoreError as exc:
            # The layer's own task renders what its helpers cannot, and reports a store that fails it too.
            logger.warning("helping %s of job %s: %s", layer, job_id, exc.describe())
            return None
        return spec.help(gather_inputs(job, pipeline, spec), layer_context(job.pk, layer, job.work_dir))


# ---------------------------------------------------------------------------------------------
# Claiming


@dataclass
class Claim:
    run_id: int
    spec: LayerSpec
    inputs: LayerInput
    work_dir: Path


def _runnable(job: Job, pipeline: Pipeline, layer: str) -> bool:
    if pipeline.is_after_review(layer):
        return job.status in (S.APPROVED, S.RENDERING)
    return job.status in (S.QUEUED, S.RUNNING)


def _finished_output(job: Job, layer: str) -> dict | None:
    run = job.layer_runs.filter(layer=layer, status__in=[LayerRun.Status.DONE, LayerRun.Status.REUSED]).first()
    return run.output if run else None


def gather_inputs(job: Job, pipeline: Pipeline, spec: LayerSpec) -> LayerInput:
    """Load and validate what the layer needs: the job's inputs, its preset, upstream outputs, the plan."""
    base = {"base_dir": job.work_dir}
    try:
        job_inputs = JobInputs.model_validate(job.inputs)
    except ValidationError as exc:
        raise ContractError.from_validation(exc, what="the job's inputs", layer=spec.name) from exc
    try:
        preset = PresetConfig.model_validate(job.preset.config)
    except ValidationError as exc:
        raise ConfigurationError.from_validation(exc, what=f"preset {job.preset.slug!r}", layer=spec.name) from exc
    upstream: dict[str, BaseModel] = {}
    for need in spec.needs:
        output = _finished_output(job, need)
        if output is None:
            raise ContractError(f"{need} has not finished, but {spec.name} needs its output", layer=spec.name)
        model = pipeline.spec(need).output_model
        try:
            upstream[need] = model.model_validate(output, context=base)
        except ValidationError as exc:
            raise ContractError.from_validation(exc, what=f"the stored {need} output", layer=spec.name) from exc
    plan = version = None
    snapshots: dict[str, str] = {}
    if pipeline.is_after_review(spec.name):
        approved = approved_plan_version(job)
        if approved is None:
            raise ContractError("no approved plan version to render", layer=spec.name)
        plan, version = RenderPlan.model_validate(approved.plan, context=base), approved.number
        snapshots = approved.snapshots or {}
    return LayerInput(job=job_inputs, preset=preset, upstream=upstream, plan=plan, plan_version=version,
                      snapshots=snapshots)


def build_plan_for(job_id, pipeline: Pipeline, inputs: LayerInput, review_output: BaseModel,
                   ctx: LayerContext) -> RenderPlan:
    """Build the RenderPlan from every layer's output up to review (the plan builder reads them all)."""
    upstream = dict(inputs.upstream)
    finished = LayerRun.objects.filter(job_id=job_id, status__in=[LayerRun.Status.DONE, LayerRun.Status.REUSED])
    outputs = dict(finished.values_list("layer", "output"))
    for name in pipeline.names[: pipeline.names.index(pipeline.review_after)]:
        if name not in upstream and name in outputs:
            upstream[name] = pipeline.spec(name).output_model.model_validate(outputs[name])
    upstream[pipeline.review_after] = review_output
    plan_inputs = LayerInput(job=inputs.job, preset=inputs.preset, upstream=upstream)
    return RenderPlan.model_validate(pipeline.build_plan(plan_inputs, ctx).model_dump(mode="json"),
                                     context={"base_dir": ctx.work_dir})


def _lost_attempts(job: Job, layer: str) -> int:
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


def _claim(job_id, layer: str, pipeline: Pipeline) -> Claim | None:
    spec = pipeline.spec(layer)
    with transaction.atomic():
        job = job_for_update(job_id)
        if job is None:
            logger.info("job %s is gone; nothing to run for %s", job_id, layer)
            return None
        if not _runnable(job, pipeline, layer):
            logger.info("job %s is %s; %s does not run now", job_id, job.status, layer)
            return None
        if _finished_output(job, layer) is not None:
            _ensure_next_queued(job, pipeline, layer)
            return None
        stale_before = timezone.now() - timedelta(seconds=settings.PIPELINE["HEARTBEAT_STALE_S"])
        running = job.layer_runs.filter(layer=layer, status=LayerRun.Status.RUNNING).first()
        if running is not None:
            if running.heartbeat_at and running.heartbeat_at >= stale_before:
                logger.info("%s of job %s is already running (attempt %s)", layer, job_id, running.attempt)
                return None
            _abandon(running, reason="its heartbeat went stale")
        if _lost_attempts(job, layer) >= settings.PIPELINE["LAYER_MAX_ATTEMPTS"]:
            _fail(job, layer, LayerTimeoutError(
                f"gave up after {settings.PIPELINE['LAYER_MAX_ATTEMPTS']} attempts that timed out or lost their "
                "worker without getting further", layer=layer))
            return None
        try:
            inputs = gather_inputs(job, pipeline, spec)
        except PipelineError as exc:
            _fail(job, layer, exc)
            return None
        digest = registry.input_hash(spec, inputs)
        _mark_started(job, pipeline, layer)
        attempt = (job.layer_runs.filter(layer=layer).order_by("-attempt").values_list("attempt", flat=True)
                   .first() or 0) + 1
        if spec.cacheable and _reuse_cached(job, spec, digest, attempt, pipeline):
            return None
        run = LayerRun.objects.create(job=job, layer=layer, attempt=attempt, input_hash=digest,
                                      heartbeat_at=timezone.now())
        if pipeline.is_after_review(layer) and layer == pipeline.next_after(pipeline.review_after):
            _render_started(job, inputs.plan_version)
        event_record(job_id=job.pk, type="layer.started", payload={"layer": layer, "attempt": attempt})
        return Claim(run_id=run.pk, spec=spec, inputs=inputs, work_dir=job.work_dir)


def _mark_started(job: Job, pipeline: Pipeline, layer: str) -> None:
    fields = {"current_layer": layer}
    if job.status == S.QUEUED:
        job_transition(job, S.RUNNING, started_at=job.started_at or timezone.now(), **fields)
    elif job.status == S.APPROVED:
        job_transition(job, S.RENDERING, **fields)
    else:
        job.current_layer = layer
        job.save(update_fields=["current_layer", "updated_at"])


def _render_started(job: Job, plan_version: int) -> None:
    version = job.plan_versions.get(number=plan_version)
    render, created = Render.objects.get_or_create(job=job, plan_version=version, defaults={
        "analytics_id": analytics_id(job.pk, version.number)})
    if not created and render.status != Render.Status.RUNNING:
        render.status, render.error_message = Render.Status.RUNNING, ""
        render.save(update_fields=["status", "error_message"])


def _abandon(run: LayerRun, *, reason: str) -> None:
    run.status = LayerRun.Status.ABANDONED
    run.finished_at = timezone.now()
    run.error_type = "WorkerLost"
    run.error_message = f"attempt {run.attempt} was abandoned: {reason}"
    run.save(update_fields=["status", "finished_at", "error_type", "error_message"])
    event_record(job_id=run.job_id, type="layer.abandoned",
                 payload={"layer": run.layer, "attempt": run.attempt, "reason": reason})


# ---------------------------------------------------------------------------------------------
# Layer output caching


def _reuse_cached(job: Job, spec: LayerSpec, digest: str, attempt: int, pipeline: Pipeline) -> bool:
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
            _link_or_copy(source_dir / asset.path, job.work_dir / asset.path)
    run = LayerRun.objects.create(job=job, layer=spec.name, attempt=attempt, input_hash=digest,
                                  status=LayerRun.Status.REUSED, output=source.output, reused_from=source,
                                  finished_at=timezone.now(), duration_s=0.0, progress=1.0)
    Asset.objects.bulk_create([
        Asset(job=job, layer=spec.name, kind=a.kind, path=a.path, sha256=a.sha256, bytes=a.bytes, width=a.width,
              height=a.height, duration=a.duration, metadata=a.metadata) for a in assets])
    event_record(job_id=job.pk, type="layer.reused",
                 payload={"layer": spec.name, "from_job": str(source.job_id), "input_hash": digest})
    logger.info("%s of job %s reused from job %s (input hash %s)", spec.name, job.pk, source.job_id, digest[:12])
    _advance(job, pipeline, spec.name, run)
    return True


def _link_or_copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.tmp")
    try:
        os.link(src, tmp)
    except OSError:
        shutil.copy2(src, tmp)
    os.replace(tmp, dst)


# ---------------------------------------------------------------------------------------------
# Running


class _Heartbeat:
    """Writes the run's heartbeat while the layer works, from a thread of its own.

    If the worker process dies the heartbeat stops and the watchdog notices.
    Progress reports from the layer are turned into throttled `layer.progress` events.
    """

    def __init__(self, run_id: int, job_id, layer: str, on_progress=None) -> None:
        self.run_id, self.job_id, self.layer = run_id, job_id, layer
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat-{layer}", daemon=True)
        self._last_event = 0.0
        self._fraction = 0.0
        self._on_progress = on_progress

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _beat(self) -> None:
        try:
            while not self._stop.wait(HEARTBEAT_EVERY_S):
                LayerRun.objects.filter(pk=self.run_id, status=LayerRun.Status.RUNNING).update(
                    heartbeat_at=timezone.now(), progress=self._fraction)
        finally:
            connection.close()

    def progress(self, fraction: float, message: str = "") -> None:
        self._fraction = max(0.0, min(1.0, float(fraction)))
        if self._on_progress:
            self._on_progress(self._fraction, message)
        now = time.monotonic()
        if now - self._last_event < PROGRESS_EVENT_EVERY_S and self._fraction < 1.0:
            return
        self._last_event = now
        LayerRun.objects.filter(pk=self.run_id).update(heartbeat_at=timezone.now(), progress=self._fraction)
        event_record(job_id=self.job_id, type="layer.progress",
                     payload={"layer": self.layer, "fraction": round(self._fraction, 4), "message": message})


def layer_run(*, job_id, layer: str, on_progress=None) -> LayerRun | None:
    """Run `layer` of job `job_id` if it still needs running. Returns the finished LayerRun, if any."""
    pipeline = current_pipeline()
    close_old_connections()
    with job_context(str(job_id), layer):
        try:
            # The job's files this machine lacks (object storage), before its inputs are read and checked.
            files.job_files_fetch(job_id)
        except StoreError as exc:
            _fail_unclaimed(job_id, layer, pipeline, exc)
            return None
        claim = _claim(job_id, layer, pipeline)
        if claim is None:
            return None
        return _execute(job_id, claim, pipeline, on_progress)


def _fail_unclaimed(job_id, layer: str, pipeline: Pipeline, error: PipelineError) -> None:
    """Fail a job whose layer could not even start (its files could not be fetched)."""
    error.layer = error.layer or layer
    with transaction.atomic():
        job = job_for_update(job_id)
        if job is not None and _runnable(job, pipeline, layer) and _finished_output(job, layer) is None:
            _fail(job, layer, error)


def _execute(job_id, claim: Claim, pipeline: Pipeline, on_progress) -> LayerRun | None:
    spec = claim.spec
    claim.work_dir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    output = plan = error = None
    trace = ""
    with _Heartbeat(claim.run_id, job_id, spec.name, on_progress) as heartbeat:
        fan_out = (lambda helpers: enqueue_helpers(job_id, spec.name, helpers)) if spec.help else None
        ctx = layer_context(job_id, spec.name, claim.work_dir, progress=heartbeat.progress, fan_out=fan_out)
        try:
            produced = spec.run(claim.inputs, ctx)
            if where := non_finite_path(produced.model_dump()):
                raise ContractError(f"the {spec.title} output has a number that is not finite at {where}",
                                    layer=spec.name, field=where,
                                    hint="an upstream sent NaN or infinity; check the provider's answer")
            output = spec.output_model.model_validate(produced.model_dump(mode="json"),
                                                      context={"base_dir": claim.work_dir})
            if spec.name == pipeline.review_after:
                plan = build_plan_for(job_id, pipeline, claim.inputs, output, ctx)
            # Made visible to other machines before the run is recorded (a no-op on local disk).
            files.job_files_publish(job_id, [(asset.path, asset.sha256) for asset in ctx.assets])
        except ValidationError as exc:
            error = ContractError.from_validation(exc, what=f"the {spec.title} output", layer=spec.name)
            trace = traceback.format_exc()
        except PipelineError as exc:
            error = exc
            error.layer = error.layer or spec.name
            trace = traceback.format_exc()
        except Exception as exc:
            # Anything else is a bug: record it on the job in words, keep the traceback, and
            # do not hand it back to django-q2, whose retry would only repeat it. (_fail writes the
            # one ERROR record; the traceback goes to pipeline.log and the layer run.)
            logger.warning("%s of job %s crashed", spec.name, job_id, exc_info=True)
            error = PipelineError(f"crashed with {type(exc).__name__}: {exc}", layer=spec.name,
                                  hint="this is a bug; the traceback is on the layer run in the admin")
            trace = traceback.format_exc()
        heartbeat.progress(1.0, "finished" if error is None else "failed")
    try:
        return _finish(job_id, claim, pipeline, output, plan, ctx.assets, error, trace, time.monotonic() - started)
    except Exception as exc:
        # The layer's own work is over; recording it failed (a value the database refuses, a file gone,
        # the database itself). The job must not stay `running` with nobody on it: it fails, in words.
        logger.warning("recording %s of job %s failed", spec.name, job_id, exc_info=True)
        _fail_bookkeeping(job_id, claim, exc, traceback.format_exc())
        return None


def _finish(job_id, claim: Claim, pipeline: Pipeline, output, plan, assets: list[RecordedAsset],
            error: PipelineError | None, trace: str, duration: float) -> LayerRun | None:
    layer = claim.spec.name
    with transaction.atomic():
        job = job_for_update(job_id)
        run = layer_run_for_update(claim.run_id)
        if job is None or run is None:
            return None
        if run.status != LayerRun.Status.RUNNING or job.status in (S.CANCELLED, S.FAILED):
            # The watchdog gave this attempt up, or the job ended meanwhile: another attempt owns it.
            logger.warning("%s attempt %s of job %s finished after it was %s; result discarded",
                           layer, run.attempt, job_id, run.status)
            return None
        run.finished_at = timezone.now()
        run.duration_s = round(duration, 4)
        run.heartbeat_at = run.finished_at
        if error is not None:
            run.status = LayerRun.Status.FAILED
            run.error_type, run.error_message, run.traceback = error.error_type, error.describe(), trace
            run.save(update_fields=["status", "finished_at", "duration_s", "heartbeat_at", "error_type",
                                    "error_message", "traceback"])
            _fail(job, layer, error)
            return run
        run.status = LayerRun.Status.DONE
        run.output = output.model_dump(mode="json")
        run.progress = 1.0
        run.save(update_fields=["status", "finished_at", "duration_s", "heartbeat_at", "output", "progress"])
        _save_assets(job, layer, assets)
        event_record(job_id=job.pk, type="layer.finished", payload={"layer": layer, "duration_s": run.duration_s})
        _advance(job, pipeline, layer, run, plan=plan)
        return run


def _fail_bookkeeping(job_id, claim: Claim, exc: Exception, trace: str) -> None:
    """Fail the job after saving a finished layer's result raised; the run and the job say why."""
    layer = claim.spec.name
    error = PipelineError(f"finished its work, but saving the result failed ({type(exc).__name__}: {exc})",
                          layer=layer, retryable=True,
                          hint="retry the job; if it fails the same way, the traceback is on the layer run")
    with transaction.atomic():
        job = job_for_update(job_id)
        run = layer_run_for_update(claim.run_id)
        if job is None or run is None or run.status != LayerRun.Status.RUNNING:
            return
        run.status, run.finished_at = LayerRun.Status.FAILED, timezone.now()
        run.error_type, run.error_message, run.traceback = "BookkeepingError", error.describe(), trace
        run.save(update_fields=["status", "finished_at", "error_type", "error_message", "traceback"])
        if job.status not in (S.FAILED, S.CANCELLED):
            _fail(job, layer, error)


def _save_assets(job: Job, layer: str, assets: list[RecordedAsset]) -> None:
    for asset in assets:
        Asset.objects.update_or_create(job=job, path=asset.path, defaults={
            "layer": layer, "kind": asset.kind, "sha256": asset.sha256,
            "bytes": (job.work_dir / asset.path).stat().st_size, "width": asset.width, "height": asset.height,
            "duration": asset.duration, "metadata": asset.metadata})


# ---------------------------------------------------------------------------------------------
# What comes next


def _advance(job: Job, pipeline: Pipeline, layer: str, run: LayerRun, plan: RenderPlan | None = None) -> None:
    from jobs.services.delivery import delivery_wait
    from jobs.services.review import plan_ready

    if layer == pipeline.review_after:
        if plan is None:
            # Reused review-layer output: the plan is built again from it (cheap; follows the current preset).
            try:
                inputs = gather_inputs(job, pipeline, pipeline.spec(layer))
                output = pipeline.spec(layer).output_model.model_validate(run.output)
                plan = build_plan_for(job.pk, pipeline, inputs, output, layer_context(job.pk, layer, job.work_dir))
            except ValidationError as exc:
                _fail(job, layer, ContractError.from_validation(exc, what="the render plan", layer=layer))
                return
            except PipelineError as exc:
                _fail(job, layer, exc)
                return
        plan_ready(job, plan, pipeline)
        return
    if (slot := (run.output or {}).get("publish_at")) and job.publish_at is None:
        # The calendar's slot: L7 delivers then (jobs/services/delivery.py), unless someone moves it.
        job.publish_at = parse_datetime(slot) if isinstance(slot, str) else slot
        job.save(update_fields=["publish_at", "updated_at"])
    rendered = pipeline.is_after_review(layer) and layer == pipeline.next_after(pipeline.review_after)
    if rendered:
        _render_finished(job, run)
    following = pipeline.next_after(layer, PresetConfig.model_validate(job.preset.config))
    if following is None:
        job_transition(job, S.DONE, current_layer="")
    elif not (rendered and delivery_wait(job)):
        enqueue_layer(job.pk, following, pipeline=pipeline)


def _ensure_next_queued(job: Job, pipeline: Pipeline, layer: str) -> None:
    """A duplicate delivery of a finished layer: queue the next one only if nobody has started it."""
    following = pipeline.next_after(layer, PresetConfig.model_validate(job.preset.config))
    if layer == pipeline.review_after or following is None:
        return
    if not job.layer_runs.filter(layer=following).exists():
        enqueue_layer(job.pk, following, pipeline=pipeline)


def _render_finished(job: Job, run: LayerRun) -> None:
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


def _fail(job: Job, layer: str, error: PipelineError) -> None:
    """The job fails at `layer`: the render in progress, an event, the status, and one ERROR record in errors.log."""
    logger.error("%s failed: %s from %s: %s", layer, error.error_type, error.provider or "no provider",
                 error.describe())
    Render.objects.filter(job=job, status=Render.Status.RUNNING).update(
        status=Render.Status.FAILED, error_message=error.describe(), finished_at=timezone.now())
    event_record(job_id=job.pk, type="layer.failed", payload={
        "layer": layer, "error_type": error.error_type, "message": error.describe(), "retryable": error.retryable})
    job_transition(job, S.FAILED, failed_layer=layer, error_type=error.error_type,
                   error_message=error.describe(), retryable=error.retryable)


# ---------------------------------------------------------------------------------------------
# The watchdog


def watchdog_run(*, stale_after_s: float | None = None) -> list[tuple[str, str]]:
    """Give up layer runs whose heartbeat went stale (their worker died) and queue them again."""
    stale_after_s = settings.PIPELINE["HEARTBEAT_STALE_S"] if stale_after_s is None else stale_after_s
    cutoff = timezone.now() - timedelta(seconds=stale_after_s)
    candidates = list(LayerRun.objects.filter(
        status=LayerRun.Status.RUNNING, heartbeat_at__lt=cutoff,
        job__status__in=[S.RUNNING, S.APPROVED, S.RENDERING]).values_list("pk", "job_id", "layer"))
    requeued = []
    for run_id, job_id, layer in candidates:
        with transaction.atomic(), job_context(str(job_id), layer):
            job = job_for_update(job_id)
            run = layer_run_for_update(run_id)
            if job is None or run is None or run.status != LayerRun.Status.RUNNING or run.heartbeat_at >= cutoff:
                continue
            _abandon(run, reason=f"no heartbeat for over {stale_after_s:.0f} s (worker lost or timed out)")
            enqueue_layer(job_id, layer)
            logger.warning("watchdog: %s of job %s went stale; queued again", layer, job_id)
            requeued.append((str(job_id), layer))
    return requeued + _requeue_idle_jobs(cutoff)


def _next_unfinished(job: Job, pipeline: Pipeline) -> str | None:
    preset = PresetConfig.model_validate(job.preset.config)
    finished = set(job.layer_runs.filter(status__in=[LayerRun.Status.DONE, LayerRun.Status.REUSED])
                   .values_list("layer", flat=True))
    for name in pipeline.names:
        if name in finished or not pipeline.spec(name).applies(preset):
            continue
        return name if _runnable(job, pipeline, name) else None
    return None


def _requeue_idle_jobs(cutoff) -> list[tuple[str, str]]:
    """A job that should be moving but has no running layer and no event since `cutoff` lost its task
    (a worker died after taking it and before claiming the layer): queue its next layer again.

    django-q2 would deliver the lost task again only after `retry` seconds; a task that is merely waiting
    behind others gets a duplicate, which its claim turns into a no-op. The `job.requeued` event counts
    as activity, so a job gets at most one extra task per stale period."""
    from django.db.models import Max

    idle = (Job.objects.filter(status__in=[S.QUEUED, S.RUNNING, S.APPROVED, S.RENDERING])
            .exclude(layer_runs__status=LayerRun.Status.RUNNING)
            .annotate(last_event=Max("events__created_at")).filter(last_event__lt=cutoff)
            .values_list("pk", flat=True))
    idle = list(idle)
    if not idle:
        return []
    pipeline = current_pipeline()
    requeued = []
    for job_id in idle:
        with transaction.atomic(), job_context(str(job_id), "-"):
            job = job_for_update(job_id)
            if job is None or job.layer_runs.filter(status=LayerRun.Status.RUNNING).exists():
                continue
            layer = _next_unfinished(job, pipeline)
            if layer is None:
                continue
            event_record(job_id=job.pk, type="job.requeued", payload={"layer": layer, "reason": "no activity"})
            enqueue_layer(job_id, layer, pipeline=pipeline)
            logger.warning("watchdog: job %s had no activity; queued %s again", job_id, layer)
            requeued.append((str(job_id), layer))
    return requeued
