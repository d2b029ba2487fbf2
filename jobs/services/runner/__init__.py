"""The job runner: one layer of one job at a time, on django-q2 workers.

- `queueing`: the pipeline in force, layer and helper tasks queued once the transaction commits, the render-ahead
  wish, and the context a layer runs with;
- `inputs`: whether a layer may run now, and what it runs on;
- `claiming`: at most one attempt per layer, stale attempts given up, layer output caching;
- `executing`: running a claimed layer with its heartbeat, and recording the result;
- `advancing`: what follows a finished layer (the plan for review, the render's bookkeeping, the next layer);
- `watchdog`: stale heartbeats and lost tasks.
"""
from jobs.services.runner.advancing import plan_ready, save_assets
from jobs.services.runner.executing import layer_help, layer_run
from jobs.services.runner.inputs import gather_inputs, next_unfinished
from jobs.services.runner.queueing import (
    current_pipeline,
    enqueue_layer,
    inline_queue,
    layer_context,
    queue_render_ahead,
    render_ahead_want,
    running_inline,
    task_timeout,
)
from jobs.services.runner.watchdog import watchdog_run

__all__ = ["current_pipeline", "enqueue_layer", "gather_inputs", "inline_queue", "layer_context", "layer_help",
           "layer_run", "next_unfinished", "plan_ready", "queue_render_ahead", "render_ahead_want", "running_inline",
           "save_assets", "task_timeout", "watchdog_run"]
