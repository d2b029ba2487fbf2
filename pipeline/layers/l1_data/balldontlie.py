"""A client for the BallDontLie API (NBA and NFL), following its published OpenAPI documents
(repository balldontlie-api/mcp, files openapi/nba.yml and openapi/nfl.yml):

    GET /{league}/v1/games?dates[]=YYYY-MM-DD&per_page=100&cursor=N     cursor pagination
    GET /{league}/v1/games/{id}                                          NBA: `date` is a day and
                                                                         `datetime` the tip-off;
                                                                         NFL: `date` is the kick-off
    GET /nba/v2/odds?game_ids=ID            GET /nfl/v1/odds?game_ids=ID  line values are strings
    GET /nba/v2/odds/player_props?game_id=ID&vendors=V                   one page; line_value is a
    GET /nfl/v1/odds/player_props?game_id=ID&vendors=V                   string; market is over_under
                                                                         or milestone
    GET /{league}/v1/players?player_ids[]=ID...                          the players, in one call
    recent form, so that a prop carries its averages:
    GET /nba/v1/season_averages?season=S&player_id=ID                    per-game averages (pts, reb…)
    GET /nfl/v1/season_stats?season=S&player_ids[]=ID...                 season totals + games_played
    GET /{league}/v1/stats?player_ids[]=ID...&seasons[]=S&per_page=100   box scores, for the last five

The key goes in the `Authorization` header. BallDontLie has no team colours, so they come from
the shipped team table. Slates are cached for a few minutes, recent form for an hour.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict

from pydantic import AwareDatetime, ValidationError, field_validator

from pipeline.cache import get_or_fetch
from pipeline.context import LayerContext
from pipeline.contracts import Matchup, Slate
from pipeline.errors import ConfigurationError, ContractError, DataError
from pipeline.http import provider_client
from pipeline.layers.l1_data.fixture import team_colors
from pipeline.wire import Wire, parse_answer

PROVIDER = "balldontlie"
SLATE_TTL_S = 300
FORM_TTL_S = 3600
MAX_PAGES = 20
# A matchup needs a handful of props; each one's form costs requests, so only the first few are kept.
MAX_PROPS = 8
NEUTRAL = ("#2B2F3A", "#C9CED8")
ODDS_VERSION = {"nba": "v2", "nfl": "v1"}

# Prop type -> the box-score fields that add up to it, per league (the documents' stat names).
FORM_FIELDS = {
    "nba": {"points": ("pts",), "rebounds": ("reb",), "assists": ("ast",), "threes": ("fg3m",),
            "steals": ("stl",), "blocks": ("blk",)},
    "nfl": {"passing_yards": ("passing_yards",), "rushing_yards": ("rushing_yards",),
            "receiving_yards": ("receiving_yards",), "receptions": ("receptions",),
            "passing_tds": ("passing_touchdowns",), "passing_attempts": ("passing_attempts",),
            "passing_completions": ("passing_completions",), "rushing_attempts": ("rushing_attempts",),
            "interceptions": ("passing_interceptions",),
            "rushing_receiving_yards": ("rushing_yards", "receiving_yards")},
}
LABELS = {"threes": "3-Pointers Made", "passing_tds": "Passing TDs", "rushing_receiving_yards": "Rush + Rec Yards",
          "interceptions": "Interceptions Thrown"}


class WireTeam(Wire):
    id: int
    name: str
    abbreviation: str
    city: str | None = None          # NBA
    location: str | None = None      # NFL
    full_name: str = ""


class WireGame(Wire):
    id: int
    date: AwareDatetime | dt.date
    datetime: AwareDatetime | None = None
    season: int | None = None
    home_team: WireTeam
    visitor_team: WireTeam
    venue: str | None = None

    @field_validator("date", mode="before")
    @classmethod
    def _naive_is_utc(cls, value):
        # The NFL document types `date` as date-time; a time written without an offset is read as UTC.
        if isinstance(value, str) and "T" in value and not value.endswith("Z") and "+" not in value[10:]:
            return value + "Z"
        return value

    @property
    def kickoff(self) -> dt.datetime:
        if self.datetime is not None:
            return self.datetime
        if isinstance(self.date, dt.datetime):
            return self.date
        return dt.datetime.combine(self.date, dt.time(0, 0), tzinfo=dt.UTC)

    @property
    def season_year(self) -> int:
        if self.season is not None:
            return self.season
        # Both leagues name a season by the year it starts in (autumn).
        day = self.kickoff.date()
        return day.year if day.month >= 8 else day.year - 1


class WireMeta(Wire):
    next_cursor: int | None = None


class WireGamePage(Wire):
    data: list[WireGame]
    meta: WireMeta = WireMeta()


class WireOneGame(Wire):
    data: WireGame


class WireOdds(Wire):
    game_id: int
    vendor: str
    spread_home_value: float | None = None
    total_value: float | None = None
    moneyline_home_odds: int | None = None
    moneyline_away_odds: int | None = None
    updated_at: AwareDatetime | None = None


class WireOddsPage(Wire):
    data: list[WireOdds]


class WireMarket(Wire):
    type: str
    over_odds: int | None = None
    under_odds: int | None = None
    odds: int | None = None


class WirePlayerProp(Wire):
    id: int
    game_id: int
    player_id: int
    vendor: str
    prop_type: str
    line_value: float
    market: WireMarket
    updated_at: AwareDatetime | None = None


class WirePropPage(Wire):
    data: list[WirePlayerProp]


class WirePlayer(Wire):
    id: int
    first_name: str
    last_name: str
    position: str | None = ""
    position_abbreviation: str | None = None
    team: WireTeam | None = None


class WirePlayerPage(Wire):
    data: list[WirePlayer]
    meta: WireMeta = WireMeta()


class WireStatRow(Wire):
    """A row of season averages, season totals or one game's box score: numbers by stat name."""

    model_config = Wire.model_config | {"extra": "allow"}
    player: WirePlayer | None = None
    player_id: int | None = None
    game: dict | None = None
    games_played: float | None = None

    def value(self, name: str) -> float | None:
        raw = (self.model_extra or {}).get(name)
        if raw is None:
            return None
        try:
            number = float(raw)
        except (TypeError, ValueError):
            raise ContractError(f"stat {name} is {raw!r}, not a number", provider=PROVIDER, layer="L1",
                                field=name) from None
        if number != number or number in (float("inf"), float("-inf")):
            raise ContractError(f"stat {name} is not a finite number", provider=PROVIDER, layer="L1", field=name)
        return number

    @property
    def who(self) -> int | None:
        return self.player.id if self.player else self.player_id

    @property
    def played_on(self) -> str:
        game = self.game or {}
        return str(game.get("date") or game.get("datetime") or "")


class WireStatPage(Wire):
    data: list[WireStatRow]
    meta: WireMeta = WireMeta()


def _parse(model, data, what: str):
    return parse_answer(model, data, what, provider=PROVIDER, layer="L1")


def _sum(row: WireStatRow, fields: tuple[str, ...]) -> float | None:
    values = [row.value(name) for name in fields]
    return None if any(v is None for v in values) else sum(values)


class BallDontLie:
    def __init__(self, *, options: dict, ctx: LayerContext) -> None:
        self.ctx = ctx
        self.vendor = options.get("vendor", "draftkings")
        self.client = provider_client(PROVIDER, layer="L1", ctx=ctx, options=options, read_timeout=10,
                                      retry_posts=False, headers={"Authorization": ctx.secret(PROVIDER)})
        self.odds_as_of: dt.datetime | None = None

    @staticmethod
    def _league(sport: str) -> str:
        if sport not in FORM_FIELDS:
            raise ConfigurationError(f"the BallDontLie source covers the NBA and the NFL, not {sport.upper()}",
                                     layer="L1", provider=PROVIDER, field="sport",
                                     hint="pick another data source for this sport")
        return sport

    def _pages(self, path: str, params: dict, page_model, what: str) -> list:
        rows, cursor = [], None
        for _ in range(MAX_PAGES):
            query = {**params, "per_page": 100, **({"cursor": cursor} if cursor is not None else {})}
            page = _parse(page_model, self.client.get(path, params=query), f"the answer of GET {path}")
            rows.extend(page.data)
            cursor = page.meta.next_cursor
            if cursor is None:
                return rows
        raise DataError(f"GET {path} kept paginating past {MAX_PAGES} pages ({what})", layer="L1",
                        provider=PROVIDER)

    def _games(self, league: str, date: dt.date) -> list[WireGame]:
        return self._pages(f"/{league}/v1/games", {"dates[]": date.isoformat()}, WireGamePage, "games")

    def _team(self, league: str, team: WireTeam) -> dict:
        primary, secondary = team_colors(league, team.abbreviation.upper()) or NEUTRAL
        return {"id": f"{PROVIDER}-{team.id}", "name": team.name, "city": team.city or team.location or "",
                "abbreviation": team.abbreviation.upper(), "primary_color": primary, "secondary_color": secondary}

    def _line(self, league: str, game: WireGame) -> WireOdds:
        path = f"/{league}/{ODDS_VERSION[league]}/odds"
        odds = _parse(WireOddsPage, self.client.get(path, params={"game_ids": game.id}), f"the answer of GET {path}")
        line = next((o for o in odds.data if o.vendor == self.vendor and o.game_id == game.id), None)
        if line is None or line.spread_home_value is None:
            raise DataError(f"{self.vendor} has no line for game {game.id} yet", layer="L1", provider=PROVIDER,
                            field="spread", retryable=True, hint="lines are usually posted a few days ahead")
        self._saw(line.updated_at)
        return line

    def _saw(self, updated_at: dt.datetime | None) -> None:
        self.odds_as_of = max(filter(None, [self.odds_as_of, updated_at]), default=None)

    def _props(self, league: str, game: WireGame) -> list[WirePlayerProp]:
        """The vendor's over/under props, the markets with a known form first, one per player and market."""
        path = f"/{league}/{ODDS_VERSION[league]}/odds/player_props"
        page = _parse(WirePropPage, self.client.get(path, params={"game_id": game.id, "vendors": self.vendor}),
                      f"the answer of GET {path}")
        markets = list(FORM_FIELDS[league])
        usable = [p for p in page.data if p.vendor == self.vendor and p.market.type == "over_under"
                  and p.market.over_odds is not None and p.market.under_odds is not None]
        usable.sort(key=lambda p: (markets.index(p.prop_type) if p.prop_type in markets else len(markets), p.id))
        chosen, seen = [], set()
        for prop in usable:
            if (prop.player_id, prop.prop_type) not in seen and len(chosen) < MAX_PROPS:
                seen.add((prop.player_id, prop.prop_type))
                chosen.append(prop)
                self._saw(prop.updated_at)
        return chosen

    def _players(self, league: str, ids: list[int]) -> dict[int, WirePlayer]:
        if not ids:
            return {}
        players = self._pages(f"/{league}/v1/players", {"player_ids[]": ids}, WirePlayerPage, "players")
        return {p.id: p for p in players}

    def _form(self, league: str, season: int, ids: list[int]) -> dict:
        """{player id: {"season": row, "games": [rows, newest first]}} as plain JSON (it is cached)."""
        key = f"l1:{PROVIDER}:{self.client.base_url}:form:{league}:{season}:{','.join(map(str, sorted(ids)))}"
        return get_or_fetch(self.ctx.cache, key, FORM_TTL_S, lambda: self._fetch_form(league, season, ids))

    def _fetch_form(self, league: str, season: int, ids: list[int]) -> dict:
        form: dict[str, dict] = {str(i): {"season": None, "games": []} for i in ids}
        if league == "nba":
            for player_id in ids:
                page = _parse(WireStatPage, self.client.get("/nba/v1/season_averages", params={
                    "season": season, "player_id": player_id}), "the answer of GET /nba/v1/season_averages")
                if page.data:
                    form[str(player_id)]["season"] = page.data[0].model_dump(mode="json")
        else:
            page = _parse(WireStatPage, self.client.get("/nfl/v1/season_stats", params={
                "season": season, "player_ids[]": ids}), "the answer of GET /nfl/v1/season_stats")
            for row in page.data:
                if row.who is not None and str(row.who) in form:
                    form[str(row.who)]["season"] = row.model_dump(mode="json")
        games = self._pages(f"/{league}/v1/stats", {"player_ids[]": ids, "seasons[]": season}, WireStatPage,
                            "box scores")
        by_player = defaultdict(list)
        for row in games:
            if row.who is not None:
                by_player[str(row.who)].append(row)
        for player_id, rows in by_player.items():
            if player_id in form:
                rows.sort(key=lambda r: r.played_on, reverse=True)
                form[player_id]["games"] = [r.model_dump(mode="json") for r in rows[:5]]
        return form

    @staticmethod
    def _averages(league: str, market: str, form: dict) -> tuple[float | None, float | None, list[float]]:
        """(season average, last-five average, the last five games oldest first) of a prop's market."""
        fields = FORM_FIELDS[league].get(market)
        if not fields or not form:
            return None, None, []
        season_avg = None
        if form.get("season"):
            row = WireStatRow.model_validate(form["season"])
            total = _sum(row, fields)
            if league == "nba":
                season_avg = total  # season_averages are per game already
            elif total is not None and row.games_played:
                season_avg = total / row.games_played
        games = [_sum(WireStatRow.model_validate(g), fields) for g in form.get("games", [])]
        games = [g for g in games if g is not None]
        last5 = sum(games) / len(games) if games else None
        return (round(season_avg, 1) if season_avg is not None else None,
                round(last5, 1) if last5 is not None else None, [round(g, 1) for g in reversed(games)])

    def _normalise(self, league: str, game: WireGame) -> Matchup:
        line = self._line(league, game)
        props = self._props(league, game)
        player_ids = sorted({p.player_id for p in props})
        players = self._players(league, player_ids)
        form = self._form(league, game.season_year, player_ids) if player_ids else {}
        teams = {game.home_team.id: game.home_team, game.visitor_team.id: game.visitor_team}
        normalised = []
        for prop in props:
            player = players.get(prop.player_id)
            if player is None or player.team is None:
                continue  # a player the API no longer lists cannot be put on screen
            team = teams.get(player.team.id, player.team)
            season_avg, last5_avg, last5 = self._averages(league, prop.prop_type,
                                                          form.get(str(prop.player_id), {}))
            normalised.append({
                "id": str(prop.id), "player": f"{player.first_name} {player.last_name}".strip(),
                "team": team.abbreviation.upper(),
                "position": player.position_abbreviation or player.position or "", "market": prop.prop_type,
                "label": LABELS.get(prop.prop_type, prop.prop_type.replace("_", " ").title()),
                "line": prop.line_value, "over_odds": prop.market.over_odds, "under_odds": prop.market.under_odds,
                "season_avg": season_avg, "last5_avg": last5_avg, "last5": last5})
        data = {"id": f"{PROVIDER}-{league}-{game.id}", "sport": league, "game_time": game.kickoff,
                "venue": game.venue or "", "home": self._team(league, game.home_team),
                "away": self._team(league, game.visitor_team), "spread": line.spread_home_value,
                "total": line.total_value, "home_moneyline": line.moneyline_home_odds,
                "away_moneyline": line.moneyline_away_odds, "props": normalised}
        try:
            return Matchup.model_validate(data)
        except ValidationError as exc:
            raise ContractError.from_validation(exc, what=f"game {game.id}", layer="L1", provider=PROVIDER) from exc

    def slate(self, *, sport: str, date: dt.date) -> Slate:
        league = self._league(sport)
        key = f"l1:{PROVIDER}:{self.client.base_url}:{league}:{date.isoformat()}"
        raw = get_or_fetch(self.ctx.cache, key, SLATE_TTL_S,
                           lambda: [g.model_dump(mode="json") for g in self._games(league, date)])
        games = [WireGame.model_validate(g) for g in raw]
        return Slate(source=PROVIDER, matchups=[self._normalise(league, g) for g in games])

    def matchup(self, matchup_id: str) -> Matchup:
        prefix, _, rest = matchup_id.partition("-")
        league, _, game_id = rest.partition("-")
        if prefix != PROVIDER or not game_id.isdigit():
            raise DataError(f"{matchup_id!r} is not a BallDontLie matchup id (like balldontlie-nba-18444)",
                            layer="L1", provider=PROVIDER, field="matchup_id")
        league = self._league(league)
        path = f"/{league}/v1/games/{game_id}"
        game = _parse(WireOneGame, self.client.get(path), f"the answer of GET {path}").data
        return self._normalise(league, game)

