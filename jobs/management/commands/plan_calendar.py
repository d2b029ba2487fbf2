import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from core.database import require_database
from jobs.services.calendar import calendar_plan
from pipeline.errors import PipelineError
from presets.models import Preset


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{value!r} is not a date like 2026-11-22") from None


class Command(BaseCommand):
    help = "Create batch jobs for every matchup between two dates (inclusive). Prints one job id per line."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--from", dest="start", required=True)
        parser.add_argument("--to", dest="end", required=True)
        parser.add_argument("--preset", required=True)
        parser.add_argument("--sport", action="append", choices=["nfl", "nba", "mlb", "nhl", "ncaaf", "ncaab"],
                            help="repeat for several (default: nfl and nba)")

    def handle(self, *args, start: str, end: str, preset: str, sport: list[str] | None, **options) -> None:
        require_database()
        try:
            chosen = Preset.objects.get(slug=preset)
        except Preset.DoesNotExist:
            raise CommandError(f"no preset {preset!r}") from None
        try:
            jobs = calendar_plan(preset=chosen, start=_date(start), end=_date(end), sports=sport)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        except PipelineError as exc:
            raise CommandError(f"could not read the slate: {exc.describe()}") from None
        for job in jobs:
            self.stdout.write(str(job.pk))
        self.stderr.write(f"{len(jobs)} batch job(s) created")
