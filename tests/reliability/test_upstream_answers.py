"""Whatever an upstream sends, L1 either reads it or refuses it in words (a PipelineError naming the endpoint
or field): NaN and infinity, the wrong JSON type, empty, huge, unicode. Never an AttributeError, never a
value the database cannot store."""
import copy
import datetime as dt
import json
import math

import pytest
from django.core.cache import cache
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from pipeline.context import LayerContext
from pipeline.contracts import DataPackage, Matchup
from pipeline.errors import PipelineError
from pipeline.layers.l1_data import balldontlie, goatedbets
from tests.fakes import upstream as fake

QUICK = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                        HealthCheck.too_slow])
# Every JSON value an upstream can send, NaN and infinity included (Python's json module writes and reads them).
scalars = (st.none() | st.booleans() | st.integers(-10**12, 10**12) | st.floats() | st.text(max_size=30)
           | st.sampled_from(["NaN", "Infinity", "-Infinity", "1e400", "", " ", "27.5", "∞", "٣", "😀" * 50]))
json_values = st.recursive(scalars, lambda children: st.lists(children, max_size=4)
                           | st.dictionaries(st.text(max_size=12), children, max_size=4), max_leaves=10)


def ctx_for(upstream, tmp_path):
    secrets = {name: {"api_key": "k", "base_url": upstream.url} for name in ("goatedbets", "balldontlie")}
    return LayerContext(job_id="job-1", layer="L1", work_dir=tmp_path, secrets=secrets, cache=cache)


def assert_storable(matchup: Matchup) -> None:
    """What L1 returns must survive the trip into the database: strict JSON, finite numbers."""
    now = dt.datetime.now(dt.UTC)
    package = DataPackage(source="x", fetched_at=now, odds_as_of=now, matchup=matchup)
    json.dumps(package.model_dump(mode="json"), allow_nan=False)


def mutate(document, path, value):
    target = document
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return document


GB_FIELDS = [("matchups",), ("matchups", 0), ("matchups", 0, "lines"), ("matchups", 0, "lines", "spread"),
             ("matchups", 0, "lines", "total"), ("matchups", 0, "lines", "home_ml"), ("matchups", 0, "start_time"),
             ("matchups", 0, "home"), ("matchups", 0, "home", "colors"), ("matchups", 0, "props"),
             ("matchups", 0, "props", 0), ("matchups", 0, "props", 0, "line"), ("matchups", 0, "props", 0, "over"),
             ("matchups", 0, "props", 0, "season_avg"), ("matchups", 0, "props", 0, "player"), ("matchups", 0, "id")]


@QUICK
@given(where=st.sampled_from(GB_FIELDS), value=json_values)
def test_goatedbets_reads_or_refuses_any_answer(upstream, tmp_path, where, value):
    """given: GoatedBets' week with any JSON value at one of its fields
    when: L1 reads the matchup
    then: it reads a matchup the database can store (finite numbers, strict JSON), or fails in words at L1"""
    cache.clear()
    answer = mutate(copy.deepcopy(fake.goatedbets_week()), where, value)
    upstream.route("GET", "/nfl/week/", lambda seen: fake.ok(json.dumps(answer).encode()))
    try:
        matchup = goatedbets.GoatedBets(options={}, ctx=ctx_for(upstream, tmp_path)).matchup(fake.GB_MATCHUP_ID)
    except PipelineError as exc:
        assert exc.describe() and exc.layer == "L1"
    else:
        assert_storable(matchup)


@QUICK
@given(answer=json_values)
def test_goatedbets_whole_answer_of_any_shape(upstream, tmp_path, answer):
    """given: any JSON as GoatedBets' whole answer
    when: L1 reads the matchup
    then: it fails in words naming goatedbets"""
    upstream.route("GET", "/nfl/week/", lambda seen: fake.ok(json.dumps(answer).encode()))
    with pytest.raises(PipelineError) as info:
        goatedbets.GoatedBets(options={}, ctx=ctx_for(upstream, tmp_path)).matchup(fake.GB_MATCHUP_ID)
    assert "goatedbets" in info.value.describe()


BDL_FIELDS = ["spread_home_value", "total_value", "moneyline_home_odds", "moneyline_away_odds", "vendor", "game_id",
              "updated_at"]


@QUICK
@given(field=st.sampled_from(BDL_FIELDS), value=json_values, line=json_values)
def test_balldontlie_reads_or_refuses_any_odds_and_prop_line(upstream, tmp_path, field, value, line):
    """given: BallDontLie odds with any JSON value at one field, and a prop with any line
    when: L1 reads the game
    then: it reads a matchup the database can store, or fails in words at L1"""
    cache.clear()
    fake.serve_balldontlie(upstream)
    odds = fake.bdl_odds(101)
    odds[field] = value
    upstream.route("GET", "/nba/v2/odds", lambda seen: fake.ok(json.dumps({"data": [odds]}).encode()))
    props = [{"id": 9001, "game_id": 101, "player_id": 434, "vendor": "draftkings", "prop_type": "points",
              "line_value": line, "market": {"type": "over_under", "over_odds": -115, "under_odds": -105},
              "updated_at": "2026-11-22T18:00:00.000Z"}]
    upstream.route("GET", "/nba/v2/odds/player_props", lambda seen: fake.ok(json.dumps({"data": props}).encode()))
    try:
        matchup = balldontlie.BallDontLie(options={}, ctx=ctx_for(upstream, tmp_path)).matchup("balldontlie-nba-101")
    except PipelineError as exc:
        assert exc.describe() and exc.layer == "L1"
    else:
        assert_storable(matchup)


@given(spread=st.floats(), line=st.floats())
def test_contracts_never_hold_a_non_finite_number(spread, line):
    """given: a matchup whose spread and prop line are any floats, NaN and infinity included
    when: it is validated
    then: it is refused, or holds only finite numbers"""
    from pipeline.layers.l1_data.fixture import FixtureData

    data = FixtureData(options={}, ctx=None).matchup("nfl-20261122-buf-kc").model_dump(mode="json")
    data["spread"] = spread
    data["props"][0]["line"] = line
    try:
        matchup = Matchup.model_validate(data)
    except ValidationError as exc:
        assert not (math.isfinite(spread) and math.isfinite(line) and line > 0), exc
    else:
        assert math.isfinite(matchup.spread) and math.isfinite(matchup.props[0].line)
