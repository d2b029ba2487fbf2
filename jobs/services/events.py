"""The one event recorder: every JobEvent is made here and pushed to the job's socket group."""
from __future__ import annotations

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.db.models import F

from jobs.models import Job, JobEvent

logger = logging.getLogger("jobs")


STUDIO_GROUP = "studio"


def job_group(job_id) -> str:
    return f"job.{job_id}"


def studio_message(event: JobEvent) -> dict:
    """What the studio's job list receives: the event row's id (its cursor), the job and the change."""
    return {"id": event.pk, "job": str(event.job_id), "type": event.type, "payload": event.payload}


def event_record(*, job_id, type: str, payload: dict | None = None) -> JobEvent:
    """Record an event with the job's next sequence number; push it once the transaction commits.

    The UPDATE on the job row takes its lock until commit, so two writers can
    never get the same sequence number, on SQLite or PostgreSQL.
    """
    with transaction.atomic():
        Job.objects.filter(pk=job_id).update(last_event_seq=F("last_event_seq") + 1)
        seq = Job.objects.filter(pk=job_id).values_list("last_event_seq", flat=True).get()
        event = JobEvent.objects.create(job_id=job_id, seq=seq, type=type, payload=payload or {})
        message = event.as_message()
        pushes = [(job_group(job_id), {"type": "job.event", "event": message})]
        if type in STUDIO_TYPES:
            pushes.append((STUDIO_GROUP, {"type": "studio.event", "event": studio_message(event)}))
        transaction.on_commit(lambda: _push(pushes))
    return event


# The job list shows status, the current layer and open comments (its notifications); it does not need every
# progress tick.
STUDIO_TYPES = frozenset({"job.status", "job.created", "layer.started", "comment.added", "comment.resolved"})


def _push(pushes: list[tuple[str, dict]]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    for group, message in pushes:
        try:
            async_to_sync(layer.group_send)(group, message)
        except (OSError, ConnectionError) as exc:
            # The row is the record: a page that missed the push catches up from it on reconnect.
            logger.warning("could not push %s to %s: %s", message["type"], group, exc)
