"""A client for the GoatedBets odds API, in the shape the plans give it (seeds/000, `fetch_goatedbets_data`):

    GET {API_URL}/{sport}/week/{week}   -> the week's matchups, each with its lines and player props:
        {"sport": "nfl", "week": 11, "updated_at": ..., "matchups": [
            {"id", "start_time", "venue", "home": {...}, "away": {...}, "lines": {...}, "props": [...]}]}

The plans name only the URL; the body is read through the wire models below and anything else is a
ContractError naming the field. Authenticated with the `X-API-Key` header.

A week is the football week for the NFL and college football (week 1 starts the Tuesday after Labor
Day), and the ISO week for the other sports. A matchup id carries its sport and week
(goatedbets-nfl-w11-gb-1001), so the freshness check at approval reads the same week again.
Slates are cached for a few minutes; a single matchup is always read fresh.
"""
from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from pydantic import AwareDatetime, Field, ValidationError

from pipeline.cache import get_or_fetch
from pipeline.context import LayerContext
from pipeline.contracts import Matchup, Slate
from pipeline.errors import ContractError, DataError
from pipeline.http import provider_client
from pipeline.wire import Wire, parse_answer

PROVIDER = "goatedbets"
SLATE_TTL_S = 300
# Games are listed on the day they are played in the US: an 8 pm Eastern game is that day's, not the next UTC day's.
US_EASTERN = ZoneInfo("America/New_York")
FOOTBALL = {"nfl", "ncaaf"}
_ID = re.compile(r"^goatedbets-(?P<sport>[a-z]+)-w(?P<week>\d{1,2})-(?P<wire_id>.+)$")


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


class WireMatchup(Wire):
    id: str
    start_time: AwareDatetime
    venue: str = ""
    home: WireTeam
    away: WireTeam
    lines: WireLines
    props: list[WireProp]


class WireWeek(Wire):
    matchups: list[WireMatchup]
    updated_at: AwareDatetime | None = None


def football_week(day: dt.date) -> int:
    """The NFL week `day` falls in: week 1 starts the Tuesday after Labor Day (the first Monday of
    September); January's playoff games belong to the season that started the year before."""
    def start(year: int) -> dt.date:
        september = dt.date(year, 9, 1)
        labor_day = september + dt.timedelta(days=(7 - september.weekday()) % 7)
        return labor_day + dt.timedelta(days=1)

    season_start = start(day.year) if day >= start(day.year) else start(day.year - 1)
    return (day - season_start).days // 7 + 1


def week_of(sport: str, day: dt.date) -> int:
    return football_week(day) if sport in FOOTBALL else day.isocalendar().week


def _team(team: WireTeam) -> dict:
    return {"id": str(team.id), "name": team.name, "city": team.city, "abbreviation": team.abbr.upper(),
            "primary_color": team.colors[0], "secondary_color": team.colors[1]}


class GoatedBets:
    def __init__(self, *, options: dict, ctx: LayerContext) -> None:
        self.ctx = ctx
        self.client = provider_client(PROVIDER, layer="L1", ctx=ctx, options=options, read_timeout=30,
                                      retry_posts=False, headers={"X-API-Key": ctx.secret(PROVIDER)})
        self.odds_as_of: dt.datetime | None = None

    def _week(self, sport: str, week: int) -> dict:
        return self.client.get(f"/{sport}/week/{week}")

    def _parse_week(self, sport: str, week: int, answer) -> WireWeek:
        parsed = parse_answer(WireWeek, answer, f"the answer of GET /{sport}/week/{week}", provider=PROVIDER,
                              layer="L1")
        self.odds_as_of = parsed.updated_at or self.odds_as_of
        return parsed

    def _normalise(self, sport: str, week: int, wire: WireMatchup) -> Matchup:
        data = {
            "id": f"{PROVIDER}-{sport}-w{week}-{wire.id}", "sport": sport, "game_time": wire.start_time,
            "venue": wire.venue, "home": _team(wire.home), "away": _team(wire.away), "spread": wire.lines.spread,
            "total": wire.lines.total, "home_moneyline": wire.lines.home_ml, "away_moneyline": wire.lines.away_ml,
            "props": [{"id": str(p.id), "player": p.player, "team": p.team.upper(), "position": p.position,
                       "market": p.market, "label": p.label, "line": p.line, "over_odds": p.over,
                       "under_odds": p.under, "season_avg": p.season_avg, "last5_avg": p.last5_avg}
                      for p in wire.props],
        }
        try:
            return Matchup.model_validate(data)
        except ValidationError as exc:
            raise ContractError.from_validation(exc, what=f"matchup {wire.id}", layer="L1",
                                                provider=PROVIDER) from exc

    def slate(self, *, sport: str, date: dt.date) -> Slate:
        week = week_of(sport, date)
        key = f"l1:{PROVIDER}:{self.client.base_url}:{sport}:week:{week}"
        answer = get_or_fetch(self.ctx.cache, key, SLATE_TTL_S, lambda: self._week(sport, week))
        parsed = self._parse_week(sport, week, answer)
        on_the_day = [m for m in parsed.matchups if m.start_time.astimezone(US_EASTERN).date() == date]
        return Slate(source=PROVIDER, matchups=[self._normalise(sport, week, m) for m in on_the_day])

    def matchup(self, matchup_id: str) -> Matchup:
        found = _ID.match(matchup_id)
        if not found:
            raise DataError(f"{matchup_id!r} is not a GoatedBets matchup id (like goatedbets-nfl-w11-gb-1001)",
                            layer="L1", provider=PROVIDER, field="matchup_id",
                            hint="pick a matchup from the studio's list")
        sport, week, wire_id = found["sport"], int(found["week"]), found["wire_id"]
        parsed = self._parse_week(sport, week, self._week(sport, week))
        for wire in parsed.matchups:
            if wire.id == wire_id:
                return self._normalise(sport, week, wire)
        raise DataError(f"GoatedBets lists no matchup {wire_id} in {sport.upper()} week {week}", layer="L1",
                        provider=PROVIDER, field="matchup_id", hint="pick a matchup from the studio's list")
