from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from pydantic import ValidationError as PydanticValidationError

from pipeline.contracts import ContentKind, PresetConfig
from pipeline.errors import field_messages
from pipeline.render.profiles import DEFAULT_PROFILE, PROFILES


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
    # Who turned review off (preview.enabled false): the approval of every job it renders unreviewed names
    # them. Only someone who may publish without review can (jobs.publish_unreviewed); None while review is on.
    preview_off_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                       related_name="+", editable=False)
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


class Destination(models.Model):
    """Where L7 hands a job's files on, set up by a desk admin (never typed into a preset: a preset picks one
    by name). A folder is a folder under EXPORT_DIR; a webhook is an https address on the public internet, or
    on a host the operator allows in DELIVERY_ALLOWED_HOSTS (pipeline/net.py), checked here and again on the
    connection each delivery makes."""

    class Kind(models.TextChoices):
        FOLDER = "folder", "Folder under the export folder"
        WEBHOOK = "webhook", "Webhook (POST with signed file links)"

    name = models.SlugField(max_length=50, unique=True,
                            help_text="What presets call it (providers.distribution.name), like 'desk-folder'.")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    folder = models.CharField(max_length=200, blank=True,
                              help_text="Folder: a folder inside EXPORT_DIR (blank: EXPORT_DIR itself).")
    url = models.URLField(max_length=500, blank=True, help_text="Webhook: the receiver's https address.")
    profile = models.CharField(
        "encoding profile", max_length=16, default=DEFAULT_PROFILE,
        choices=[(name, profile.label) for name, profile in PROFILES.items()],
        help_text="How L6 encodes the video this destination is sent: the social profile is what Instagram "
                  "Reels, TikTok and YouTube Shorts all take as made.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from django.conf import settings

        from pipeline.net import AddressRefused, check_delivery_url
        from pipeline.paths import OutsideFolder, contained

        if self.kind == self.Kind.FOLDER:
            if self.url:
                raise ValidationError({"url": "A folder destination has no address; clear it."})
            try:
                contained(settings.PIPELINE["EXPORT_DIR"], self.folder)
            except OutsideFolder as exc:
                raise ValidationError({"folder": str(exc)}) from None
        elif self.kind == self.Kind.WEBHOOK:
            if self.folder:
                raise ValidationError({"folder": "A webhook destination has no folder; clear it."})
            if not self.url:
                raise ValidationError({"url": "Give the receiver's https address."})
            try:
                check_delivery_url(self.url, settings.PIPELINE["DELIVERY_ALLOWED_HOSTS"])
            except AddressRefused as exc:
                raise ValidationError({"url": str(exc)}) from None

    def spec(self) -> dict:
        """What L7 is given (pipeline.layers.l7_distribution): the kind, and the folder or the address."""
        return {"name": self.name, "kind": self.kind, "folder": self.folder, "url": self.url, "profile": self.profile}
