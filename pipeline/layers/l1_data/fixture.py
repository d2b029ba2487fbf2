"""The offline data source: a slate of real-looking NFL and NBA games with props, shipped as data.

Any date gets the same slate of games, scheduled on that date, so the product
works offline every day. Ids carry the sport and date: nfl-20261122-buf-kc.
"""
from __future__ import annotations

import datetime as dt
import functools
import json
import re
from pathlib import Path

from pipeline.context import LayerContext
from pipeline.contracts import Matchup, Slate
from pipeline.errors import DataError

DATA_DIR = Path(__file__).resolve().parents[2] / "data"
SLATE_FILE = DATA_DIR / "slate.json"
# Every NFL, NBA, MLB and NHL team: city, name and two brand colours (sources in the file).
TEAMS_FILE = DATA_DIR / "teams.json"
_ID = re.compile(r"^(?P<sport>[a-z]+)-(?P<date>\d{8})-(?P<away>[a-z]{2,4})-(?P<home>[a-z]{2,4})$")


@functools.cache
def _data() -> dict:
    return json.loads(SLATE_FILE.read_text())


@functools.cache
def teams() -> dict[str, dict[str, list[str]]]:
    """{league: {abbreviation: [city, name, primary colour, secondary colour]}}."""
    return {league: table for league, table in json.loads(TEAMS_FILE.read_text()).items()
            if not league.startswith("_")}


def team_colors(sport: str, abbreviation: str) -> tuple[str, str] | None:
    """Brand colours for a team, used to colour teams from sources that do not give them."""
    team = teams().get(sport, {}).get(abbreviation)
    return (team[2], team[3]) if team else None


def _team(sport: str, abbr: str) -> dict:
    city, name, primary, secondary = teams()[sport][abbr]
    return {"id": f"{sport}-{abbr.lower()}", "name": name, "city": city, "abbreviation": abbr,
            "primary_color": primary, "secondary_color": secondary}


def _matchup(game: dict, date: dt.date) -> Matchup:
    hour, minute = (int(part) for part in game["kickoff"].split(":"))
    # Kick-offs before noon UTC are evening games in US time: they belong to the day before.
    day = date + dt.timedelta(days=1) if hour < 12 else date
    game_time = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=dt.UTC)
    matchup_id = f"{game['sport']}-{date:%Y%m%d}-{game['away'].lower()}-{game['home'].lower()}"
    props = [{"id": f"{matchup_id}-p{i + 1}", "player": p[0], "team": p[1], "position": p[2], "market": p[3],
              "label": p[4], "line": p[5], "over_odds": p[6], "under_odds": p[7], "season_avg": p[8],
              "last5_avg": p[9], "last5": p[10] if len(p) > 10 else []} for i, p in enumerate(game["props"])]
    return Matchup.model_validate({
        "id": matchup_id, "sport": game["sport"], "game_time": game_time, "venue": game["venue"],
        "home": _team(game["sport"], game["home"]), "away": _team(game["sport"], game["away"]),
        "spread": game["spread"], "total": game["total"], "home_moneyline": game["home_ml"],
        "away_moneyline": game["away_ml"], "props": props})


class FixtureData:
    def __init__(self, *, options: dict, ctx: LayerContext) -> None:
        self.ctx = ctx

    def slate(self, *, sport: str, date: dt.date) -> Slate:
        games = [g for g in _data()["games"] if g["sport"] == sport]
        return Slate(source="fixture", matchups=[_matchup(g, date) for g in games])

    def matchup(self, matchup_id: str) -> Matchup:
        found = _ID.match(matchup_id)
        if not found:
            raise DataError(f"{matchup_id!r} is not a fixture matchup id (like nfl-20261122-buf-kc)",
                            layer="L1", provider="fixture", field="matchup_id")
        date = dt.datetime.strptime(found["date"], "%Y%m%d").date()
        for game in _data()["games"]:
            if (game["sport"], game["away"].lower(), game["home"].lower()) == (
                    found["sport"], found["away"], found["home"]):
                return _matchup(game, date)
        raise DataError(f"the fixture slate has no game {found['away'].upper()} @ {found['home'].upper()}",
                        layer="L1", provider="fixture", field="matchup_id",
                        hint="pick a matchup from the studio's list")
