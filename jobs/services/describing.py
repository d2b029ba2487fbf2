"""What the studio's list shows of a job and searches it by: the game in words ("Buffalo Bills @ Kansas City
Chiefs"), its day, the teams and players the piece names, and a picture of it. Filled in once L1 has read the
game, and again when the plan is built (the players it names, its first picture)."""
from __future__ import annotations

import re

from jobs.models import Job
from jobs.selectors import game_data
from pipeline.contracts import RenderPlan
from pipeline.contracts.plan import TextLayer


def job_describe(job: Job, plan: RenderPlan | None = None) -> None:
    data = game_data(job)
    if data is None:
        return
    matchup = data.matchup
    teams = [matchup.away, matchup.home]
    words = [part for team in teams for part in (team.full_name, team.abbreviation)]
    players = sorted({prop.player for prop in matchup.props})
    if plan is not None:
        said = " ".join([plan.title, *(layer.text for layer in plan.all_layers() if isinstance(layer, TextLayer)),
                         plan.post.caption]).casefold()
        named = [player for player in players if _named_in(player, said)]
        players = named or players
        job.thumbnail = next((scene.background.asset for scene in plan.scenes if scene.background.asset), "")
    job.title = f"{matchup.away.full_name} @ {matchup.home.full_name}"
    job.game_day = matchup.game_time.date()
    job.keywords = " · ".join([*words, *players])
    job.save(update_fields=["title", "game_day", "keywords", "thumbnail", "updated_at"])


SUFFIXES = {"jr", "sr", "ii", "iii", "iv"}


def _named_in(player: str, said: str) -> bool:
    """Whether the piece names the player: in full, or by his surname as a word (screen text says "MAHOMES";
    "Jr." or a two-letter name alone would match other players)."""
    surname = next((part for part in reversed(player.split()) if part.strip(".").casefold() not in SUFFIXES), "")
    if player.casefold() in said:
        return True
    return len(surname) > 3 and re.search(rf"\b{re.escape(surname.casefold())}\b", said) is not None
