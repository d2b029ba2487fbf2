"""The render ahead: while a job waits for review, render the plan its reviewer is most likely to approve.

When a job reaches review, the plan as built is wished for; each adjustment the
reviewer makes replaces the wish (render_ahead_want, in jobs/services/runner/queueing.py).
A low-priority task renders the wished plan's scene chunks into the job's scene
cache (pipeline/render/chunks.py), so that approving it costs only the join.
It gives way, between half seconds of video, as soon as any other job needs a
worker (it never delays another job's layers; the watchdog queues it again when
the workers are idle), when the job leaves review (approved, rejected,
cancelled), and when a newer wish arrives (it then renders that one: its
unchanged scenes are already cached).
"""
from __future__ import annotations

import logging

from django.conf import settings
from django.db.models import F

from core.pipelines import current_pipeline
from jobs.models import Job
from jobs.services.errors import InvalidInput
from jobs.services.review import BUSY, adjusted_plan, parse_adjustments
from jobs.services.runner.queueing import layer_context, queue_render_ahead, render_ahead_want
from jobs.shutdown import stopping
from pipeline.contracts import JobInputs, PresetConfig
from pipeline.errors import PipelineError
from pipeline.log_context import job_context
from pipeline.registry import LayerInput
from pipeline.render.chunks import Stopped

logger = logging.getLogger("jobs")
S = Job.Status


def _others_waiting(job_id) -> bool:
    return Job.objects.filter(status__in=BUSY).exclude(pk=job_id).exists()


def _give_way(job_id, wanted: str) -> bool:
    if stopping():
        return True  # the cluster is stopping: the chunks made so far are kept, the watchdog queues the rest
    still_wanted = Job.objects.filter(pk=job_id, status=S.AWAITING_REVIEW, ahead_wanted=wanted).exists()
    return not still_wanted or _others_waiting(job_id)


def render_ahead_run(*, job_id) -> int:
    """The task: render the newest wish's missing chunks until they are all cached or it must give way.
    Returns the chunks it rendered."""
    Job.objects.filter(pk=job_id).update(ahead_queued_at=None)  # from now on a new wish may queue another task
    pipeline = current_pipeline()
    spec = pipeline.spec(pipeline.render_layer)
    rendered = 0
    while True:
        job = Job.objects.select_related("preset").filter(pk=job_id).first()
        if (spec.ahead is None or job is None or job.status != S.AWAITING_REVIEW or not job.ahead_wanted
                or job.ahead_done == job.ahead_wanted or _others_waiting(job_id) or stopping()):
            return rendered
        wanted = job.ahead_wanted
        with job_context(str(job_id), spec.name):
            try:
                inputs = LayerInput(job=JobInputs.model_validate(job.inputs),
                                    preset=PresetConfig.model_validate(job.preset.config),
                                    plan=adjusted_plan(job, parse_adjustments(job.ahead_adjustments)))
                rendered += spec.ahead(inputs, layer_context(job.pk, spec.name, job.work_dir),
                                       lambda wanted=wanted: _give_way(job_id, wanted))
            except Stopped:
                continue  # the loop looks again: a newer wish is rendered; anything else ends the task
            except (PipelineError, InvalidInput) as exc:
                # Nothing is lost: the render at approval does the work, and reports the problem properly. The
                # wish counts as handled, so the watchdog does not try it again every minute.
                logger.warning("rendering ahead stopped: %s", exc)
                Job.objects.filter(pk=job_id, ahead_wanted=wanted).update(ahead_done=wanted)
                return rendered
        Job.objects.filter(pk=job_id, ahead_wanted=wanted).update(ahead_done=wanted)


def render_ahead_idle() -> list[str]:
    """The watchdog's part: when no job needs the workers, queue the render ahead of jobs in review whose
    wished plan is not rendered yet (one that gave way, or whose task was lost)."""
    if not settings.PIPELINE.get("RENDER_AHEAD") or Job.objects.filter(status__in=BUSY).exists():
        return []
    queued = []
    for job_id, wanted in (Job.objects.filter(status=S.AWAITING_REVIEW).exclude(ahead_done=F("ahead_wanted"))
                           .values_list("pk", "ahead_wanted")):
        if wanted:
            queue_render_ahead(job_id)
        else:
            render_ahead_want(job_id)  # it reached review before anything was wished for: as built
        queued.append(str(job_id))
    return queued
