"""The desk on one job together: the shared review draft, rolling it back, comments, and who has the job open.

The draft is the adjustments everyone on the job's page sees. Each save sends only the fields its reviewer
changed; the server merges them into the newest draft, the later write winning field by field, and both
sides are told whose change was replaced. Every save and comment is a job event, so every open page (on any
web process) receives it over the job's socket, and a page that reconnects catches up. Presence is not an
event of the job's record: it is a row per open socket, which the job's socket consumer pushes to the job's
and the studio's groups.
"""
from __future__ import annotations

import math
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from pydantic import ValidationError

from jobs.locks import job_for_update
from jobs.models import Comment, DraftRevision, Job, Viewer
from jobs.selectors import latest_plan_version, plan_version
from jobs.services.drafts import (
    DraftConflict,
    NotInReview,
    draft_commit,
    draft_state,
    in_review_for_update,
    who,
)
from jobs.services.errors import InvalidInput
from jobs.services.events import event_record
from jobs.services.review import adjusted_plan
from jobs.services.runner.queueing import render_ahead_want
from pipeline.contracts import Adjustments, RenderPlan

S = Job.Status

MAX_FIELDS = 200
COMMENT_MAX = 1000
# A viewer's row is touched every VIEWER_TOUCH_S while its socket is open; one older than VIEWER_STALE is a
# socket whose process died without saying goodbye.
VIEWER_TOUCH_S = 20
VIEWER_STALE = timedelta(seconds=60)


def _who(user) -> str:
    return who(user)


def draft_adjustments(job: Job) -> Adjustments:
    """The shared draft's adjustments (none yet: the plan as built)."""
    return draft_state(job)[1]


def _parse_changes(changes) -> dict:
    if not isinstance(changes, dict) or not changes:
        raise InvalidInput({"changes": ["send the fields you changed, as an object of field name to value"]})
    if len(changes) > MAX_FIELDS:
        raise InvalidInput({"changes": [f"at most {MAX_FIELDS} fields in one save"]})
    return changes


def merge_changes(before: Adjustments, changes: dict) -> Adjustments:
    """The draft with one reviewer's changed fields merged in, as a save merges them; InvalidInput in words."""
    try:
        return before.with_fields(changes)
    except ValidationError as exc:
        raise InvalidInput.from_validation(exc) from exc
    except ValueError as exc:
        raise InvalidInput({"changes": [str(exc)]}) from exc


# A save that lost the compare-and-set computes again from the newer draft; this many tries cover 30 reviewers
# saving one job within the same half second.
SAVE_TRIES = 40


def draft_save(*, job_id, user, changes, seen) -> tuple[DraftRevision, RenderPlan, list[dict]]:
    """Merge one reviewer's changed fields into the job's draft and tell everyone on the page.

    `seen` is the draft number the reviewer's page last had: a field someone else saved after it is replaced
    (last write wins) and named in the answer and the event, so both reviewers see whose change went.
    Refused wording (the design guard) saves nothing. The plan is built with no lock held; the revision is
    committed with a compare-and-set on its number, computed again when someone else was first
    (jobs/services/drafts.py). Returns the new revision, its plan, what it replaced."""
    changes = _parse_changes(changes)
    if not isinstance(seen, int) or isinstance(seen, bool) or seen < 0:
        raise InvalidInput({"seen": ["the draft number the page has, a whole number >= 0"]})
    for _ in range(SAVE_TRIES):
        job = Job.objects.select_related("preset").filter(pk=job_id).first()
        if job is None:
            raise Job.DoesNotExist(job_id)
        if job.status != S.AWAITING_REVIEW:
            raise NotInReview(job)
        number, before = draft_state(job)
        merged = merge_changes(before, changes)
        plan = adjusted_plan(job, merged)
        replaced = {}
        for later in job.draft_revisions.filter(number__gt=seen).exclude(created_by=user).order_by("number"):
            for field in later.fields:
                if field in changes:
                    replaced[field] = _who(later.created_by)
        overwrote = [{"field": field, "by": by} for field, by in sorted(replaced.items())]
        try:
            with transaction.atomic():
                job = in_review_for_update(job_id)
                draft = draft_commit(job=job, user=user, after=number, before=before, merged=merged,
                                     fields=list(changes), event={"overwrote": overwrote}, coalesce=True)
                render_ahead_want(job.pk, draft.adjustments if not merged.is_empty() else None)
        except DraftConflict:
            continue
        return draft, plan, overwrote
    raise InvalidInput({"changes": ["the draft kept changing while this was saved; save again"]})


def draft_rollback(*, job_id, user, version: int | None = None, draft: int | None = None) -> DraftRevision:
    """Make an earlier plan version's (or draft revision's) adjustments the current draft again.

    The new revision says in words what the rollback changed, and who did it; the audit trail is the job's
    events."""
    if (version is None) == (draft is None):
        raise InvalidInput({"version": ["name one plan version or one draft revision to go back to"]})
    for name, value in (("version", version), ("draft", draft)):
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
            raise InvalidInput({name: ["a plan version or draft number, a whole number >= 1"]})
    with transaction.atomic():
        job = in_review_for_update(job_id)
        if version is not None:
            source = plan_version(job, version)
            label = f"plan version {version}"
        else:
            source = DraftRevision.objects.filter(job=job, number=draft).first()
            label = f"draft {draft}"
        if source is None:
            raise InvalidInput({"version" if version is not None else "draft": [f"this job has no {label}"]})
        number, before = draft_state(job)
        target = Adjustments.model_validate(source.adjustments or {})
        adjusted_plan(job, target)  # still passes the design guard (the plan may have been re-run since)
        fields = sorted(set(before.fields()) | set(target.fields()))
        revision = draft_commit(job=job, user=user, after=number, before=before, merged=target, fields=fields,
                                note=f"rolled back to {label}"[:200], event={"rollback": label})
        render_ahead_want(job.pk, revision.adjustments if not target.is_empty() else None)
    return revision


# ---------------------------------------------------------------------------------------------- comments


def comment_payload(comment: Comment) -> dict:
    return {"id": comment.pk, "at_s": comment.at_s, "layer": comment.layer_id, "text": comment.text,
            "by": _who(comment.author), "created_at": comment.created_at.isoformat() if comment.created_at else None,
            "resolved_by": _who(comment.resolved_by) if comment.resolved_at else "",
            "resolved_at": comment.resolved_at.isoformat() if comment.resolved_at else None}


def _plan_of(job: Job) -> RenderPlan | None:
    version = latest_plan_version(job)
    return RenderPlan.model_validate(version.plan) if version else None


def comment_add(*, job_id, user, at_s, text, layer_id="") -> Comment:
    """Pin a comment to a moment (seconds) and optionally a layer of the job's plan."""
    errors: dict[str, list[str]] = {}
    if not isinstance(text, str) or not text.strip():
        errors["text"] = ["write the comment"]
    elif len(text) > COMMENT_MAX:
        errors["text"] = [f"at most {COMMENT_MAX} characters"]
    if isinstance(at_s, bool) or not isinstance(at_s, (int, float)) or not math.isfinite(at_s) or at_s < 0:
        errors["at_s"] = ["the moment in seconds, a number >= 0"]
    if not isinstance(layer_id, str):
        errors["layer"] = ["a layer id of the plan, or nothing"]
    if errors:
        raise InvalidInput(errors)
    # No row lock while the plan is read: the event's sequence number takes it for the moment of the insert.
    with transaction.atomic():
        job = Job.objects.filter(pk=job_id).first()
        if job is None:
            raise Job.DoesNotExist(job_id)
        plan = _plan_of(job)
        if plan is None:
            raise InvalidInput({"job": ["this job has no plan to comment on yet"]})
        if at_s > plan.duration:
            raise InvalidInput({"at_s": [f"the piece is {plan.duration:.1f} s long"]})
        if layer_id and layer_id not in {layer.id for layer in plan.all_layers()}:
            raise InvalidInput({"layer": [f"the plan has no layer {layer_id[:80]!r}"]})
        comment = Comment.objects.create(job=job, at_s=float(at_s), layer_id=layer_id, text=text.strip(),
                                         author=user)
        event_record(job_id=job.pk, type="comment.added", payload=comment_payload(comment))
    return comment


def comment_resolve(*, job_id, comment_id, user) -> Comment:
    """Mark a comment resolved (anyone may); resolving it again changes nothing."""
    with transaction.atomic():
        job = job_for_update(job_id)
        if job is None:
            raise Job.DoesNotExist(job_id)
        comment = Comment.objects.select_for_update().filter(job=job, pk=comment_id).first()
        if comment is None:
            raise InvalidInput({"comment": ["this job has no such comment"]})
        if comment.resolved_at is None:
            comment.resolved_at, comment.resolved_by = timezone.now(), user
            comment.save(update_fields=["resolved_at", "resolved_by"])
            event_record(job_id=job.pk, type="comment.resolved", payload=comment_payload(comment))
    return comment


# ---------------------------------------------------------------------------------------------- presence


def viewers_of(job_ids) -> dict[str, list[str]]:
    """Who has each of these jobs open now: usernames, in the order they came."""
    fresh = timezone.now() - VIEWER_STALE
    found: dict[str, list[str]] = {}
    rows = (Viewer.objects.filter(job_id__in=list(job_ids), seen_at__gte=fresh)
            .order_by("pk").values_list("job_id", "user__username"))
    for job_id, username in rows:
        names = found.setdefault(str(job_id), [])
        if username not in names:
            names.append(username)
    return found


def viewer_join(*, job_id, user, channel_name: str) -> list[str]:
    """Record an open socket on the job; returns who has it open now (the consumer pushes it)."""
    Viewer.objects.update_or_create(channel_name=channel_name,
                                    defaults={"job_id": job_id, "user": user, "seen_at": timezone.now()})
    return viewers_of([job_id]).get(str(job_id), [])


def viewer_touch(*, channel_name: str) -> None:
    Viewer.objects.filter(channel_name=channel_name).update(seen_at=timezone.now())


def viewers_expire() -> int:
    """Delete the rows of sockets nobody refreshed for VIEWER_STALE (their consumer ended without leaving: a
    crash, a killed handler, a machine gone). The watchdog runs it every minute; they are not shown meanwhile."""
    deleted, _ = Viewer.objects.filter(seen_at__lt=timezone.now() - VIEWER_STALE).delete()
    return deleted


def viewer_leave(*, job_id, channel_name: str) -> list[str]:
    Viewer.objects.filter(channel_name=channel_name).delete()
    # Rows of sockets whose process died are cleared by whoever leaves next.
    Viewer.objects.filter(seen_at__lt=timezone.now() - VIEWER_STALE * 10).delete()
    return viewers_of([job_id]).get(str(job_id), [])
