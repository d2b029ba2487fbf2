"""L1 data: the matchup a job is about, with teams, lines and player props."""
from __future__ import annotations

import datetime as dt

from pipeline.context import LayerContext
from pipeline.contracts import DataPackage, Matchup, Slate
from pipeline.errors import ConfigurationError, DataError
from pipeline.layers.l1_data import balldontlie, fixture, goatedbets, prediction
from pipeline.registry import LayerInput

PROVIDERS = {
    "fixture": fixture.FixtureData,
    "balldontlie": balldontlie.BallDontLie,
    "goatedbets": goatedbets.GoatedBets,
}


def provider_for(name: str, options: dict, ctx: LayerContext):
    try:
        factory = PROVIDERS[name]
    except KeyError:
        raise ConfigurationError(f"unknown data source {name!r} (known: {', '.join(PROVIDERS)})",
                                 layer="L1", field="providers.data.name") from None
    return factory(options=options, ctx=ctx)


def source_name(inputs: LayerInput) -> str:
    return inputs.job.source or inputs.preset.providers.data.name


def first_game(matchups: list[Matchup], now: dt.datetime) -> Matchup:
    """The game a job that names no matchup is about: the day's first that has not kicked off (a pregame post
    for a game already under way is no pregame post), else the day's first (the studio asks before starting it)."""
    ahead = [m for m in matchups if m.game_time > now] or matchups
    return min(ahead, key=lambda m: (m.game_time, m.id))


def list_slate(name: str, options: dict, ctx: LayerContext, *, sport: str, date: dt.date) -> Slate:
    """The matchups a source lists for a date (the studio's matchup picker and plan_calendar use this)."""
    return provider_for(name, options, ctx).slate(sport=sport, date=date)


def run(inputs: LayerInput, ctx: LayerContext) -> DataPackage:
    name = source_name(inputs)
    provider = provider_for(name, inputs.preset.providers.data.options, ctx)
    ctx.progress(0.1, f"asking {name}")
    if inputs.job.matchup_id:
        matchup: Matchup = provider.matchup(inputs.job.matchup_id)
    else:
        slate = provider.slate(sport=inputs.job.sport, date=inputs.job.date)
        if not slate.matchups:
            raise DataError(f"{name} lists no {inputs.job.sport.upper()} games on {inputs.job.date}", layer="L1",
                            provider=name, field="date")
        matchup = first_game(slate.matchups, dt.datetime.now(dt.UTC))
    if matchup.sport != inputs.job.sport:
        raise DataError(f"matchup {matchup.id} is {matchup.sport.upper()}, but the job asked for "
                        f"{inputs.job.sport.upper()}", layer="L1", provider=name, field="sport")
    ctx.progress(0.7, "predicting")
    forecast = prediction.predict(matchup, inputs.preset.providers.data.options, ctx)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    return DataPackage(source=name, fetched_at=now, odds_as_of=getattr(provider, "odds_as_of", None) or now,
                       matchup=matchup, prediction=forecast)
