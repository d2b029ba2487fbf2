"""L2's calendar at the desk: batch jobs for every matchup in a date range."""
from __future__ import annotations

import datetime as dt

from jobs.files import scratch_root
from jobs.models import Job
from jobs.services.review import job_create
from jobs.services.runner.queueing import layer_context
from pipeline.contracts import PresetConfig, Sport
from pipeline.layers.l1_data import first_game, list_slate, provider_for
from presets.models import Preset

LIVE = [Job.Status.QUEUED, Job.Status.RUNNING, Job.Status.AWAITING_REVIEW, Job.Status.APPROVED,
        Job.Status.RENDERING, Job.Status.DONE]


def slate_for(*, preset: Preset, sport: str, date: dt.date, source: str = ""):
    """The matchups the preset's data source lists for a date (the studio's picker uses this too)."""
    config = PresetConfig.model_validate(preset.config)
    name = source or config.providers.data.name
    ctx = layer_context("calendar", "L1", scratch_root() / "calendar")
    return list_slate(name, config.providers.data.options, ctx, sport=sport, date=date)


def matchup_to_start(*, preset: Preset, sport: str, date: dt.date | None, matchup_id: str = ""):
    """The matchup a job started with these inputs will be about (L1's own rule: the named one, else the day's
    first game that has not kicked off), or None when the source lists no game that day. Raises PipelineError
    when the source cannot say."""
    config = PresetConfig.model_validate(preset.config)
    if matchup_id:
        ctx = layer_context("calendar", "L1", scratch_root() / "calendar")
        return provider_for(config.providers.data.name, config.providers.data.options, ctx).matchup(matchup_id)
    matchups = slate_for(preset=preset, sport=sport, date=date).matchups
    return first_game(matchups, dt.datetime.now(dt.UTC)) if matchups else None


def is_sample(source: str) -> bool:
    """Whether a data source is the shipped sample slate (the same games and odds for any date), not real data."""
    return source == "fixture"


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
