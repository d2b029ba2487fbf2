"""What the studio's list shows of a job and searches it by: the game in words ("Buffalo Bills @ Kansas City
Chiefs"), its day, the teams and players the piece names, and a picture of it. Filled in once L1 has read the
game, and again when the plan is built (the players it names, its first picture)."""
from __future__ import annotations

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
                         plan.post.caption])
        named = [player for player in players if player in said or player.split()[-1] in said]
        players = named or players
        job.thumbnail = next((scene.background.asset for scene in plan.scenes if scene.background.asset), "")
    job.title = f"{matchup.away.full_name} @ {matchup.home.full_name}"
    job.game_day = matchup.game_time.date()
    job.keywords = " · ".join([*words, *players])
    job.save(update_fields=["title", "game_day", "keywords", "thumbnail", "updated_at"])
