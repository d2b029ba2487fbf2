"""The job machine's configuration checks (jobs/checks.py)."""
from jobs.checks import task_timeouts_below_retry
from jobs.services.layers import current_pipeline, task_timeout


def test_every_task_timeout_is_below_the_cluster_retry_as_shipped(settings):
    cluster = settings.Q_CLUSTER
    for spec in current_pipeline().layers:
        assert (task_timeout(spec) or cluster["timeout"]) < cluster["retry"], spec.name
    assert task_timeouts_below_retry(None) == []


def test_a_retry_below_the_render_timeout_is_an_error(settings):
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "retry": 960}
    errors = task_timeouts_below_retry(None)
    assert [e.id for e in errors] == ["jobs.E001"] and "L6" in errors[0].msg


def deploy_check(**env):
    """`manage.py check --deploy` with the production settings, as the deploy pipeline runs it."""
    import os
    import subprocess
    import sys

    from django.conf import settings

    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "mediaengine.settings.production",
                   "SECRET_KEY": "k" * 30 + "-production-like-secret-key-0123456789",
                   "ALLOWED_HOSTS": "media.example.com", **env}
    if "METRICS_TOKEN" not in env:
        environment.pop("METRICS_TOKEN", None)
    return subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                          cwd=settings.BASE_DIR, env=environment, capture_output=True, text=True, timeout=120)


def test_production_without_a_metrics_token_fails_the_deploy_check():
    """given: production settings with no METRICS_TOKEN
    then: the deploy check fails naming it; with a token it passes"""
    refused = deploy_check()
    assert refused.returncode != 0 and "jobs.E002" in refused.stderr and "METRICS_TOKEN" in refused.stderr
    passed = deploy_check(METRICS_TOKEN="a-long-random-token")
    assert passed.returncode == 0, passed.stderr
