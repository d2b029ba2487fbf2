"""A client for a GoatedBets-style odds JSON API (matchups, lines, player props).

    GET {base}/v1/matchups?sport=nfl&date=2026-11-22   -> {"matchups": [...], "updated_at": ...}
    GET {base}/v1/matchups/{id}                          -> {"matchup": {...}, "updated_at": ...}
    GET {base}/v1/matchups/{id}/props                    -> {"props": [...], "updated_at": ...}

Authenticated with the `X-API-Key` header. Slates are cached for a few minutes.
"""
from __future__ import annotations

import datetime as dt

from pydantic import AwareDatetime, Field, ValidationError

from pipeline.cache import get_or_fetch
from pipeline.context import LayerContext
from pipeline.contracts import Matchup, Slate
from pipeline.errors import ContractError
from pipeline.http import provider_client
from pipeline.layers.l1_data.wire import Wire, parse

PROVIDER = "goatedbets"
SLATE_TTL_S = 300


class WireTeam(Wire):
    id: str | int
    name: str
    city: str = ""
    abbr: str
    colors: list[str] = Field(min_length=2)


class WireLines(Wire):
    spread: float
    total: float | None = None
    home_ml: int | None = None
    away_ml: int | None = None


class WireMatchup(Wire):
    id: str
    sport: str
    start_time: AwareDatetime
    venue: str = ""
    home: WireTeam
    away: WireTeam
    lines: WireLines


class WireProp(Wire):
    id: str | int
    player: str
    team: str
    position: str = ""
    market: str
    label: str
    line: float
    over: int
    under: int
    season_avg: float | None = None
    last5_avg: float | None = None


class WireSlate(Wire):
    matchups: list[WireMatchup]
    updated_at: AwareDatetime | None = None


class WireOne(Wire):
    matchup: WireMatchup
    updated_at: AwareDatetime | None = None


class WireProps(Wire):
    props: list[WireProp]
    updated_at: AwareDatetime | None = None


def _parse(model, data, what: str):
    return parse(model, data, what, PROVIDER)


def _team(team: WireTeam) -> dict:
    return {"id": str(team.id), "name": team.name, "city": team.city, "abbreviation": team.abbr.upper(),
            "primary_color": team.colors[0], "secondary_color": team.colors[1]}


class GoatedBets:
    def __init__(self, *, options: dict, ctx: LayerContext) -> None:
        self.ctx = ctx
        self.client = provider_client(PROVIDER, layer="L1", ctx=ctx, options=options, read_timeout=10,
                                      retries=4, retry_posts=False, headers={"X-API-Key": ctx.secret(PROVIDER)})
        self.odds_as_of: dt.datetime | None = None

    def _normalise(self, wire: WireMatchup, props: WireProps) -> Matchup:
        self.odds_as_of = props.updated_at or self.odds_as_of
        data = {
            "id": wire.id, "sport": wire.sport.lower(), "game_time": wire.start_time, "venue": wire.venue,
            "home": _team(wire.home), "away": _team(wire.away), "spread": wire.lines.spread,
            "total": wire.lines.total, "home_moneyline": wire.lines.home_ml, "away_moneyline": wire.lines.away_ml,
            "props": [{"id": str(p.id), "player": p.player, "team": p.team.upper(), "position": p.position,
                       "market": p.market, "label": p.label, "line": p.line, "over_odds": p.over,
                       "under_odds": p.under, "season_avg": p.season_avg, "last5_avg": p.last5_avg}
                      for p in props.props],
        }
        try:
            return Matchup.model_validate(data)
        except ValidationError as exc:
            raise ContractError.from_validation(exc, what=f"matchup {wire.id}", layer="L1",
                                                provider=PROVIDER) from exc

    def _props(self, matchup_id: str) -> WireProps:
        return _parse(WireProps, self.client.get(f"/v1/matchups/{matchup_id}/props"),
                      f"the answer of GET /v1/matchups/{matchup_id}/props")

    def slate(self, *, sport: str, date: dt.date) -> Slate:
        key = f"l1:{PROVIDER}:{self.client.base_url}:{sport}:{date.isoformat()}"
        raw = get_or_fetch(self.ctx.cache, key, SLATE_TTL_S, lambda: self.client.get(
            "/v1/matchups", params={"sport": sport, "date": date.isoformat()}))
        wire = _parse(WireSlate, raw, "the answer of GET /v1/matchups")
        return Slate(source=PROVIDER, matchups=[self._normalise(m, self._props(m.id)) for m in wire.matchups])

    def matchup(self, matchup_id: str) -> Matchup:
        wire = _parse(WireOne, self.client.get(f"/v1/matchups/{matchup_id}"),
                      f"the answer of GET /v1/matchups/{matchup_id}")
        return self._normalise(wire.matchup, self._props(matchup_id))
