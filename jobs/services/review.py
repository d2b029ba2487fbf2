"""Job lifecycle actions a person takes: create, approve, skip preview, reject, cancel, retry."""
from __future__ import annotations

import logging
import uuid

from django.db import transaction
from django.utils import timezone
from pydantic import ValidationError

from core.pipelines import current_pipeline
from jobs.files import job_files_fetch
from jobs.locks import job_for_update
from jobs.models import Job, Outcome, PlanVersion
from jobs.selectors import built_plan_version, game_timing, next_plan_number
from jobs.services.drafts import draft_commit, draft_state, who
from jobs.services.errors import InvalidInput
from jobs.services.events import event_record
from jobs.services.runner.queueing import enqueue_layer, layer_context
from jobs.services.state import IllegalTransition, job_transition
from pipeline.contracts import Adjustments, JobInputs, PresetConfig, RenderPlan
from pipeline.design import TextTooLong
from pipeline.plan import AdjustmentError, apply_adjustments
from presets.models import Preset

logger = logging.getLogger("jobs")
PUBLISH_UNREVIEWED = "jobs.publish_unreviewed"
S = Job.Status
# Statuses of jobs that need the workers more than a plan nobody has approved yet (the render ahead).
BUSY = (S.QUEUED, S.RUNNING, S.APPROVED, S.RENDERING)
def job_create(*, preset: Preset, inputs: dict, created_by=None, start: bool = True, variants: int = 1) -> Job:
    """Create a job from a preset and its inputs, and queue its first layer once committed.

    With `variants` of 2 or 3, sibling jobs are made for other copy and art from the same data; the
    first one is returned, and approving any one of them rejects the rest.
    """
    if variants not in (1, 2, 3):
        raise InvalidInput({"variants": ["ask for 1, 2 or 3 variants"]})
    try:
        parsed = JobInputs.model_validate(inputs)
    except ValidationError as exc:
        raise InvalidInput.from_validation(exc) from exc
    if not preset.active:
        raise InvalidInput({"preset": [f"preset {preset.slug!r} is not active"]})
    if parsed.auto_approve and created_by is not None and not created_by.has_perm(PUBLISH_UNREVIEWED):
        raise InvalidInput({"auto_approve": ["rendering without review is for a desk admin: leave it for a "
                                             "reviewer to approve, or ask for permission to publish without review"]})
    group = uuid.uuid4() if variants > 1 else None
    with transaction.atomic():
        made = []
        for variant in range(variants):
            data = parsed.model_copy(update={"variant": variant} if group else {}).model_dump(mode="json")
            job = Job.objects.create(preset=preset, inputs=data, created_by=created_by, variant_group=group)
            job.work_dir.mkdir(parents=True, exist_ok=True)
            event_record(job_id=job.pk, type="job.created", payload={"preset": preset.slug, "inputs": job.inputs})
            if start:
                enqueue_layer(job.pk, current_pipeline().first())
            made.append(job)
    return made[0]





def base_plan(job: Job) -> RenderPlan:
    """The plan as the pipeline last built it (after a re-run with fresh data, the fresh one).
    Adjustments are always applied to this, so they never compound."""
    built = built_plan_version(job)
    if built is None:
        raise InvalidInput({"plan": ["this job has no plan yet"]})
    return RenderPlan.model_validate(built.plan)


def parse_adjustments(adjustments: dict | None) -> Adjustments:
    try:
        return Adjustments.model_validate(adjustments or {})
    except ValidationError as exc:
        raise InvalidInput.from_validation(exc) from exc


def adjusted_plan(job: Job, adjustments: Adjustments) -> RenderPlan:
    try:
        # The design guard measures the pictures: this machine needs them (fetched once with object storage).
        return apply_adjustments(base_plan(job), adjustments, base_dir=job_files_fetch(job.pk))
    except AdjustmentError as exc:
        room = {exc.layer_id: exc.room} if isinstance(exc, TextTooLong) else None
        raise InvalidInput({exc.field or "adjustments": [exc.message]}, room=room) from exc


def plan_preview(*, job: Job, adjustments: dict | None) -> RenderPlan:
    """The plan with adjustments applied, saving nothing: what the review page draws while adjusting."""
    return adjusted_plan(job, parse_adjustments(adjustments))


class OddsMoved(Exception):
    """Lines shown in the plan have moved since L1 read them; the reviewer must confirm or re-run."""

    def __init__(self, changes: list[dict]) -> None:
        self.changes = changes
        super().__init__("; ".join(f"{c['label']}: {c['old']} -> {c['new']}" for c in changes))


def odds_changes(job: Job) -> list[dict]:
    """Read the L1 lines the plan shows again, from the same source; list those that moved."""
    from pipeline.contracts import DataPackage
    from pipeline.layers.l1_data import provider_for
    from pipeline.layers.l3_ideas.sources import resolve

    l1 = job.layer_runs.filter(layer="L1", status__in=["done", "reused"]).first()
    plan = base_plan(job)
    shown = {}
    for layer in plan.all_layers():
        for figure in getattr(layer, "sources", []):
            shown.setdefault(figure.field, (figure.value, layer.id, figure.text))
    if l1 is None or not shown:
        return []
    data = DataPackage.model_validate(l1.output)
    config = PresetConfig.model_validate(job.preset.config)
    options = config.providers.data.options if data.source == config.providers.data.name else {}
    ctx = layer_context(job.pk, "L1", job.work_dir)
    fresh = data.model_copy(update={"matchup": provider_for(data.source, options, ctx).matchup(data.matchup.id)})
    changes = []
    for field, (old, layer_id, text) in sorted(shown.items()):
        try:
            new = resolve(fresh, field)
        except (KeyError, IndexError, TypeError):
            new = None
        if new != old:
            changes.append({"field": field, "layer": layer_id, "label": text, "old": old, "new": new})
    return changes


def job_rerun(*, job_id, user=None) -> Job:
    """Run the job again from L1 with fresh data (after the odds moved); nothing cached before now is reused."""
    pipeline = current_pipeline()
    with transaction.atomic():
        job = job_for_update(job_id)
        if job is None:
            raise Job.DoesNotExist(job_id)
        now = timezone.now()
        job_transition(job, S.QUEUED, fresh_after=now, started_at=now, review_ready_at=None, preview_s=None,
                       review_outcome="", review_wait_s=None)
        job.layer_runs.filter(status__in=["done", "reused"]).update(status="superseded")
        event_record(job_id=job.pk, type="job.rerun", payload={"by": getattr(user, "username", ""),
                                                                "reason": "fresh data"})
        enqueue_layer(job.pk, pipeline.first(), pipeline=pipeline)
    return job


class KickedOff(Exception):
    """The game has kicked off, or will have when the post goes out: a pregame post goes out after the start only
    when the reviewer confirms it."""


def kickoff_warning(job: Job, now=None) -> str | None:
    """In words, why a pregame post of this job would go out after its game's start; None when it would not (or
    there is no game: an operator's own pipeline)."""
    timing = game_timing(job, now)
    if timing is None:
        return None
    title, kickoff = timing["title"], timing["kickoff"]
    if timing["started"]:
        return (f"{title} kicked off at {kickoff:%H:%M UTC on %-d %B}: this post would go out after the start. "
                "Approve anyway only if that is what you mean.")
    if timing["after_kickoff"]:
        return (f"{title} kicks off at {kickoff:%H:%M UTC on %-d %B}, before this post is due to go out "
                f"({job.publish_at:%H:%M UTC}). Move the delivery earlier, or approve anyway if that is what you mean.")
    return None


class DraftMoved(Exception):
    """Someone saved the shared draft after the approver's page last had it: what they would approve is
    not what everyone sees."""

    def __init__(self, number: int, by: str) -> None:
        self.number, self.by = number, by
        super().__init__(f"{by} changed the draft (now draft {number}) since your page last had it: "
                         "look at the preview again, then approve")


def job_approve(*, job_id, user, changes: dict | None = None, adjustments: dict | None = None,
                snapshots: dict | None = None, note: str = "", check_odds: bool = False,
                draft_seen: int | None = None, as_built: bool = False, check_kickoff: bool = False) -> PlanVersion:
    """Render the job's shared draft, as the server holds it: save it as a new, approved version and queue the
    render for exactly that version.

    `changes` are fields the approver changed and had not saved: they are merged into the draft as a save would
    merge them (and saved as a revision of it, so the draft is what was approved). `adjustments` (a whole set,
    from callers that hold no draft, like the batch grid's or the command line's) are merged the same way, field
    by field. With `draft_seen` (the draft number the approver's page shows), a newer draft raises DraftMoved
    and nothing is approved. `as_built` approves the plan exactly as the pipeline built it (skip preview).

    With `check_odds`, the lines on screen are read again first; if any moved, OddsMoved is raised
    and nothing is saved, so the reviewer can look and confirm (approve again without the check).
    """
    merging = {**parse_adjustments(adjustments).fields(), **(changes or {})}
    if draft_seen is not None and (not isinstance(draft_seen, int) or isinstance(draft_seen, bool)):
        raise InvalidInput({"draft": ["the draft number the page has, a whole number"]})
    pipeline = current_pipeline()
    if check_kickoff:
        job = Job.objects.filter(pk=job_id).first()
        if job is not None and job.status == S.AWAITING_REVIEW and (warning := kickoff_warning(job)):
            raise KickedOff(warning)
    if check_odds:
        job = Job.objects.select_related("preset").get(pk=job_id)
        if job.status == S.AWAITING_REVIEW and (changes_seen := odds_changes(job)):
            raise OddsMoved(changes_seen)
    with transaction.atomic():
        group = Job.objects.filter(pk=job_id).values_list("variant_group", flat=True).first()
        if group is not None:
            # All variants are locked first, in one order, so two reviewers approving two variants of
            # the same job at once queue up instead of deadlocking; the second then finds its job rejected.
            list(Job.objects.select_for_update().filter(variant_group=group).order_by("pk"))
        job = job_for_update(job_id)
        if job is None:
            raise Job.DoesNotExist(job_id)
        if job.status != S.AWAITING_REVIEW:
            raise IllegalTransition(job, S.APPROVED)
        # The row lock is held from here: no draft can be committed until this approval is (drafts.py).
        number, draft = draft_state(job)
        if draft_seen is not None and number > draft_seen:
            newest = job.draft_revisions.select_related("created_by").get(number=number)
            raise DraftMoved(number, who(newest.created_by))
        if as_built:
            parsed = Adjustments()
        else:
            try:
                parsed = draft.with_fields(merging)
            except ValidationError as exc:
                raise InvalidInput.from_validation(exc) from exc
            except ValueError as exc:
                raise InvalidInput({"changes": [str(exc)]}) from exc
        plan = adjusted_plan(job, parsed)
        if not as_built and parsed != draft:
            draft_commit(job=job, user=user, after=number, before=draft, merged=parsed, fields=list(merging),
                         note="saved at approval")
        number = next_plan_number(job)
        now = timezone.now()
        version = PlanVersion.objects.create(
            job=job, number=number, plan=plan.model_dump(mode="json"), adjustments=parsed.model_dump(mode="json"),
            created_by=user, approved_by=user, approved_at=now, snapshots=snapshots or {},
            note=note or ("approved as built" if parsed.is_empty() else "approved with adjustments"))
        if note == "preview skipped":
            outcome = Outcome.SKIPPED
        else:
            outcome = Outcome.APPROVED if parsed.is_empty() else Outcome.ADJUSTED
        job_transition(job, S.APPROVED, review_outcome=outcome,
                       review_wait_s=(now - job.review_ready_at).total_seconds() if job.review_ready_at else None)
        event_record(job_id=job.pk, type="plan.approved", payload={
            "version": number, "by": getattr(user, "username", ""), "adjusted": not parsed.is_empty()})
        if job.variant_group:
            _reject_other_variants(job, user)
        enqueue_layer(job.pk, pipeline.render_layer, pipeline=pipeline)
    return version


VARIANT_LOST = "variant"


def _reject_other_variants(job: Job, user) -> None:
    """Only the approved variant renders: the others still waiting for review are rejected."""
    siblings = (Job.objects.filter(variant_group=job.variant_group, status=S.AWAITING_REVIEW)
                .exclude(pk=job.pk).order_by("pk"))
    for sibling in siblings:
        job_transition(sibling, S.REJECTED, reject_reason=f"{VARIANT_LOST} {job.variant + 1} was approved instead")


def job_skip_preview(*, job_id, user) -> PlanVersion:
    """Approve the plan exactly as built, without looking (the plans' skip-preview)."""
    return job_approve(job_id=job_id, user=user, as_built=True, note="preview skipped")


def job_reject(*, job_id, user, reason: str) -> Job:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput({"reason": ["say why the plan is rejected"]})
    with transaction.atomic():
        job = job_for_update(job_id)
        if job is None:
            raise Job.DoesNotExist(job_id)
        job_transition(job, S.REJECTED, reject_reason=reason[:2000], review_outcome=Outcome.REJECTED)
        event_record(job_id=job.pk, type="plan.rejected", payload={"by": getattr(user, "username", ""),
                                                                    "reason": reason[:2000]})
    return job


# What the desk may put away: jobs that will not go out (an archived job is only out of the studio's list).
ARCHIVABLE = (S.FAILED, S.REJECTED, S.CANCELLED)


def job_archive(*, job_id, user, archived: bool = True) -> Job:
    """Put a failed, rejected or cancelled job out of the studio's list (or back in); its files and history stay."""
    with transaction.atomic():
        job = job_for_update(job_id)
        if job is None:
            raise Job.DoesNotExist(job_id)
        if archived and job.status not in ARCHIVABLE:
            raise InvalidInput({"archived": [f"only a failed, rejected or cancelled job can be archived; this one "
                                             f"is {job.get_status_display().lower()}"]})
        job.archived_at = timezone.now() if archived else None
        job.save(update_fields=["archived_at", "updated_at"])
        event_record(job_id=job.pk, type="job.archived" if archived else "job.unarchived",
                     payload={"by": getattr(user, "username", "")})
    return job


def job_cancel(*, job_id, user=None) -> Job:
    with transaction.atomic():
        job = job_for_update(job_id)
        if job is None:
            raise Job.DoesNotExist(job_id)
        job_transition(job, S.CANCELLED, current_layer="")
    return job


def job_retry(*, job_id, user=None) -> Job:
    """Run a failed job again from the layer that failed; earlier layers' outputs are kept."""
    pipeline = current_pipeline()
    with transaction.atomic():
        job = job_for_update(job_id)
        if job is None:
            raise Job.DoesNotExist(job_id)
        if job.status != S.FAILED:
            raise IllegalTransition(job, S.QUEUED)
        if not job.retryable:
            raise InvalidInput({"job": [f"the {job.failed_layer} error cannot be fixed by retrying: "
                                        f"{job.error_message}"]})
        layer = job.failed_layer or pipeline.first()
        target = S.APPROVED if pipeline.is_after_review(layer) else S.QUEUED
        job_transition(job, target, failed_layer="", error_type="", error_message="", retryable=False,
                       finished_at=None, started_at=timezone.now())
        enqueue_layer(job.pk, layer, pipeline=pipeline)
    return job
