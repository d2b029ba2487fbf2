from django.core.exceptions import ValidationError
from django.db import models
from pydantic import ValidationError as PydanticValidationError

from pipeline.contracts import ContentKind, PresetConfig
from pipeline.errors import field_messages


def config_errors(config: dict) -> dict[str, list[str]]:
    """Validate a preset config; return {dotted field: [messages in words]} (empty when valid)."""
    try:
        PresetConfig.model_validate(config)
    except PydanticValidationError as exc:
        return field_messages(exc, root="config")
    return {}


class Preset(models.Model):
    class Kind(models.TextChoices):
        REEL = ContentKind.REEL.value, "Reel (9:16 video)"
        CAROUSEL = ContentKind.CAROUSEL.value, "Carousel (slides)"
        STILL = ContentKind.STILL.value, "Single image"

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    config = models.JSONField(help_text="Validated by pipeline.contracts.PresetConfig.")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        permissions = [("upload_brand_files", "Can upload brand logos and fonts")]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if not isinstance(self.config, dict):
            raise ValidationError({"config": "The config must be a JSON object."})
        if errors := config_errors(self.config):
            raise ValidationError({"config": [f"{field}: {'; '.join(msgs)}" for field, msgs in errors.items()]})
        if self.config["format"]["kind"] != self.kind:
            raise ValidationError({"kind": f"The config's format.kind is {self.config['format']['kind']!r}; "
                                           f"it must match the preset's kind ({self.kind!r})."})
