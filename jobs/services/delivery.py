"""Delivery at the calendar slot: after L6 a job whose `publish_at` is still ahead waits, `scheduled`, and a
django-q2 schedule of its own starts L7 at that moment. The job page shows the time, changes it, or delivers
at once; the watchdog delivers a job whose slot passed while its schedule was lost."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django_q.models import Schedule

from core.pipelines import current_pipeline
from jobs.locks import job_for_update
from jobs.models import Job
from jobs.services.errors import InvalidInput
from jobs.services.events import event_record
from jobs.services.runner.queueing import enqueue_layer
from jobs.services.state import IllegalTransition, job_transition

logger = logging.getLogger("jobs")
S = Job.Status
DELIVER_TASK = "jobs.tasks.deliver"
# Before the render has finished the slot can still move; once delivered, it cannot.
RESCHEDULABLE = (S.QUEUED, S.RUNNING, S.AWAITING_REVIEW, S.APPROVED, S.RENDERING, S.SCHEDULED)


def _schedule_name(job_id) -> str:
    return f"deliver {job_id}"


def delivery_wait(job: Job) -> bool:
    """Called with the job locked when its render finished and a delivery layer follows: True (and the job
    is `scheduled`) when its slot is still ahead; False when it should be delivered now."""
    if job.publish_at is None or job.publish_at <= timezone.now():
        return False
    job_transition(job, S.SCHEDULED, current_layer="")
    Schedule.objects.update_or_create(name=_schedule_name(job.pk), defaults={
        "func": DELIVER_TASK, "args": repr(str(job.pk)), "schedule_type": Schedule.ONCE, "repeats": -1,
        "next_run": job.publish_at})
    event_record(job_id=job.pk, type="delivery.scheduled", payload={"publish_at": job.publish_at.isoformat()})
    return True


def delivery_start(*, job_id, user=None) -> Job:
    """Deliver now: the task at the slot, the watchdog, and the page's "deliver now" all end here."""
    pipeline = current_pipeline()
    with transaction.atomic():
        job = job_for_update(job_id)
        if job is None:
            raise Job.DoesNotExist(job_id)
        if job.status != S.SCHEDULED:
            if user is not None and job.status in RESCHEDULABLE:
                # Not rendered yet: it is delivered as soon as it is.
                job.publish_at = timezone.now()
                job.save(update_fields=["publish_at", "updated_at"])
                event_record(job_id=job.pk, type="delivery.now", payload={"by": user.get_username()})
                return job
            if user is not None:
                raise IllegalTransition(job, S.RENDERING)
            return job  # a late or repeated schedule: nothing left to deliver
        Schedule.objects.filter(name=_schedule_name(job.pk)).delete()
        delivery = pipeline.next_after(pipeline.render_layer)
        job_transition(job, S.RENDERING, current_layer=delivery)
        event_record(job_id=job.pk, type="delivery.started",
                     payload={"by": user.get_username() if user else "schedule"})
        enqueue_layer(job.pk, delivery, pipeline=pipeline)
    return job


# A receiver that is down or slow is tried again, later and later: after 1, 4, 16 and 64 minutes, then every 4
# hours, up to DELIVERY_ATTEMPTS attempts in all (about 18 hours), each through a django-q2 schedule of its own.
DELIVERY_ATTEMPTS = 8
REDELIVERY_MAX = timedelta(hours=4)


def redelivery_delay(attempt: int) -> timedelta:
    return min(REDELIVERY_MAX, timedelta(minutes=4 ** (attempt - 1)))


def delivery_retry_later(job: Job, error) -> bool:
    """Called with the job locked when its delivery failed: True (the job `scheduled` again, an event saying
    when) when the failure is one time may fix and attempts are left; False when the job should fail."""
    if not error.retryable or not getattr(error, "redeliver", True):
        return False
    attempt = job.events.filter(type="delivery.retry").count() + 1
    if attempt >= DELIVERY_ATTEMPTS:
        return False
    at = timezone.now() + redelivery_delay(attempt)
    job_transition(job, S.SCHEDULED, current_layer="")
    Schedule.objects.update_or_create(name=_schedule_name(job.pk), defaults={
        "func": DELIVER_TASK, "args": repr(str(job.pk)), "schedule_type": Schedule.ONCE, "repeats": -1,
        "next_run": at})
    event_record(job_id=job.pk, type="delivery.retry", payload={
        "attempt": attempt, "of": DELIVERY_ATTEMPTS, "error": error.describe(),
        "status": getattr(error, "status", None), "next_at": at.isoformat()})
    logger.warning("delivery attempt %s of job %s failed (%s); trying again at %s", attempt, job.pk,
                   error.describe(), at.isoformat())
    return True


def delivery_reschedule(*, job_id, publish_at: datetime, user) -> Job:
    """Move the job's slot. A time in the past is refused: that is "deliver now"."""
    if timezone.is_naive(publish_at):
        raise InvalidInput({"publish_at": ["give the time with its time zone"]})
    if publish_at <= timezone.now():
        raise InvalidInput({"publish_at": ["pick a time in the future, or deliver now"]})
    with transaction.atomic():
        job = job_for_update(job_id)
        if job is None:
            raise Job.DoesNotExist(job_id)
        if job.status not in RESCHEDULABLE:
            raise InvalidInput({"publish_at": [f"the job is {job.get_status_display().lower()}: its files were "
                                               "delivered or will not be"]})
        job.publish_at = publish_at
        job.save(update_fields=["publish_at", "updated_at"])
        Schedule.objects.filter(name=_schedule_name(job.pk)).update(next_run=publish_at)
        event_record(job_id=job.pk, type="delivery.rescheduled",
                     payload={"publish_at": publish_at.isoformat(), "by": user.get_username()})
    return job


def deliveries_overdue() -> list[str]:
    """Scheduled jobs whose slot passed without their schedule running (it was deleted, or the cluster was
    down past the slot and django-q2 does not catch up): delivered now. For the watchdog."""
    due = Job.objects.filter(status=S.SCHEDULED, publish_at__lte=timezone.now()).exclude(
        pk__in=[name.removeprefix("deliver ") for name in Schedule.objects.filter(
            func=DELIVER_TASK).values_list("name", flat=True)]).values_list("pk", flat=True)
    started = []
    for job_id in due:
        delivery_start(job_id=job_id)
        logger.warning("watchdog: job %s was past its slot with no schedule; delivering it now", job_id)
        started.append(str(job_id))
    return started
