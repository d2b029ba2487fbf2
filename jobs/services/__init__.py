"""Every write to jobs goes through these functions. Views, admin, tasks and commands call them."""
from jobs.services.events import event_record, job_group
from jobs.services.layers import (
    current_pipeline,
    enqueue_layer,
    inline_queue,
    layer_help,
    layer_run,
    watchdog_run,
)
from jobs.services.review import (
    InvalidInput,
    job_approve,
    job_cancel,
    job_create,
    job_reject,
    job_retry,
    job_skip_preview,
    plan_preview,
    plan_ready,
)
from jobs.services.state import FINAL, TRANSITIONS, IllegalTransition, job_transition

__all__ = [
    "FINAL", "TRANSITIONS", "IllegalTransition", "InvalidInput", "current_pipeline", "enqueue_layer",
    "event_record", "inline_queue", "layer_help", "job_approve", "job_cancel", "job_create", "job_group",
    "job_reject", "job_retry",
    "job_skip_preview", "job_transition", "layer_run", "plan_preview", "plan_ready", "watchdog_run",
]
