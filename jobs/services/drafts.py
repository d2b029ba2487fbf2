"""The shared draft's record: reading it, and committing a new revision of it.

Drafts are cumulative: revision N holds every field merged up to N, so the newest revision is the draft, and a
page that holds revision N holds everything saved before it. A revision is committed with a compare-and-set on
its number (unique per job): a writer that computed from revision N inserts N+1 or, if someone was first,
computes again from the newer one. No lock is held while a plan is built; the job row is locked only for the
moment of the insert, so approval (which holds it while it reads the draft) and a save never cross.
"""
from __future__ import annotations

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from jobs.locks import job_for_update
from jobs.models import DraftRevision, Job
from jobs.selectors import job_labels, latest_draft
from jobs.services.events import event_record
from pipeline.contracts import Adjustments
from pipeline.contracts.adjustments import describe_changes

S = Job.Status


class NotInReview(Exception):
    """The job has left review (approved, rejected, re-run): its draft and plan can no longer change."""

    def __init__(self, job: Job) -> None:
        self.status = job.status
        super().__init__(f"the job is {job.get_status_display().lower()}, not waiting for review: "
                         "its draft can no longer change (reload the page)")


class DraftConflict(Exception):
    """Someone committed the revision this writer wanted to; it computes again from theirs."""


def who(user) -> str:
    return getattr(user, "username", "") or "someone"


def draft_payload(draft: DraftRevision | None) -> dict:
    """The draft as the review page receives it, on load, with every save's answer and event."""
    if draft is None:
        return {"number": 0, "adjustments": Adjustments().model_dump(mode="json"), "by": "", "fields": []}
    return {"number": draft.number, "adjustments": draft.adjustments, "fields": draft.fields,
            "by": who(draft.created_by), "note": draft.note,
            "at": draft.created_at.isoformat() if draft.created_at else None}


def draft_state(job: Job) -> tuple[int, Adjustments]:
    """(number, adjustments) of the job's draft as it is now: (0, none) before anyone saved one."""
    current = latest_draft(job)
    return (current.number, Adjustments.model_validate(current.adjustments)) if current else (0, Adjustments())


def in_review_for_update(job_id) -> Job:
    """The job, locked for the rest of the transaction, while it waits for review (its draft may change)."""
    job = job_for_update(job_id)
    if job is None:
        raise Job.DoesNotExist(job_id)
    if job.status != S.AWAITING_REVIEW:
        raise NotInReview(job)
    return job


# A reviewer's saves closer together than this are one draft: typing that pauses now and then made eleven
# drafts in 25 s, and the history read like a keylogger.
COALESCE_S = 15


def draft_commit(*, job: Job, user, after: int, before: Adjustments, merged: Adjustments, fields: list[str],
                 note: str = "", event: dict | None = None, coalesce: bool = False) -> DraftRevision:
    """Insert revision `after + 1` with `merged`, and its draft.saved event, inside the caller's transaction
    (which holds the job's row lock). DraftConflict when revision `after` is no longer the newest.

    With `coalesce`, when revision `after` is this reviewer's own plain save made less than COALESCE_S ago (nobody
    saved since), the new revision takes its place: it names both saves' fields and what changed since the
    revision before them, and `after` is removed (the event says `replaces`, so pages drop it from their
    history). Numbers still only go up, so a page holding `after` sees the new draft as newer, as it is."""
    newest = DraftRevision.objects.filter(job=job).order_by("-number").first()
    if (newest.number if newest else 0) != after:
        raise DraftConflict(newest.number if newest else 0)
    replaces = None
    if (coalesce and newest is not None and not newest.note and user is not None and newest.created_by_id == user.pk
            and timezone.now() - newest.created_at < timedelta(seconds=COALESCE_S)):
        replaces = newest
        fields = sorted({*fields, *newest.fields})
        earlier = DraftRevision.objects.filter(job=job, number__lt=after).order_by("-number").first()
        before = Adjustments.model_validate(earlier.adjustments) if earlier else Adjustments()
    try:
        with transaction.atomic():
            revision = DraftRevision.objects.create(job=job, number=after + 1, fields=sorted(fields), note=note,
                                                    adjustments=merged.model_dump(mode="json"), created_by=user)
    except IntegrityError as exc:
        raise DraftConflict(after + 1) from exc
    if replaces is not None:
        replaces.delete()
    event_record(job_id=job.pk, type="draft.saved", payload={
        **draft_payload(revision), "overwrote": [], "changes": describe_changes(before, merged, job_labels(job)),
        "replaces": replaces.number if replaces is not None else None, **(event or {})})
    return revision
