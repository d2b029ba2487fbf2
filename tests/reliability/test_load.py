"""The load test: 200 jobs through L5 to review and 20 of them rendered, on two clusters that share no folder,
with the job files in the object store. Run it on the production setup (PostgreSQL + Redis + an S3 server):

    RUN_LOAD=1 DATABASE_URL=postgres://... REDIS_URL=redis://... \
        .venv/bin/python -m pytest tests/reliability/test_load.py

Its figures (var/reliability/load.json) are in RELIABILITY.md and docs/scaling.md.
"""
import os
import statistics
import time

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from jobs import services
from jobs.metrics import percentile
from jobs.models import Job
from presets.models import Preset
from tests.reliability.test_scale_out import machines  # noqa: F401 - the fixture
from tests.reliability.test_workers import report

pytestmark = [pytest.mark.load, pytest.mark.django_db(transaction=True)]
# The figures by default; LOAD_JOBS / LOAD_RENDERS make a quick smaller run.
TO_REVIEW, TO_RENDER = int(os.environ.get("LOAD_JOBS", "200")), int(os.environ.get("LOAD_RENDERS", "20"))
WORKERS_PER_CLUSTER = int(os.environ.get("LOAD_WORKERS", "2"))


def test_200_jobs_to_review_and_20_renders_on_two_clusters(machines, object_store):  # noqa: F811
    """given: two clusters of two workers, no folder in common, the files in the object store
    when: 200 cold jobs (each its own date, nothing reused) are started at once, and the first 20 to reach
    review are approved as built
    then: all 200 reach review and the 20 are done, none lost; the figures are reported"""
    from django.contrib.auth import get_user_model

    from jobs.models import PlanVersion

    call_command("load_presets", verbosity=0)
    reviewer = get_user_model().objects.create_user("load-reviewer", is_staff=True)
    preset = Preset.objects.get(slug="reel_hype")
    started = time.monotonic()
    created = timezone.now()
    machines("a", "b", Q_WORKERS=WORKERS_PER_CLUSTER)
    ids = []
    for index in range(TO_REVIEW):
        job = services.job_create(preset=preset, start=False, inputs={
            "sport": "nfl", "source": "fixture", "date": (created.date() + timezone.timedelta(days=500 + index))
            .isoformat()})
        Job.objects.filter(pk=job.pk).update(fresh_after=timezone.now())  # cold: no output reused
        services.enqueue_layer(job.pk, services.current_pipeline().first())
        ids.append(job.pk)
    connection.close()
    approved, reviewed_at = [], {}
    deadline = time.monotonic() + 3600
    while time.monotonic() < deadline:
        services.watchdog_run()
        for job in Job.objects.filter(pk__in=ids, status=Job.Status.AWAITING_REVIEW).exclude(pk__in=approved):
            reviewed_at.setdefault(job.pk, time.monotonic())
            if len(approved) < TO_RENDER:
                services.job_approve(job_id=job.pk, user=reviewer, adjustments={})
                approved.append(job.pk)
        reached = Job.objects.filter(pk__in=ids, review_ready_at__isnull=False).count()
        done = Job.objects.filter(pk__in=approved, status=Job.Status.DONE).count()
        failed = Job.objects.filter(pk__in=ids, status=Job.Status.FAILED).count()
        if (reached + failed >= TO_REVIEW and done + Job.objects.filter(
                pk__in=approved, status=Job.Status.FAILED).count() >= len(approved) >= TO_RENDER):
            break
        time.sleep(1)
    elapsed = time.monotonic() - started
    jobs = list(Job.objects.filter(pk__in=ids))
    previews = [j.preview_s for j in jobs if j.preview_s is not None]
    last_review = max(j.review_ready_at for j in jobs if j.review_ready_at)
    approvals = dict(PlanVersion.objects.filter(job__in=approved, approved_by=reviewer)
                     .values_list("job", "approved_at"))
    renders = [(j.finished_at - approvals[j.pk]).total_seconds() for j in jobs if j.pk in approvals and j.finished_at]
    figures = {
        "jobs": len(jobs), "reached_review": len(previews), "approved": len(approved),
        "done": sum(j.status == Job.Status.DONE for j in jobs),
        "failed": [(str(j.pk)[:8], j.failed_layer, j.error_type, j.error_message[:200]) for j in jobs
                   if j.status == Job.Status.FAILED],
        "lost": [str(j.pk)[:8] for j in jobs if j.preview_s is None and j.status != Job.Status.FAILED],
        "jobs_to_review_per_minute": round(len(previews) / ((last_review - created).total_seconds() / 60), 1),
        "time_to_review_p50_s": round(percentile(previews, 50), 1),
        "time_to_review_p95_s": round(percentile(previews, 95), 1),
        "approve_to_done_median_s": round(statistics.median(renders), 1) if renders else None,
        "approve_to_done_max_s": round(max(renders), 1) if renders else None,
        "wall_s": round(elapsed, 1), "clusters": 2, "workers_per_cluster": WORKERS_PER_CLUSTER,
        "database": connection.vendor, "redis": bool(os.environ.get("REDIS_URL")), "cores": os.cpu_count(),
    }
    report("load", figures)
    assert figures["lost"] == [] and figures["failed"] == []
    assert figures["reached_review"] == TO_REVIEW and figures["done"] == TO_RENDER
