from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from core.database import require_database
from jobs import services
from presets.models import Preset


class Command(BaseCommand):
    help = "Create a job from a preset and queue its first layer. Prints the job id."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--preset", required=True, help="the preset's slug")
        parser.add_argument("--matchup", help="a matchup id from the data source (default: the date's first game)")
        parser.add_argument("--date", help="YYYY-MM-DD (default: today)")
        parser.add_argument("--sport", help="nfl, nba, ... (default: the matchup's, or nfl)")
        parser.add_argument("--source", default="", help="L1 data source (default: the preset's)")
        parser.add_argument("--batch", action="store_true", help="review it in the studio's batch grid")
        parser.add_argument("--no-review", action="store_true", help="approve the plan as built and render at once")

    def handle(self, *args, **options) -> None:
        require_database()
        try:
            preset = Preset.objects.get(slug=options["preset"])
        except Preset.DoesNotExist:
            slugs = ", ".join(Preset.objects.values_list("slug", flat=True)) or "none: run `manage.py load_presets`"
            raise CommandError(f"no preset {options['preset']!r} (there are: {slugs})") from None
        inputs = {
            "sport": options["sport"] or _sport_of(options["matchup"]) or "nfl",
            "date": options["date"] or (None if options["matchup"] else timezone.localdate().isoformat()),
            "matchup_id": options["matchup"],
            "source": options["source"],
            "batch": options["batch"],
            "auto_approve": options["no_review"],
        }
        try:
            job = services.job_create(preset=preset, inputs=inputs)
        except services.InvalidInput as exc:
            raise CommandError(f"the job's inputs are invalid: {exc}") from None
        self.stdout.write(str(job.id))


def _sport_of(matchup_id: str | None) -> str | None:
    """Fixture matchup ids start with their sport (e.g. nfl-2026-11-22-buf-kc)."""
    if matchup_id and "-" in matchup_id:
        return matchup_id.split("-", 1)[0]
    return None
