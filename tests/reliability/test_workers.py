"""Real django-q2 clusters on the test database: workers killed, layers timing out, many jobs at once.

Heavy: these run in CI's PostgreSQL pass (RUN_HEAVY=1).
"""
import copy
import io
import json
import logging
import os
import random
import signal
import time
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Count

from jobs import services
from jobs.models import Job, LayerRun, Render
from jobs.services.state import FINAL
from pipeline.media import ffmpeg
from presets.models import Preset
from tests.fakes import upstream as fake
from tests.stack import Stack, children, server_env

pytestmark = [pytest.mark.heavy, pytest.mark.django_db(transaction=True)]
logger = logging.getLogger("tests.reliability")
REPORTS = Path(__file__).resolve().parents[2] / "var" / "reliability"
STALE_S = 3


@pytest.fixture
def clusters(tmp_path, settings, media_root, monkeypatch):
    """Start `count` qcluster processes sharing this test's database and media folder.

    The test process then only queues tasks (django-q2's sync mode is off): the clusters run them.
    """
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", False)
    stacks = []

    def start(count=1, **env):
        stack = Stack(server_env(media_root, tmp_path, HEARTBEAT_STALE_S=STALE_S, **env), tmp_path)
        for index in range(count):
            stack.start_cluster(f"worker{index}")
        stacks.append(stack)
        return stack

    yield start
    for stack in stacks:
        stack.stop()


@pytest.fixture
def small_batch_preset(db):
    call_command("load_presets", stdout=io.StringIO())
    config = copy.deepcopy(Preset.objects.get(slug="reel_hype").config)
    config["format"].update(width=360, height=640)
    config["segments"].update(props=1, hook=False)
    return Preset.objects.create(slug="small", name="Small", kind="reel", config=config)


def title(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def wait_until_final(ids, deadline_s, tick=lambda: None):
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        tick()
        if Job.objects.filter(pk__in=ids).exclude(status__in=FINAL | {Job.Status.FAILED}).count() == 0:
            return
        time.sleep(0.5)


def report(name: str, data: dict) -> None:
    REPORTS.mkdir(parents=True, exist_ok=True)
    (REPORTS / f"{name}.json").write_text(json.dumps(data, indent=2, default=str))
    logger.warning("%s: %s", name, data)


def test_workers_killed_at_random_moments(clusters, small_batch_preset):
    """given: twelve auto-approved jobs on two clusters
    when: workers are killed with SIGKILL in the middle of tasks, over twenty times
    then: no job is lost (each ends), at least ten of twelve are done, no layer's work or render is recorded
    twice, and every final file is whole"""
    stack = clusters(count=2)
    rng = random.Random(11)
    small_batch_preset.config["segments"]["props"] = 2
    small_batch_preset.save()
    games = ["buf-kc", "dal-phi", "cin-bal", "det-sf", "nyj-mia", "min-gb"]
    ids = [services.job_create(preset=small_batch_preset, inputs={
        "sport": "nfl", "auto_approve": True, "matchup_id": f"nfl-202611{day}-{game}"}).pk
        for day in (22, 23) for game in games][:12]
    connection.close()
    kills, next_kill = [], time.monotonic() + 1.0

    def tick():
        nonlocal next_kill
        services.watchdog_run(stale_after_s=STALE_S)  # what the scheduled watchdog does every minute
        if time.monotonic() >= next_kill and len(kills) < 22:
            # A worker in the middle of a task (django-q2 titles it "qcluster ... processing <task>").
            victims = [pid for process, _ in stack.processes.values() for pid in children(process.pid)
                       if "processing" in title(pid)]
            if victims:
                victim = rng.choice(victims)
                try:
                    os.kill(victim, signal.SIGKILL)
                    kills.append(time.monotonic())
                except ProcessLookupError:
                    pass
            next_kill = time.monotonic() + rng.uniform(0.6, 1.6)

    wait_until_final(ids, deadline_s=300, tick=tick)
    jobs = list(Job.objects.filter(pk__in=ids))
    lost = [j for j in jobs if j.status not in FINAL and j.status != Job.Status.FAILED]
    # recovery: from the last heartbeat of an abandoned attempt to the start of the next one
    recoveries = []
    for abandoned in LayerRun.objects.filter(job__in=ids, status=LayerRun.Status.ABANDONED):
        following = LayerRun.objects.filter(job=abandoned.job, layer=abandoned.layer,
                                            attempt__gt=abandoned.attempt).order_by("attempt").first()
        if following and abandoned.heartbeat_at:
            recoveries.append((following.started_at - abandoned.heartbeat_at).total_seconds())
    figures = {"jobs": len(jobs), "kills": len(kills), "lost_jobs": len(lost),
               "done": sum(j.status == Job.Status.DONE for j in jobs),
               "failed": [(str(j.pk)[:8], j.failed_layer, j.error_type) for j in jobs if j.status == "failed"],
               "abandoned_attempts": len(recoveries),
               "longest_recovery_s": round(max(recoveries), 2) if recoveries else 0.0}
    report("workers_killed", figures)
    assert len(kills) >= 20
    assert lost == []
    # and the product recovers, not just records: at least 10 of the 12 finish despite the kills
    assert figures["done"] >= 10, figures
    # no layer's work recorded twice, no two renders for one approval
    assert not LayerRun.objects.filter(job__in=ids, status__in=["done", "reused"]).values("job", "layer").annotate(
        n=Count("id")).filter(n__gt=1).exists()
    assert not Render.objects.filter(job__in=ids).values("plan_version").annotate(n=Count("id")).filter(
        n__gt=1).exists()
    # every final file that exists is whole
    for job in jobs:
        for final in job.work_dir.glob("L6/v*/final.mp4"):
            info = ffmpeg.read_back(final)
            assert not info.errors and info.frames, final
        if job.status == Job.Status.DONE:
            assert Render.objects.get(job=job).status == Render.Status.DONE


def test_a_layer_past_its_timeout_ends_failed_after_its_attempts(clusters, preset, settings):
    """given: a layer slower than the cluster's task timeout
    when: the job runs, with the watchdog ticking
    then: after LAYER_MAX_ATTEMPTS abandoned attempts the job fails at that layer with a retryable
    LayerTimeoutError, and the layers before it stay done"""
    settings.PIPELINE = {**settings.PIPELINE, "FACTORY": "tests.pipelines.tiny_pipeline"}
    clusters(count=1, LAYER_TIMEOUT_S=1, PIPELINE_FACTORY="tests.pipelines.tiny_pipeline")
    job = services.job_create(preset=preset, inputs={"sport": "nfl", "matchup_id": "slow-L2"})
    connection.close()
    wait_until_final([job.pk], deadline_s=120, tick=lambda: services.watchdog_run(stale_after_s=STALE_S))
    job.refresh_from_db()
    attempts = job.layer_runs.filter(layer="L2", status=LayerRun.Status.ABANDONED).count()
    report("timeouts", {"status": job.status, "error_type": job.error_type, "abandoned_attempts": attempts,
                        "message": job.error_message})
    assert job.status == Job.Status.FAILED and job.failed_layer == "L2"
    assert job.error_type == "LayerTimeoutError" and job.retryable
    assert attempts == settings.PIPELINE["LAYER_MAX_ATTEMPTS"]
    assert job.layer_runs.get(layer="L1").status == "done"


def test_ten_jobs_at_once_on_two_clusters(clusters, small_batch_preset, upstream, settings):
    """given: ten jobs reading a fake odds API, started at once
    when: two clusters run them
    then: all ten are done, all saw the same slate, and with Redis the slate was fetched once for all"""
    fake.serve_goatedbets(upstream)
    config = copy.deepcopy(small_batch_preset.config)
    config["providers"]["data"] = {"name": "goatedbets"}
    small_batch_preset.config = config
    small_batch_preset.save()
    clusters(count=2, GOATEDBETS_API_KEY="k", GOATEDBETS_BASE_URL=upstream.url)
    started = time.monotonic()
    ids = [services.job_create(preset=small_batch_preset, inputs={
        "sport": "nfl", "date": "2026-11-22", "auto_approve": True, "source": "goatedbets"}).pk for _ in range(10)]
    connection.close()
    wait_until_final(ids, deadline_s=300, tick=lambda: services.watchdog_run(stale_after_s=30))
    elapsed = time.monotonic() - started
    jobs = list(Job.objects.filter(pk__in=ids))
    slate_calls = [s for s in upstream.seen if s.path == f"/nfl/week/{fake.GB_WEEK}"]
    matchups = {json.dumps(LayerRun.objects.get(job=j, layer="L1").output["matchup"], sort_keys=True)
                for j in jobs if j.status == Job.Status.DONE}
    report("concurrency", {"jobs": len(jobs), "done": sum(j.status == "done" for j in jobs),
                           "seconds": round(elapsed, 1), "slate_requests": len(slate_calls)})
    assert all(j.status == Job.Status.DONE for j in jobs), [(j.status, j.error_message) for j in jobs]
    assert len(matchups) == 1  # every job saw the same slate
    if os.environ.get("REDIS_URL"):
        assert len(slate_calls) == 1  # one shared games cache: the slate was fetched once for all workers


def _wait_for(condition, timeout_s: float, what: str):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.25)
    pytest.fail(f"{what} within {timeout_s:.0f} s")


def test_a_busy_worker_still_gives_its_heartbeat(clusters):
    """given: one worker, busy with a task longer than the health check's patience for the watchdog, and no
    watchdog ever run
    then: /healthz's worker check is well, from the worker process's own heartbeat"""
    from django_q.tasks import async_task

    from jobs import health
    from jobs.models import WorkerBeat

    clusters(1, Q_WORKERS=1)
    async_task("time.sleep", 30, sync=False)
    _wait_for(lambda: WorkerBeat.objects.exists(), 30, "the busy worker gave no heartbeat")
    healthy, detail = health.check_workers()
    assert healthy and "beating" in detail, detail


def test_the_cluster_stops_in_seconds_while_it_renders_ahead(clusters, small_batch_preset):
    """given: a reel in review whose render ahead is running on the only worker
    when: the cluster is told to stop (SIGTERM, as the serve command and systemd send it)
    then: the render ahead gives way and the cluster is gone in seconds, its chunks so far kept for later"""
    from django_q.tasks import async_task

    with services.inline_queue() as queue:
        job = services.job_create(preset=Preset.objects.get(slug="reel_hype"), start=False,
                                  inputs={"sport": "nfl", "matchup_id": "nfl-20261122-buf-kc"})
        services.enqueue_layer(job.pk, services.current_pipeline().first())
        from jobs import tasks

        while queue:
            tasks.run_layer(*queue.pop(0))
    job.refresh_from_db()
    assert job.status == Job.Status.AWAITING_REVIEW, job.error_message
    Job.objects.filter(pk=job.pk).update(ahead_wanted="bench-wish", ahead_adjustments=None)
    stack = clusters(1, Q_WORKERS=1, RENDER_AHEAD=True)
    async_task("jobs.tasks.render_ahead", str(job.pk), sync=False)
    scenes = job.work_dir / "L6" / "scenes"
    _wait_for(lambda: scenes.is_dir() and any(scenes.iterdir()), 90, "the render ahead did not start")
    (process, _), = stack.processes.values()
    started = time.monotonic()
    os.kill(process.pid, signal.SIGTERM)
    process.wait(timeout=60)
    stopped_s = time.monotonic() - started
    job.refresh_from_db()
    assert job.ahead_done != job.ahead_wanted, "the render ahead finished first: nothing was measured"
    assert stopped_s < 15, f"the cluster took {stopped_s:.1f} s to stop"
