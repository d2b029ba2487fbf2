"""Running one claimed layer of one job: outside any transaction, with a heartbeat, its result recorded after.

Tasks are delivered at least once, so everything here is idempotent: a second delivery of a finished layer
only makes sure the next step is queued; a delivery while another worker is on the layer (fresh heartbeat)
does nothing."""
from __future__ import annotations

import logging
import re
import threading
import time
import traceback

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.utils import timezone
from pydantic import ValidationError

from core.pipelines import current_pipeline
from jobs import files
from jobs.locks import job_for_update, layer_run_for_update
from jobs.models import Job, LayerRun
from jobs.services.events import event_record
from jobs.services.runner import claiming
from jobs.services.runner.advancing import advance, fail, save_assets
from jobs.services.runner.claiming import Claim
from jobs.services.runner.inputs import build_plan_for, finished_output, gather_inputs, runnable
from jobs.services.runner.queueing import enqueue_helpers, layer_context
from pipeline.context import RecordedAsset
from pipeline.contracts.base import non_finite_path
from pipeline.errors import ContractError, PipelineError, StoreError
from pipeline.log_context import job_context
from pipeline.registry import Pipeline

logger = logging.getLogger("jobs")
S = Job.Status

HEARTBEAT_EVERY_S = 5.0


def heartbeat_every_s() -> float:
    """How often a running layer beats: at most every 5 s, and three beats inside the time after which the
    watchdog calls a run stale, so a live run is never given up between two beats (an operator may set
    HEARTBEAT_STALE_S low to notice lost workers sooner)."""
    return min(HEARTBEAT_EVERY_S, settings.PIPELINE["HEARTBEAT_STALE_S"] / 3)
PROGRESS_EVENT_EVERY_S = 0.25


class Heartbeat:
    """Writes the run's heartbeat while the layer works, from a thread of its own.

    If the worker process dies the heartbeat stops and the watchdog notices.
    Progress reports from the layer are turned into throttled `layer.progress` events.
    """

    def __init__(self, run_id: int, job_id, layer: str, on_progress=None) -> None:
        self.run_id, self.job_id, self.layer = run_id, job_id, layer
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat-{layer}", daemon=True)
        self._last_event, self._last_step = 0.0, ""
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
            while not self._stop.wait(heartbeat_every_s()):
                LayerRun.objects.filter(pk=self.run_id, status=LayerRun.Status.RUNNING).update(
                    heartbeat_at=timezone.now(), progress=self._fraction)
        finally:
            connection.close()

    def progress(self, fraction: float, message: str = "") -> None:
        self._fraction = max(0.0, min(1.0, float(fraction)))
        if self._on_progress:
            self._on_progress(self._fraction, message)
        now = time.monotonic()
        # Counts within a step ("drawing frame 40 of 855") are throttled; a new step ("joining the scenes") is
        # always told, or the page would show the last frame's count through the whole join and check.
        step = re.sub(r"\d+", "#", message)
        if now - self._last_event < PROGRESS_EVENT_EVERY_S and self._fraction < 1.0 and step == self._last_step:
            return
        self._last_event, self._last_step = now, step
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
            fail_unclaimed(job_id, layer, pipeline, exc)
            return None
        claim = claiming.claim(job_id, layer, pipeline)
        if claim is None:
            return None
        return execute(job_id, claim, pipeline, on_progress)


def layer_help(*, job_id, layer: str) -> object:
    """A helper task's work for a layer that is running elsewhere (L6: unclaimed chunks)."""
    pipeline = current_pipeline()
    spec = pipeline.spec(layer)
    job = Job.objects.select_related("preset").filter(pk=job_id).first()
    if spec.help is None or job is None or not runnable(job, pipeline, layer):
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


def fail_unclaimed(job_id, layer: str, pipeline: Pipeline, error: PipelineError) -> None:
    """Fail a job whose layer could not even start (its files could not be fetched)."""
    error.layer = error.layer or layer
    with transaction.atomic():
        job = job_for_update(job_id)
        if job is not None and runnable(job, pipeline, layer) and finished_output(job, layer) is None:
            fail(job, layer, error)


def execute(job_id, claim: Claim, pipeline: Pipeline, on_progress) -> LayerRun | None:
    spec = claim.spec
    claim.work_dir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    output = plan = error = None
    trace = ""
    with Heartbeat(claim.run_id, job_id, spec.name, on_progress) as heartbeat:
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
            # do not hand it back to django-q2, whose retry would only repeat it. (fail writes the
            # one ERROR record; the traceback goes to pipeline.log and the layer run.)
            logger.warning("%s of job %s crashed", spec.name, job_id, exc_info=True)
            error = PipelineError(f"crashed with {type(exc).__name__}: {exc}", layer=spec.name,
                                  hint="this is a bug; the traceback is on the layer run in the admin")
            trace = traceback.format_exc()
        heartbeat.progress(1.0, "finished" if error is None else "failed")
    try:
        return finish(job_id, claim, pipeline, output, plan, ctx.assets, error, trace, time.monotonic() - started)
    except Exception as exc:
        # The layer's own work is over; recording it failed (a value the database refuses, a file gone,
        # the database itself). The job must not stay `running` with nobody on it: it fails, in words.
        logger.warning("recording %s of job %s failed", spec.name, job_id, exc_info=True)
        fail_bookkeeping(job_id, claim, exc, traceback.format_exc())
        return None


def finish(job_id, claim: Claim, pipeline: Pipeline, output, plan, assets: list[RecordedAsset],
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
            fail(job, layer, error)
            return run
        run.status = LayerRun.Status.DONE
        run.output = output.model_dump(mode="json")
        run.progress = 1.0
        run.save(update_fields=["status", "finished_at", "duration_s", "heartbeat_at", "output", "progress"])
        save_assets(job, layer, assets)
        event_record(job_id=job.pk, type="layer.finished", payload={"layer": layer, "duration_s": run.duration_s})
        advance(job, pipeline, layer, run, plan=plan)
        return run


def fail_bookkeeping(job_id, claim: Claim, exc: Exception, trace: str) -> None:
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
            fail(job, layer, error)

