"""`manage.py bench metrics`: the dashboard and /metrics answering over a big desk's history.

It makes a throwaway database beside the configured one (Django's test database: `test_<name>` on
PostgreSQL, a file under var/ for SQLite), fills it with `jobs` jobs spread over 45 days in the shapes real
jobs leave (outcomes, failures, plan versions, renders), times each page several times through Django's
request handling, and drops the database again.
"""
from __future__ import annotations

import random
import statistics
import time
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client
from django.utils import timezone

from jobs.models import Job, Outcome, PlanVersion, Render

BATCH = 2000
DAYS = 45
OUTCOMES = [(Outcome.APPROVED, 0.62), (Outcome.ADJUSTED, 0.14), (Outcome.SKIPPED, 0.06), (Outcome.REJECTED, 0.08),
            (Outcome.AUTO, 0.10)]
FAILURES = [("L1", "APIError"), ("L4", "AudioGenerationError"), ("L5", "MediaGenerationError"), ("L6", "RenderError")]


def fill(count: int, seed: int = 7) -> None:
    from presets.models import Preset

    rng = random.Random(seed)
    preset = Preset.objects.create(slug="bench-metrics", name="Bench metrics", kind="reel", config={})
    now = timezone.now()
    for start in range(0, count, BATCH):
        jobs, moments, plans, renders = [], [], [], []
        for _ in range(min(BATCH, count - start)):
            created = now - timedelta(seconds=rng.uniform(0, DAYS * 86400))
            job = Job(preset=preset, inputs={"sport": "nfl"}, created_at=created)
            if rng.random() < 0.05:
                job.status = Job.Status.FAILED
                job.failed_layer, job.error_type = rng.choice(FAILURES)
            else:
                job.preview_s = rng.lognormvariate(0.7, 0.35)
                job.review_ready_at = created + timedelta(seconds=job.preview_s)
                job.review_outcome = rng.choices([o for o, _ in OUTCOMES], [w for _, w in OUTCOMES])[0]
                if job.review_outcome in (Outcome.APPROVED, Outcome.ADJUSTED, Outcome.SKIPPED):
                    job.review_wait_s = rng.expovariate(1 / 900)
                job.status = Job.Status.REJECTED if job.review_outcome == Outcome.REJECTED else Job.Status.DONE
            jobs.append(job)
            moments.append(created)
        Job.objects.bulk_create(jobs)
        # auto_now_add set created_at to now: put each job back at its moment.
        for job, created in zip(jobs, moments, strict=True):
            job.created_at = created
        Job.objects.bulk_update(jobs, ["created_at"])
        for job in jobs:
            if job.status == Job.Status.DONE:
                plans.append(PlanVersion(job=job, number=1, plan={}, approved_at=job.review_ready_at))
        PlanVersion.objects.bulk_create(plans)
        for plan in plans:
            duration = rng.lognormvariate(3.4, 0.3)
            renders.append(Render(job_id=plan.job_id, plan_version=plan, status=Render.Status.DONE,
                                  duration_s=duration, finished_at=plan.approved_at + timedelta(seconds=duration)))
        Render.objects.bulk_create(renders)
        for render in renders:  # auto_now_add again
            render.started_at = render.finished_at - timedelta(seconds=render.duration_s)
        Render.objects.bulk_update(renders, ["started_at"])


def timed(client: Client, url: str, runs: int, **headers) -> list[float]:
    times = []
    for _ in range(runs + 1):
        started = time.perf_counter()
        response = client.get(url, **headers)
        times.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise CommandError(f"{url} answered {response.status_code}")
    return times[1:]  # the first request warms the caches and connections up


def run(jobs: int, runs: int) -> dict:
    old_name = connection.settings_dict["NAME"]
    if connection.vendor == "sqlite":
        connection.settings_dict["TEST"]["NAME"] = str(settings.BASE_DIR / "var" / "bench-metrics.sqlite3")
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        started = time.perf_counter()
        fill(jobs)
        with connection.cursor() as cursor:
            # What autovacuum (PostgreSQL) or `PRAGMA optimize` (SQLite) would have done to a table that grew over
            # 45 days: planner statistics, and PostgreSQL's visibility map for index-only scans.
            cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
        filled_s = time.perf_counter() - started
        user = get_user_model().objects.create_superuser("bench", password=None, email="")
        client = Client(HTTP_HOST="127.0.0.1")  # a host the settings allow
        client.force_login(user)
        dashboard = timed(client, "/studio/metrics/", runs)
        token = settings.METRICS_TOKEN
        metrics = timed(client, "/metrics", runs, **({"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}))
        in_window = Job.objects.filter(created_at__gte=timezone.now() - timedelta(days=30)).count()
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
    return {"jobs": jobs, "jobs_in_30_days": in_window, "database": connection.vendor, "runs": runs,
            "dashboard_ms": round(statistics.median(dashboard), 1), "dashboard_max_ms": round(max(dashboard), 1),
            "metrics_ms": round(statistics.median(metrics), 1), "metrics_max_ms": round(max(metrics), 1),
            "fill_s": round(filled_s, 1), "goals": {"dashboard_ms": 300, "metrics_ms": 100}}
