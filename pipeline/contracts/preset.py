"""A preset's configuration: formats, providers per layer, brand rules, segment rules, voice."""
from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, StringConstraints, ValidationError, field_validator, model_validator

from pipeline.contracts.base import ContentKind, Contract, HexColor, non_finite_path
from pipeline.contracts.providers import PROVIDER_OPTIONS

DEFAULT_COMPLIANCE = "21+ · Gambling problem? Call 1-800-GAMBLER"


class FormatSpec(Contract):
    kind: ContentKind
    width: int = Field(ge=320, le=2160)
    height: int = Field(ge=320, le=3840)
    fps: int = Field(default=30, ge=12, le=60)
    slide_seconds: float = Field(default=3.0, gt=0, le=30, description="carousel: seconds a slide shows in its reel")
    carousel_reel: bool = Field(default=False, description="carousel: also make a reel of the slides")
    image_format: Literal["jpeg", "png"] = Field(default="jpeg", description="slides and stills: JPEG is what "
                                                 "Instagram's API and TikTok's photo posts take")


class ProviderChoice(Contract):
    """A named provider of one layer and the options it takes (pipeline/contracts/providers.py), checked against
    that provider's own list: bounds kept, an unknown option refused by name."""

    LAYER: ClassVar[str] = ""
    name: str = Field(min_length=1, pattern=r"^[a-z0-9_]+$")
    options: dict[str, Any] = {}

    @field_validator("options")
    @classmethod
    def _finite(cls, value: dict[str, Any]) -> dict[str, Any]:
        if where := non_finite_path(value):
            raise ValueError(f"options.{where} is not a finite number")
        return value

    @model_validator(mode="after")
    def _options_of_the_provider(self) -> ProviderChoice:
        known = PROVIDER_OPTIONS.get(self.LAYER)
        if known is None:
            return self
        if self.name not in known:
            raise ValueError(f"unknown provider {self.name!r} (known: {', '.join(known)})")
        schema = known[self.name]
        try:
            checked = schema.model_validate(self.options)
        except ValidationError as exc:
            raise ValueError("; ".join(_option_problem(self.name, schema, err) for err in exc.errors())) from None
        self.options = checked.model_dump(mode="json", exclude_unset=True)
        return self


def _option_problem(provider: str, schema: type[Contract], err: dict) -> str:
    where = "options." + ".".join(str(part) for part in err.get("loc", ()))
    if err.get("type") == "extra_forbidden":
        takes = ", ".join(schema.model_fields) or "no options"
        return (f"{where}: {provider} does not take this option (it takes: {takes}); where a provider is "
                f"reached and with which key is set by the operator in the environment")
    return f"{where}: {err.get('msg', 'invalid')}"


class DataChoice(ProviderChoice):
    LAYER: ClassVar[str] = "data"


class IdeasChoice(ProviderChoice):
    LAYER: ClassVar[str] = "ideas"


class AudioChoice(ProviderChoice):
    LAYER: ClassVar[str] = "audio"


class MediaChoice(ProviderChoice):
    LAYER: ClassVar[str] = "media"


class DestinationChoice(Contract):
    """Where L7 hands the files on: a destination a desk admin set up (presets.models.Destination), by name.
    Its folder or address is the desk admin's; a preset only picks one."""

    name: str = Field(min_length=1, max_length=50, pattern=r"^[a-z0-9][a-z0-9_-]*$")
    also: list[Annotated[str, Field(min_length=1, max_length=50, pattern=r"^[a-z0-9][a-z0-9_-]*$")]] = Field(
        default=[], max_length=8, description="more destinations the same files go to (the brand's platform "
                                              "accounts beside the folder), each delivered exactly once")

    @property
    def names(self) -> list[str]:
        return list(dict.fromkeys([self.name, *self.also]))


class Providers(Contract):
    data: DataChoice = DataChoice(name="fixture")
    ideas: IdeasChoice = IdeasChoice(name="template")
    audio: AudioChoice = AudioChoice(name="piper")
    media: MediaChoice = MediaChoice(name="procedural")
    distribution: DestinationChoice | None = None


class FontSpec(Contract):
    family: str = Field(min_length=1)
    file: str = Field(pattern=r"^[A-Za-z0-9._-]+\.(ttf|otf)$", description="a file in static/fonts/")


class BrandRules(Contract):
    heading_font: FontSpec = FontSpec(family="Bebas Neue Bold", file="BebasNeue-Bold.otf")
    body_font: FontSpec = FontSpec(family="League Spartan Bold", file="LeagueSpartan-Bold.otf")
    palette: list[HexColor] = Field(default=["#FFD400", "#FFFFFF", "#0B0F1A", "#19E68C", "#FF3B5C"], min_length=2)
    text_color: HexColor = "#FFFFFF"
    accent_color: HexColor = "#FFD400"
    logo: str | None = Field(default=None, description="a logo file in MEDIA_ROOT/brand/")
    references: list[str] = Field(default=[], max_length=4,
                                  description="reference images in MEDIA_ROOT/brand/: L5's providers take them, "
                                              "and the procedural art takes their palette and texture")
    # A team's own logo (its abbreviation -> a PNG in MEDIA_ROOT/brand/) shown instead of the crest L5 draws.
    team_logos: dict[Annotated[str, StringConstraints(pattern=r"^[A-Z]{2,4}$")],
                     Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._-]+\.png$")]] = Field(
        default={}, max_length=128)
    headline_size: int = Field(default=96, ge=16, le=300)
    body_size: int = Field(default=54, ge=12, le=200)
    margin: int = Field(default=80, ge=0, le=400)

    @model_validator(mode="after")
    def _colours_in_palette(self) -> BrandRules:
        for name in ("text_color", "accent_color"):
            if getattr(self, name) not in self.palette:
                raise ValueError(f"{name} {getattr(self, name)} must be one of the palette's colours")
        return self


class SegmentRules(Contract):
    # The order the parts of a piece come in (each appears once; the ones turned off are skipped).
    order: list[Literal["hook", "matchup", "props", "cta"]] = ["hook", "matchup", "props", "cta"]
    hook: bool = True
    matchup: bool = True
    props: int = Field(default=3, ge=0, le=8)
    cta: bool = True
    hook_s: float = Field(default=3.0, gt=0, le=15)
    segment_s: float = Field(default=5.0, gt=0, le=20)
    cta_s: float = Field(default=3.0, gt=0, le=15)
    max_total_s: float = Field(default=60.0, gt=0, le=180)

    @model_validator(mode="after")
    def _at_least_one(self) -> SegmentRules:
        if not (self.hook or self.matchup or self.props or self.cta):
            raise ValueError("a preset needs at least one segment")
        if sorted(self.order) != ["cta", "hook", "matchup", "props"]:
            raise ValueError("order names hook, matchup, props and cta, each once")
        return self


class VoiceSpec(Contract):
    voice: str = Field(default="en-us", pattern=r"^[a-z]{2,3}(-[a-z0-9]{2,8})*(\+[a-z0-9]+)?$")
    words_per_minute: int = Field(default=175, ge=80, le=400)
    pitch: int = Field(default=50, ge=0, le=99)
    music: str | None = Field(default=None, description="a music bed file in MEDIA_ROOT/brand/")
    bed: Literal["off", "drive", "bounce"] = Field(
        default="drive", description="the music made offline (pipeline/music.py) when no brand bed is set")
    tempo_bpm: int = Field(default=120, ge=70, le=180, description="the bed's tempo; scene cuts land on its beats")
    music_gain: float = Field(default=0.25, ge=0, le=1)
    duck_gain: float = Field(default=0.35, ge=0, le=1, description="music level under speech, relative")
    loudness_lufs: float = Field(default=-14.0, ge=-30, le=-9,
                                 description="the mix's integrated loudness; the platforms play at about -14")


class MotionStyle(Contract):
    kenburns: float = Field(default=0.04, ge=0, le=0.2, description="zoom per second")
    text_entrance: Literal["none", "fade", "slide_up", "slide_left", "pop"] = "slide_up"
    entrance_s: float = Field(default=0.35, ge=0, le=2)
    # How each scene of a reel comes in over the one before it (a carousel's slides are stills: no transition).
    transition: Literal["cut", "crossfade", "push", "zoom"] = "crossfade"
    transition_s: float = Field(default=0.3, gt=0, le=1.5)


class PreviewSpec(Contract):
    enabled: bool = True
    # Suggestions at review: a vision model's critique of the frames, from the first of OpenAI, Anthropic and
    # Gemini whose key is set ("auto"), from the one named, or none ("off"). The other checks always run.
    critique: Literal["auto", "off", "openai", "anthropic", "gemini"] = "auto"


class ComplianceSpec(Contract):
    text: str = Field(default=DEFAULT_COMPLIANCE, min_length=10, max_length=200)
    size: int = Field(default=30, ge=18, le=80)

    @field_validator("text")
    @classmethod
    def _names_age_and_help(cls, value: str) -> str:
        if "21+" not in value and "18+" not in value:
            raise ValueError("the compliance text must state the minimum age (21+ or 18+)")
        return value


class SafeZones(Contract):
    """The parts of the frame a platform covers with its own interface, as fractions of the frame:
    no text, stat or logo goes there."""

    top: float = Field(default=0.0, ge=0, le=0.4)
    bottom: float = Field(default=0.0, ge=0, le=0.4)
    left: float = Field(default=0.0, ge=0, le=0.4)
    right: float = Field(default=0.0, ge=0, le=0.4)


# 9:16 reels: TikTok's and Instagram's own buttons, captions and account line cover the top ~12 %, the bottom
# ~20 % and a right-hand column ~12 % wide (TikTok Creative Center's safe-zone guide, 1080x1920: about 130 px
# top, 370-480 px bottom, 120-140 px right; Instagram's Reels guidance: keep the top 14 % and the lower part
# clear of text). Feed carousels and square images are not covered.
PLATFORM_SAFE_ZONES = {
    ContentKind.REEL: SafeZones(top=0.12, bottom=0.20, left=0.0, right=0.12),
    ContentKind.CAROUSEL: SafeZones(),
    ContentKind.STILL: SafeZones(),
}


class LayoutRules(Contract):
    """What every plan is held to (pipeline/design.py): text fits its box, nothing collides, the safe
    zones stay clear, and text reads against what is behind it."""

    safe_zones: SafeZones | None = Field(default=None, description="None: the format's platform default")
    # The smallest a text of each role may be shrunk to fit, in pixels at a 1080-wide frame.
    min_sizes: dict[Literal["headline", "stat", "body", "cta"], int] = Field(
        default={"headline": 56, "stat": 64, "body": 30, "cta": 40})
    # What makes a colour that does not read against its background readable: an outline, a panel behind
    # the text, or (for a reviewer's pick) refusing the colour.
    legibility: Literal["stroke", "panel", "refuse"] = "stroke"

    @field_validator("min_sizes")
    @classmethod
    def _sane_sizes(cls, value: dict) -> dict:
        for role, size in value.items():
            if not 12 <= size <= 200:
                raise ValueError(f"the smallest {role} size must be between 12 and 200 px")
        return value


class CaptionStyle(Contract):
    """Word-timed captions on reels: a few words at a time, the one being spoken highlighted."""

    enabled: bool = True
    max_words: int = Field(default=4, ge=1, le=10)
    max_chars: int = Field(default=24, ge=6, le=60)
    size: int = Field(default=64, ge=24, le=160, description="px at a 1080-wide frame")
    min_size: int = Field(default=40, ge=12, le=160, description="the smallest a group may shrink to fit")
    color: HexColor = "#FFFFFF"
    highlight_color: HexColor | None = Field(default=None, description="the spoken word's colour; unset: the "
                                                                        "brand's accent colour")
    highlight: Literal["color", "box"] = "box"
    uppercase: bool = True


class PresetConfig(Contract):
    format: FormatSpec
    providers: Providers = Providers()
    brand: BrandRules = BrandRules()
    segments: SegmentRules = SegmentRules()
    voice: VoiceSpec = VoiceSpec()
    motion: MotionStyle = MotionStyle()
    preview: PreviewSpec = PreviewSpec()
    compliance: ComplianceSpec = ComplianceSpec()
    layout: LayoutRules = LayoutRules()
    captions: CaptionStyle = CaptionStyle()
    hashtags: list[str] = Field(default=[], max_length=30)

    @property
    def safe_zones(self) -> SafeZones:
        return self.layout.safe_zones or PLATFORM_SAFE_ZONES[self.format.kind]
