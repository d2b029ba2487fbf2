"""Queueing a job's work on django-q2: which pipeline runs, the layer tasks (once the transaction commits), the
helpers of a running layer, the render-ahead wish, and the context every layer runs with."""
from __future__ import annotations

import contextlib
import contextvars
import logging
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core.pipelines import current_pipeline
from jobs import files
from jobs.models import Job
from pipeline.context import LayerContext
from pipeline.registry import LayerSpec, Pipeline
from presets import accounts
from presets.models import Destination

S = Job.Status
# A queued render-ahead task not started for this long is taken for lost, and another may be queued.
QUEUED_STALE = timedelta(minutes=10)


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


def running_inline() -> bool:
    """Inside `inline_queue` (run_job, the benchmarks): one process runs the job, with no workers beside it."""
    return _inline_queue.get() is not None


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


def enqueue_helpers(job_id, layer: str, count: int) -> None:
    """Queue `count` helper tasks for a running layer (they return at once when there is nothing left to do)."""
    from django_q.tasks import async_task

    if running_inline():
        return  # run_job renders in this one process: there are no other workers to help
    for index in range(count):
        async_task("jobs.tasks.help_layer", str(job_id), layer, task_name=f"{layer} helper {index + 1} {job_id}",
                   group=str(job_id))


def layer_context(job_id, layer: str, work_dir: Path, **kwargs) -> LayerContext:
    """The context every layer runs with: its folder, secrets from settings, Django's cache."""
    from django.core.cache import cache

    from jobs.services.publishing import publication_ledger

    # The destinations a desk admin set up, by name: L7 delivers to the one its preset picks.
    destinations = {d.name: d.spec() for d in Destination.objects.all()}
    options = {**settings.PIPELINE, "BRAND_DIR": files.brand_folder(), "DESTINATIONS": destinations,
               "PLATFORMS": {name: {"api_url": c["api_url"]} for name, c in settings.PLATFORMS.items()}}
    return LayerContext(job_id=str(job_id), layer=layer, work_dir=work_dir, secrets=settings.PROVIDER_SECRETS,
                        options=options, cache=cache, logger=logging.getLogger(f"pipeline.{layer}"),
                        scenes=files.scenes_for(job_id),
                        file_link=lambda rel, expires: files.job_file_link(job_id, rel, expires),
                        account=accounts.for_pipeline, publication=publication_ledger(job_id), **kwargs)



def render_ahead_want(job_id, adjustments: dict | None = None) -> None:
    """Ask for the plan with these adjustments (None: as built) to be rendered ahead, replacing any earlier
    wish. Only while the job waits for review."""
    if not settings.PIPELINE.get("RENDER_AHEAD"):
        return
    wished = Job.objects.filter(pk=job_id, status=S.AWAITING_REVIEW).update(
        ahead_adjustments=adjustments, ahead_wanted=uuid.uuid4().hex)
    if wished:
        queue_render_ahead(job_id)


def queue_render_ahead(job_id) -> None:
    """Queue one render-ahead task for the job, unless one is already waiting (it reads the newest wish)."""
    from django_q.tasks import async_task

    if running_inline():
        return  # run_job and the benchmarks run a job in one process: nothing renders beside it
    now = timezone.now()
    queued = Job.objects.filter(pk=job_id).filter(
        Q(ahead_queued_at__isnull=True) | Q(ahead_queued_at__lt=now - QUEUED_STALE)).update(ahead_queued_at=now)
    if queued:
        transaction.on_commit(lambda: async_task("jobs.tasks.render_ahead", str(job_id), group=str(job_id),
                                                 task_name=f"render ahead {job_id} {now.timestamp():.3f}"))

