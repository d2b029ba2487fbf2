"""A client for the BallDontLie API: games and teams (cursor pagination), game odds and player props.

    GET {base}/{league}/v1/games?dates[]=YYYY-MM-DD&per_page=100&cursor=N  (NBA: /v1/games)
    GET {base}/{league}/v1/odds?game_ids[]=ID
    GET {base}/{league}/v2/odds/player_props?game_id=ID
    GET {base}/{league}/v1/players/ID

The key goes in the `Authorization` header. BallDontLie has no team colours, so
they come from the shipped team table. Slates are cached for a few minutes.
"""
from __future__ import annotations

import datetime as dt

from pydantic import AwareDatetime, ValidationError

from pipeline.cache import get_or_fetch
from pipeline.context import LayerContext
from pipeline.contracts import Matchup, Slate
from pipeline.errors import ContractError, DataError
from pipeline.http import provider_client
from pipeline.layers.l1_data.fixture import team_colors
from pipeline.layers.l1_data.wire import Wire, parse

PROVIDER = "balldontlie"
SLATE_TTL_S = 300
MAX_PAGES = 20
LEAGUE_PREFIX = {"nba": "", "nfl": "/nfl", "mlb": "/mlb", "nhl": "/nhl", "ncaaf": "/ncaaf", "ncaab": "/ncaab"}
NEUTRAL = ("#2B2F3A", "#C9CED8")


class WireTeam(Wire):
    id: int
    name: str
    abbreviation: str
    city: str | None = None
    location: str | None = None
    full_name: str = ""


class WireGame(Wire):
    id: int
    date: str | None = None
    datetime: AwareDatetime | None = None
    home_team: WireTeam
    visitor_team: WireTeam
    venue: str | None = None


class WireMeta(Wire):
    next_cursor: int | None = None


class WirePage(Wire):
    data: list[WireGame]
    meta: WireMeta = WireMeta()


class WireOdds(Wire):
    game_id: int
    vendor: str
    spread_home_value: float | None = None
    total_value: float | None = None
    moneyline_home_odds: int | None = None
    moneyline_away_odds: int | None = None
    updated_at: AwareDatetime | None = None


class WireMarket(Wire):
    type: str
    over_odds: int | None = None
    under_odds: int | None = None


class WirePlayerProp(Wire):
    id: int
    game_id: int
    player_id: int
    vendor: str
    prop_type: str
    line_value: float
    market: WireMarket
    updated_at: AwareDatetime | None = None


class WirePlayer(Wire):
    id: int
    first_name: str
    last_name: str
    position: str = ""
    team: WireTeam


def _parse(model, data, what: str):
    return parse(model, data, what, PROVIDER)


class BallDontLie:
    def __init__(self, *, options: dict, ctx: LayerContext) -> None:
        self.ctx = ctx
        self.vendor = options.get("vendor", "draftkings")
        self.client = provider_client(PROVIDER, layer="L1", ctx=ctx, options=options, read_timeout=10,
                                      retries=4, retry_posts=False, headers={"Authorization": ctx.secret(PROVIDER)})
        self.odds_as_of: dt.datetime | None = None

    def _games(self, sport: str, date: dt.date) -> list[WireGame]:
        games, cursor = [], None
        for _ in range(MAX_PAGES):
            params = {"dates[]": date.isoformat(), "per_page": 100}
            if cursor is not None:
                params["cursor"] = cursor
            page = _parse(WirePage, self.client.get(f"{LEAGUE_PREFIX[sport]}/v1/games", params=params),
                          "the answer of GET /v1/games")
            games.extend(page.data)
            cursor = page.meta.next_cursor
            if cursor is None:
                return games
        raise DataError(f"GET /v1/games kept paginating past {MAX_PAGES} pages", layer="L1", provider=PROVIDER)

    def _team(self, sport: str, team: WireTeam) -> dict:
        primary, secondary = team_colors(sport, team.abbreviation.upper()) or NEUTRAL
        return {"id": f"{PROVIDER}-{team.id}", "name": team.name, "city": team.city or team.location or "",
                "abbreviation": team.abbreviation.upper(), "primary_color": primary, "secondary_color": secondary}

    def _normalise(self, sport: str, game: WireGame) -> Matchup:
        prefix = LEAGUE_PREFIX[sport]
        odds = [o for o in (_parse(WireOdds, row, "a row of GET /v1/odds") for row in self.client.get(
            f"{prefix}/v1/odds", params={"game_ids[]": game.id}).get("data", []))
            if o.vendor == self.vendor]
        line = odds[0] if odds else None
        if line is None or line.spread_home_value is None:
            raise DataError(f"{self.vendor} has no line for game {game.id} yet", layer="L1", provider=PROVIDER,
                            field="spread", retryable=True, hint="lines are usually posted a few days ahead")
        rows = self.client.get(f"{prefix}/v2/odds/player_props", params={"game_id": game.id}).get("data", [])
        props, players = [], {}
        for row in rows:
            prop = _parse(WirePlayerProp, row, "a row of GET /v2/odds/player_props")
            if prop.vendor != self.vendor or prop.market.type != "over_under" or prop.market.over_odds is None:
                continue
            if prop.player_id not in players:
                players[prop.player_id] = _parse(
                    WirePlayer, self.client.get(f"{prefix}/v1/players/{prop.player_id}").get("data"),
                    f"the answer of GET /v1/players/{prop.player_id}")
            player = players[prop.player_id]
            props.append({"id": str(prop.id), "player": f"{player.first_name} {player.last_name}",
                          "team": player.team.abbreviation.upper(), "position": player.position,
                          "market": prop.prop_type, "label": prop.prop_type.replace("_", " ").title(),
                          "line": prop.line_value, "over_odds": prop.market.over_odds,
                          "under_odds": prop.market.under_odds})
            self.odds_as_of = max(filter(None, [self.odds_as_of, prop.updated_at]), default=None)
        game_time = game.datetime or dt.datetime.fromisoformat(f"{game.date}T00:00:00+00:00")
        data = {"id": f"{PROVIDER}-{sport}-{game.id}", "sport": sport, "game_time": game_time,
                "venue": game.venue or "", "home": self._team(sport, game.home_team),
                "away": self._team(sport, game.visitor_team), "spread": line.spread_home_value,
                "total": line.total_value, "home_moneyline": line.moneyline_home_odds,
                "away_moneyline": line.moneyline_away_odds, "props": props}
        try:
            return Matchup.model_validate(data)
        except ValidationError as exc:
            raise ContractError.from_validation(exc, what=f"game {game.id}", layer="L1", provider=PROVIDER) from exc

    def slate(self, *, sport: str, date: dt.date) -> Slate:
        key = f"l1:{PROVIDER}:{self.client.base_url}:{sport}:{date.isoformat()}"
        raw = get_or_fetch(self.ctx.cache, key, SLATE_TTL_S,
                           lambda: [g.model_dump(mode="json") for g in self._games(sport, date)])
        games = [WireGame.model_validate(g) for g in raw]
        return Slate(source=PROVIDER, matchups=[self._normalise(sport, g) for g in games])

    def matchup(self, matchup_id: str) -> Matchup:
        try:
            _, sport, game_id = matchup_id.split("-", 2)
            prefix = LEAGUE_PREFIX[sport]
        except (ValueError, KeyError):
            raise DataError(f"{matchup_id!r} is not a BallDontLie matchup id (like balldontlie-nba-18444)",
                            layer="L1", provider=PROVIDER, field="matchup_id") from None
        game = _parse(WireGame, self.client.get(f"{prefix}/v1/games/{game_id}").get("data"),
                      f"the answer of GET /v1/games/{game_id}")
        return self._normalise(sport, game)
