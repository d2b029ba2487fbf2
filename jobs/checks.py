"""System checks for the job machine's configuration."""
from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, register


@register()
def task_timeouts_below_retry(app_configs, **kwargs) -> list[Error]:
    """Every task's timeout must be below django-q2's `retry`, or a task still running is delivered again."""
    from core.pipelines import current_pipeline
    from jobs.services.runner import task_timeout

    cluster = settings.Q_CLUSTER
    errors = []
    for spec in current_pipeline().layers:
        timeout = task_timeout(spec) or cluster["timeout"]
        if timeout >= cluster["retry"]:
            errors.append(Error(
                f"layer {spec.name}'s task timeout ({timeout} s) is not below Q_CLUSTER['retry'] "
                f"({cluster['retry']} s)",
                hint="raise the retry above the longest task timeout (LAYER_TIMEOUT_S, RENDER_TIMEOUT_S)",
                id="jobs.E001"))
    return errors


@register(deploy=True)
def metrics_need_a_token(app_configs, **kwargs) -> list[Error]:
    """In production /metrics shows the desk's figures (jobs, outcomes, failures): only to a scraper that
    holds METRICS_TOKEN."""
    if settings.METRICS_TOKEN:
        return []
    return [Error("METRICS_TOKEN is not set, so /metrics answers anyone",
                  hint="set METRICS_TOKEN in the environment and give the same bearer token to Prometheus "
                       "(authorization: credentials in its scrape config)", id="jobs.E002")]
