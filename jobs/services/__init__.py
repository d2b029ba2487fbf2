"""Every write to jobs goes through these functions. Views, admin, tasks and commands call them."""
from jobs.services.collaboration import (
    NotInReview,
    comment_add,
    comment_resolve,
    draft_rollback,
    draft_save,
)
from jobs.services.delivery import RESCHEDULABLE, deliveries_overdue, delivery_reschedule, delivery_start
from jobs.services.errors import InvalidInput
from jobs.services.events import event_record, job_group
from jobs.services.recordings import recording_save
from jobs.services.render_ahead import render_ahead_idle, render_ahead_run
from jobs.services.review import (
    ARCHIVABLE,
    BUSY,
    DraftMoved,
    KickedOff,
    OddsMoved,
    job_approve,
    job_archive,
    job_cancel,
    job_create,
    job_reject,
    job_rerun,
    job_retry,
    job_skip_preview,
    odds_changes,
    plan_preview,
)
from jobs.services.runner import (
    current_pipeline,
    enqueue_layer,
    inline_queue,
    layer_help,
    layer_run,
    plan_ready,
    render_ahead_want,
    watchdog_run,
)
from jobs.services.state import FINAL, TRANSITIONS, IllegalTransition, job_transition

__all__ = [
    "ARCHIVABLE", "BUSY", "FINAL", "DraftMoved", "KickedOff", "NotInReview", "comment_add", "comment_resolve",
    "draft_rollback",
    "draft_save", "RESCHEDULABLE", "TRANSITIONS",
    "IllegalTransition", "InvalidInput", "OddsMoved", "current_pipeline",
    "enqueue_layer", "event_record", "inline_queue", "job_approve", "job_archive", "job_cancel", "job_create",
    "job_group",
    "job_reject", "job_rerun", "job_retry", "job_skip_preview", "job_transition", "layer_help", "layer_run",
    "odds_changes", "plan_preview", "plan_ready", "recording_save", "render_ahead_idle", "render_ahead_run",
    "render_ahead_want", "watchdog_run", "deliveries_overdue", "delivery_reschedule", "delivery_start",
]
