"""The job state machine. `job_transition` is the only code that changes `Job.status`."""
from __future__ import annotations

from django.utils import timezone

from jobs.models import Job
from jobs.services.events import event_record

S = Job.Status

TRANSITIONS: dict[str, frozenset[str]] = {
    S.QUEUED: frozenset({S.RUNNING, S.FAILED, S.CANCELLED}),
    S.RUNNING: frozenset({S.AWAITING_REVIEW, S.APPROVED, S.FAILED, S.CANCELLED}),
    # QUEUED again: the reviewer asked to re-run from L3 (for example after odds moved).
    S.AWAITING_REVIEW: frozenset({S.APPROVED, S.REJECTED, S.CANCELLED, S.QUEUED}),
    S.APPROVED: frozenset({S.RENDERING, S.FAILED, S.CANCELLED}),
    S.RENDERING: frozenset({S.DONE, S.SCHEDULED, S.FAILED, S.CANCELLED}),
    # Its slot came (or "deliver now"): L7 runs.
    S.SCHEDULED: frozenset({S.RENDERING, S.CANCELLED}),
    # A retry goes back to where the failed layer runs: before review (QUEUED) or after (APPROVED).
    S.FAILED: frozenset({S.QUEUED, S.APPROVED}),
    S.DONE: frozenset(),
    S.CANCELLED: frozenset(),
    S.REJECTED: frozenset(),
}
FINAL = frozenset(status for status, targets in TRANSITIONS.items() if not targets)


class IllegalTransition(Exception):
    def __init__(self, job: Job, target: str) -> None:
        self.job_id, self.current, self.target = job.pk, job.status, target
        allowed = ", ".join(sorted(TRANSITIONS[job.status])) or "nothing (it has ended)"
        super().__init__(f"job {job.pk} is {job.status}; it cannot become {target} (from here: {allowed})")


def job_transition(job: Job, target: str, **fields) -> Job:
    """Move a locked job to `target`, save the given fields with it, and record the change.

    Call it inside a transaction that holds the job's row lock (jobs.locks.job_for_update).
    """
    if target not in TRANSITIONS[job.status]:
        raise IllegalTransition(job, target)
    previous = job.status
    job.status = target
    now = timezone.now()
    if target in FINAL or target == S.FAILED:
        job.finished_at = now
        fields.setdefault("finished_at", now)
    for name, value in fields.items():
        setattr(job, name, value)
    job.save(update_fields=["status", "updated_at", *fields])
    event_record(job_id=job.pk, type="job.status", payload={"from": previous, "to": target, **{
        key: value for key, value in fields.items() if key in ("failed_layer", "error_type", "error_message",
                                                                "retryable", "reject_reason", "current_layer")}})
    return job
