"""L2's calendar at the desk: batch jobs for every matchup in a date range."""
from __future__ import annotations

import datetime as dt

from jobs.files import scratch_root
from jobs.models import Job
from jobs.services.review import job_create
from jobs.services.runner.queueing import layer_context
from pipeline.contracts import PresetConfig, Sport
from pipeline.layers.l1_data import list_slate
from presets.models import Preset

LIVE = [Job.Status.QUEUED, Job.Status.RUNNING, Job.Status.AWAITING_REVIEW, Job.Status.APPROVED,
        Job.Status.RENDERING, Job.Status.DONE]


def slate_for(*, preset: Preset, sport: str, date: dt.date, source: str = ""):
    """The matchups the preset's data source lists for a date (the studio's picker uses this too)."""
    config = PresetConfig.model_validate(preset.config)
    name = source or config.providers.data.name
    ctx = layer_context("calendar", "L1", scratch_root() / "calendar")
    return list_slate(name, config.providers.data.options, ctx, sport=sport, date=date)


def calendar_plan(*, preset: Preset, start: dt.date, end: dt.date, sports: list[str] | None = None,
                  created_by=None) -> list[Job]:
    """Create a batch job per matchup per day, skipping matchups that already have a live job for this preset."""
    if end < start:
        raise ValueError("the range ends before it starts")
    created = []
    day = start
    while day <= end:
        slot = 0  # each of the day's pieces opens with its own hook (the copywriter takes the slot's)
        for sport in sports or [s.value for s in (Sport.NFL, Sport.NBA)]:
            for matchup in slate_for(preset=preset, sport=sport, date=day).matchups:
                slot += 1
                if Job.objects.filter(preset=preset, inputs__matchup_id=matchup.id, status__in=LIVE).exists():
                    continue
                created.append(job_create(preset=preset, created_by=created_by, inputs={
                    "sport": sport, "date": day.isoformat(), "matchup_id": matchup.id, "batch": True,
                    "slot": slot - 1}))
        day += dt.timedelta(days=1)
    return created
