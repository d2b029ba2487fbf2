"""/healthz and /metrics, against real failures: the database down, no worker heartbeat."""
import json
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.test import Client

from jobs import services
from presets.models import Preset

pytestmark = pytest.mark.django_db(transaction=True)


def test_healthz_tells_anonymous_callers_the_status_only():
    """given: no worker heartbeat, and a caller who is not logged in and has no token
    then: 503 with the status alone: no checks, paths, versions, disk or queue state"""
    response = Client().get("/healthz")
    assert response.status_code == 503 and response.json() == {"status": "unhealthy"}


def test_healthz_names_a_missing_worker_heartbeat(staff_client):
    response = staff_client.get("/healthz")
    body = response.json()
    assert response.status_code == 503
    assert body["failing"] == ["workers"] and "qcluster" in body["checks"]["workers"]["detail"]
    assert body["checks"]["database"]["ok"] and body["checks"]["ffmpeg"]["ok"]


def test_healthz_is_healthy_once_a_worker_has_run_the_watchdog():
    from django_q.tasks import async_task

    async_task("jobs.tasks.watchdog", sync=True)  # what the scheduler hands a worker every minute
    response = Client().get("/healthz")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "ok"


def test_healthz_checks_the_object_store(object_store, settings, staff_client):
    """given: job files in the object store
    then: /healthz says the bucket answers; once STORAGE_URL names a bucket that is not there, it answers 503
    naming the store"""
    from django_q.tasks import async_task

    from mediaengine import env

    async_task("jobs.tasks.watchdog", sync=True)
    response = staff_client.get("/healthz")
    assert response.status_code == 200 and object_store.name in response.json()["checks"]["store"]["detail"]
    gone = object_store.url.replace(object_store.name, "no-such-bucket")
    settings.STORAGES = {**settings.STORAGES, "default": env.default_storage(env.storage_options(gone))}
    response = staff_client.get("/healthz")
    assert response.status_code == 503 and response.json()["failing"] == ["store"]
    assert "bucket does not exist" in response.json()["checks"]["store"]["detail"]


@pytest.mark.parametrize("database_url", ["postgres://postgres@127.0.0.1:1/nowhere",
                                          "sqlite:////nonexistent-folder/db.sqlite3"])
def test_healthz_names_a_database_that_is_down(database_url, tmp_path):
    code = ("import django, json; django.setup(); from django.test import Client; "
            "r = Client().get('/healthz', HTTP_HOST='localhost', HTTP_AUTHORIZATION='Bearer probe-token'); "
            "print(r.status_code); print(r.content.decode())")
    env = {**os.environ, "DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "mediaengine.settings.dev",
           "METRICS_TOKEN": "probe-token",
           "MEDIA_ROOT": str(tmp_path), "LOG_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", code], cwd=settings.BASE_DIR, env=env, capture_output=True,
                          text=True, timeout=60)
    status, body = done.stdout.strip().split("\n", 1)
    body = json.loads(body)
    assert status == "503"
    assert "database" in body["failing"] and "does not answer" in body["checks"]["database"]["detail"]
    assert body["checks"]["disk"]["ok"]


def test_metrics_counts_review_outcomes_and_failures(tiny_pipeline, preset, staff_user):
    def make(matchup):
        return services.job_create(preset=preset, inputs={"sport": "nfl", "matchup_id": matchup})

    services.job_approve(job_id=make("a1").pk, user=staff_user)
    services.job_approve(job_id=make("a2").pk, user=staff_user, adjustments={"text_scale": 1.2})
    services.job_skip_preview(job_id=make("a3").pk, user=staff_user)
    services.job_reject(job_id=make("a4").pk, user=staff_user, reason="off brand")
    make("fail-L2")
    text = Client().get("/metrics").content.decode()
    for kind in ("approved", "adjusted", "skipped", "rejected"):
        assert f'mediaengine_review_outcomes_30d{{outcome="{kind}"}} 1.0' in text
        assert f'mediaengine_reviews_total{{outcome="{kind}"}} 1.0' in text
    assert 'mediaengine_failures_30d{error_type="APIError",layer="L2"} 1.0' in text
    assert 'mediaengine_preview_seconds_30d{percentile="50"}' in text
    assert "mediaengine_approval_rate_30d 0.25" in text
    assert "mediaengine_jobs_created_total 5.0" in text
    assert_promtool_passes(text)


def assert_promtool_passes(text: str) -> None:
    """`promtool check metrics`, as a Prometheus operator checks an exporter (Debian's prometheus package)."""
    import shutil

    promtool = shutil.which("promtool")
    assert promtool, "promtool is not installed: `make test` installs Debian's prometheus package"
    done = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def metric_types(text: str) -> dict:
    from prometheus_client.parser import text_string_to_metric_families

    return {family.name: family.type for family in text_string_to_metric_families(text)}


def test_windowed_figures_are_gauges_and_counters_only_go_up(tiny_pipeline, preset, staff_user):
    """given: a job approved 40 days ago and one approved today
    then: the 30-day figures (gauges) count only today's; the counters count both, and every counter is a
    count of everything ever recorded"""
    from datetime import timedelta

    from django.utils import timezone

    from jobs.models import Job

    old = services.job_create(preset=preset, inputs={"sport": "nfl", "matchup_id": "old"})
    services.job_approve(job_id=old.pk, user=staff_user)
    Job.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=40))
    services.job_approve(job_id=services.job_create(preset=preset, inputs={
        "sport": "nfl", "matchup_id": "new"}).pk, user=staff_user)
    text = Client().get("/metrics").content.decode()
    assert 'mediaengine_review_outcomes_30d{outcome="approved"} 1.0' in text
    assert 'mediaengine_reviews_total{outcome="approved"} 2.0' in text
    assert "mediaengine_jobs_created_total 2.0" in text
    types = metric_types(text)
    assert {name for name, kind in types.items() if kind == "counter"} == {
        "mediaengine_jobs_created", "mediaengine_reviews", "mediaengine_renders_finished"}
    assert all(kind == "gauge" for name, kind in types.items() if name.endswith("_30d"))


def test_metrics_wants_the_token_when_one_is_set(settings):
    settings.METRICS_TOKEN = "scrape-me"
    assert Client().get("/metrics").status_code == 401
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-me").status_code == 200


def test_dashboard_draws_its_charts_on_the_server(tiny_pipeline, preset, staff_user):
    job = services.job_create(preset=preset, inputs={"sport": "nfl", "matchup_id": "d1"})
    services.job_approve(job_id=job.pk, user=staff_user)
    client = Client()
    client.force_login(staff_user)
    body = client.get("/studio/metrics/").content.decode()
    assert body.count("<svg class=\"chart\"") == 6 and "<script" not in body.split("<main>")[1]
    # each chart says what it is on its face, and has its axes and what its values are
    assert body.count('class="chart-title"') == 6 and 'y="16">Review outcomes, last 7 days</text>' in body
    assert 'rotate(-90)">jobs</text>' in body and body.count('class="axis"') >= 4  # outcomes: one approved
    assert "approval rate" in body and "100 %" in body


def test_the_job_page_shows_the_render_estimate(tiny_pipeline, preset, staff_user):
    done = services.job_create(preset=preset, inputs={"sport": "nfl", "matchup_id": "e1"})
    services.job_approve(job_id=done.pk, user=staff_user)
    waiting = services.job_create(preset=preset, inputs={"sport": "nfl", "matchup_id": "e2"})
    client = Client()
    client.force_login(staff_user)
    body = client.get(f"/studio/jobs/{waiting.pk}/").content.decode()
    assert "Expected render time: about" in body and "last 1 render " in body


def test_a_first_render_is_estimated_from_the_plans_length(tiny_pipeline, preset, staff_user):
    """A fresh install has no render of the preset to go by: the estimate comes from the piece's length (at the
    pace measured on a two-core machine), then from this install's own pace once anything has rendered."""
    from jobs.metrics import FIRST_RENDER_S_PER_VIDEO_S, render_estimate

    first = services.job_create(preset=preset, inputs={"sport": "nfl", "matchup_id": "e1"})
    client = Client()
    client.force_login(staff_user)
    body = client.get(f"/studio/jobs/{first.pk}/").content.decode()
    length = first.plan_versions.get(number=1).plan["duration"]
    assert "nothing has been rendered here yet" in body and f"{length:.1f} s of video" in body
    assert render_estimate(preset.pk, length)["seconds"] == pytest.approx(length * FIRST_RENDER_S_PER_VIDEO_S)
    services.job_approve(job_id=first.pk, user=staff_user)
    other = Preset.objects.create(slug="other", name="Other", kind=preset.kind, config=preset.config)
    estimate = render_estimate(other.pk, 2 * length)
    took = first.renders.get().duration_s
    assert estimate["basis"] == "install" and estimate["seconds"] == pytest.approx(2 * took, rel=0.05)
