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


PLATFORM_CHOICES = [("instagram", "Instagram"), ("tiktok", "TikTok"), ("youtube", "YouTube"), ("x", "X")]


class Account(models.Model):
    """A brand's account on a platform, connected by a desk admin with the platform's OAuth flow (the Accounts
    page). Its tokens are kept encrypted (presets/tokens.py) and refreshed before they end; a token the platform
    stops taking marks the account `broken`, with the reason, until it is connected again."""

    class Status(models.TextChoices):
        CONNECTED = "connected", "Connected"
        BROKEN = "broken", "Needs connecting again"
        REVOKED = "revoked", "Disconnected"

    platform = models.CharField(max_length=16, choices=PLATFORM_CHOICES)
    external_id = models.CharField(max_length=100, help_text="The account's id on the platform.")
    handle = models.CharField(max_length=120, help_text="The account's name as the desk knows it, like @brand.")
    sealed_token = models.TextField(blank=True, editable=False, help_text="The tokens, encrypted.")
    expires_at = models.DateTimeField(null=True, blank=True, help_text="When the access token ends.")
    scope = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.CONNECTED)
    problem = models.TextField(blank=True, help_text="Why it needs connecting again, in the platform's words.")
    connected_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    connected_at = models.DateTimeField(null=True, blank=True)
    refreshed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["platform", "handle"]
        constraints = [models.UniqueConstraint(fields=["platform", "external_id"], name="one_account_per_platform_id")]
        permissions = [("connect_account", "Can connect and disconnect the brand's platform accounts")]

    def __str__(self) -> str:
        return f"{self.get_platform_display()} {self.handle}"


class Destination(models.Model):
    """Where L7 hands a job's files on, set up by a desk admin (never typed into a preset: a preset picks one
    by name). A folder is a folder under EXPORT_DIR; a webhook is an https address on the public internet, or
    on a host the operator allows in DELIVERY_ALLOWED_HOSTS (pipeline/net.py), checked here and again on the
    connection each delivery makes."""

    class Kind(models.TextChoices):
        FOLDER = "folder", "Folder under the export folder"
        WEBHOOK = "webhook", "Webhook (POST with signed file links)"
        INSTAGRAM = "instagram", "Instagram account"
        TIKTOK = "tiktok", "TikTok account"
        YOUTUBE = "youtube", "YouTube channel"
        X = "x", "X account"

    name = models.SlugField(max_length=50, unique=True,
                            help_text="What presets call it (providers.distribution.name), like 'desk-folder'.")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    folder = models.CharField(max_length=200, blank=True,
                              help_text="Folder: a folder inside EXPORT_DIR (blank: EXPORT_DIR itself).")
    url = models.URLField(max_length=500, blank=True, help_text="Webhook: the receiver's https address.")
    account = models.ForeignKey(Account, null=True, blank=True, on_delete=models.PROTECT, related_name="destinations",
                                help_text="A platform: the connected account it publishes to.")
    made_for_kids = models.BooleanField(default=False, help_text="YouTube: the videos are made for kids "
                                                                  "(selfDeclaredMadeForKids).")
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
        elif self.kind in PLATFORMS:
            if self.folder or self.url:
                raise ValidationError({"url": "A platform destination publishes to its account; clear the folder "
                                              "and the address."})
            if self.account is None or self.account.platform != self.kind:
                raise ValidationError({"account": f"Pick a connected {self.get_kind_display()}."})
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
        return {"name": self.name, "kind": self.kind, "folder": self.folder, "url": self.url, "profile": self.profile,
                "account": self.account_id, "made_for_kids": self.made_for_kids}


PLATFORMS = {choice for choice, _ in PLATFORM_CHOICES}
