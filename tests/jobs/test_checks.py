"""The job machine's configuration checks (jobs/checks.py)."""
from core.pipelines import current_pipeline
from jobs.checks import task_timeouts_below_retry
from jobs.services.runner import task_timeout


def test_every_task_timeout_is_below_the_cluster_retry_as_shipped(settings):
    cluster = settings.Q_CLUSTER
    for spec in current_pipeline().layers:
        assert (task_timeout(spec) or cluster["timeout"]) < cluster["retry"], spec.name
    assert task_timeouts_below_retry(None) == []


def test_a_retry_below_the_render_timeout_is_an_error(settings):
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "retry": 960}
    errors = task_timeouts_below_retry(None)
    assert [e.id for e in errors] == ["jobs.E001"] and "L6" in errors[0].msg

