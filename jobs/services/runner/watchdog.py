"""The watchdog: layer runs whose heartbeat went stale (their worker died) are given up and queued again, and a
job that should be moving but lost its task is queued again."""
from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.pipelines import current_pipeline
from jobs.locks import job_for_update, layer_run_for_update
from jobs.models import Job, LayerRun
from jobs.services.events import event_record
from jobs.services.runner.claiming import abandon
from jobs.services.runner.inputs import next_unfinished
from jobs.services.runner.queueing import enqueue_layer
from pipeline.log_context import job_context

logger = logging.getLogger("jobs")
S = Job.Status


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
            abandon(run, reason=f"no heartbeat for over {stale_after_s:.0f} s (worker lost or timed out)")
            enqueue_layer(job_id, layer)
            logger.warning("watchdog: %s of job %s went stale; queued again", layer, job_id)
            requeued.append((str(job_id), layer))
    return requeued + requeue_idle_jobs(cutoff)


def requeue_idle_jobs(cutoff) -> list[tuple[str, str]]:
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
            layer = next_unfinished(job, pipeline)
            if layer is None:
                continue
            event_record(job_id=job.pk, type="job.requeued", payload={"layer": layer, "reason": "no activity"})
            enqueue_layer(job_id, layer, pipeline=pipeline)
            logger.warning("watchdog: job %s had no activity; queued %s again", job_id, layer)
            requeued.append((str(job_id), layer))
    return requeued

