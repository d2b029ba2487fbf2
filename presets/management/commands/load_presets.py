import json
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from core.database import require_database
from presets.models import Preset

DATA_DIR = Path(__file__).resolve().parents[2] / "data"


class Command(BaseCommand):
    help = "Create or update the presets shipped in presets/data/*.json (matched by slug)."

    def handle(self, *args, **options) -> None:
        require_database()
        for path in sorted(DATA_DIR.glob("*.json")):
            data = json.loads(path.read_text())
            preset = Preset.objects.filter(slug=data["slug"]).first() or Preset(slug=data["slug"])
            preset.name, preset.kind, preset.config = data["name"], data["kind"], data["config"]
            try:
                preset.full_clean()
            except ValidationError as exc:
                raise CommandError(f"{path.name}: {exc.message_dict}") from None
            created = preset.pk is None
            preset.save()
            if options["verbosity"] > 1 or created:
                self.stdout.write(f"{'created' if created else 'updated'} preset {preset.slug}")
