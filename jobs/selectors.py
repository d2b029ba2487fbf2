"""Reads of jobs that more than one place needs (HackSoft's selectors): services, views and commands call these."""
from __future__ import annotations

import datetime as dt

from pydantic import ValidationError

from jobs.models import DraftRevision, Job, PlanVersion
from pipeline.contracts import DataPackage


def built_plan_version(job: Job) -> PlanVersion | None:
    """The newest plan the pipeline built for the job: after a re-run with fresh data, the fresh one.

    Adjustments always apply to it, and the review page, the odds check and the batch grid read it."""
    return job.plan_versions.filter(origin=PlanVersion.Origin.PIPELINE).order_by("-number").first()


def job_labels(job: Job):
    """How the job's pages name its scenes, layers and fields (pipeline/labels.py), from the plan as built; None
    before it has one."""
    from pipeline.contracts import RenderPlan
    from pipeline.labels import Labels

    built = built_plan_version(job)
    return Labels(RenderPlan.model_validate(built.plan)) if built else None


def approved_plan_version(job: Job) -> PlanVersion | None:
    """The version L6 renders: the newest one approved."""
    return job.plan_versions.filter(approved_at__isnull=False).order_by("-number").first()


def latest_plan_version(job: Job) -> PlanVersion | None:
    """The newest plan version, built or approved: what the review page shows."""
    return job.plan_versions.order_by("-number").first()


def plan_version(job: Job, number: int) -> PlanVersion | None:
    return job.plan_versions.filter(number=number).first()


def next_plan_number(job: Job) -> int:
    return (job.plan_versions.order_by("-number").values_list("number", flat=True).first() or 0) + 1


def latest_draft(job: Job) -> DraftRevision | None:
    """The job's shared review draft: its newest revision."""
    return job.draft_revisions.select_related("created_by").order_by("-number").first()


def game_data(job: Job) -> DataPackage | None:
    """What L1 read for the job; None before it has, or for a pipeline whose L1 reads no matchup (the operators'
    own, the test pipelines)."""
    run = job.layer_runs.filter(layer="L1", status__in=["done", "reused"]).order_by("-pk").first()
    if run is None:
        return None
    try:
        return DataPackage.model_validate(run.output)
    except ValidationError:
        return None


def game_timing(job: Job, now: dt.datetime | None = None) -> dict | None:
    """The game behind a job against its kick-off: whether it has started, and whether the post's slot is at or
    after the start (the one reading the job page's notice and approval's question share). None before L1 has
    read the game."""
    data = game_data(job)
    if data is None:
        return None
    now = now or dt.datetime.now(dt.UTC)
    kickoff = data.matchup.game_time
    return {"data": data, "title": f"{data.matchup.away.full_name} @ {data.matchup.home.full_name}",
            "kickoff": kickoff, "started": kickoff <= now,
            "after_kickoff": bool(job.publish_at and job.publish_at >= kickoff)}
