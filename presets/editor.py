"""The preset editor's sections: which config fields a designer edits as a form, and with which control.

The page draws one control per field from this list; each carries the field's dotted path in the
config, and the page's script keeps the form and the JSON (the advanced view) in step. The server
validates the whole config either way (presets.models.config_errors) and names each bad field by its path.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from PIL import ImageFont

from pipeline.contracts.preset import PLATFORM_SAFE_ZONES
from pipeline.text import FONT_DIR


@dataclass(frozen=True)
class Control:
    path: str
    label: str
    kind: str  # number, checkbox, select, text, palette, palette_pick, font, order, zones
    options: tuple = ()
    low: float | None = None
    high: float | None = None
    step: float = 1
    help: str = ""


@dataclass(frozen=True)
class Section:
    title: str
    controls: list[Control] = field(default_factory=list)


ENTRANCES = ("none", "fade", "slide_up", "slide_left", "pop")
SECTIONS = [
    Section("Format and duration", [
        Control("format.width", "Width (px)", "number", low=320, high=2160),
        Control("format.height", "Height (px)", "number", low=320, high=3840),
        Control("format.fps", "Frames per second", "number", low=12, high=60),
        Control("format.slide_seconds", "Seconds per slide (carousel reel)", "number", low=0.5, high=30, step=0.5),
        Control("format.carousel_reel", "Carousel: also make a reel of the slides", "checkbox"),
        Control("segments.max_total_s", "Longest piece (s)", "number", low=1, high=180),
    ]),
    Section("Scenes", [
        Control("segments.order", "Order", "order", help="Move a part up or down; turned-off parts are skipped."),
        Control("segments.hook", "Hook", "checkbox"),
        Control("segments.hook_s", "Hook (s)", "number", low=0.5, high=15, step=0.5),
        Control("segments.matchup", "Matchup", "checkbox"),
        Control("segments.props", "Props (how many)", "number", low=0, high=8),
        Control("segments.segment_s", "Matchup and each prop (s)", "number", low=0.5, high=20, step=0.5),
        Control("segments.cta", "Call to action", "checkbox"),
        Control("segments.cta_s", "Call to action (s)", "number", low=0.5, high=15, step=0.5),
    ]),
    Section("Text", [
        Control("brand.heading_font", "Heading font", "font"),
        Control("brand.body_font", "Body font", "font"),
        Control("brand.headline_size", "Headline size (px at 1080 wide)", "number", low=16, high=300),
        Control("brand.body_size", "Body size", "number", low=12, high=200),
        Control("layout.min_sizes.headline", "Smallest headline when shrunk to fit", "number", low=12, high=200),
        Control("layout.min_sizes.stat", "Smallest stat", "number", low=12, high=200),
        Control("layout.min_sizes.body", "Smallest body", "number", low=12, high=200),
        Control("layout.min_sizes.cta", "Smallest call to action", "number", low=12, high=200),
        Control("brand.palette", "Palette", "palette", help="The colours a reviewer may pick from."),
        Control("brand.text_color", "Text colour", "palette_pick"),
        Control("brand.accent_color", "Accent colour (stats)", "palette_pick"),
        Control("layout.legibility", "When a colour does not read", "select", options=(
            ("stroke", "outline the text"), ("panel", "put a panel behind it"),
            ("refuse", "refuse a reviewer's pick"))),
        Control("brand.margin", "Margin (px)", "number", low=0, high=400),
        Control("compliance.text", "Compliance line", "text"),
        Control("compliance.size", "Compliance size", "number", low=18, high=80),
    ]),
    Section("Safe zones", [
        Control("layout.safe_zones", "Areas the platform covers", "zones",
                help="Fractions of the frame kept clear of text and logos. Off: the platform's defaults."),
    ]),
    Section("Motion", [
        Control("motion.kenburns", "Ken Burns zoom per second", "number", low=0, high=0.2, step=0.01),
        Control("motion.text_entrance", "Text entrance", "select", options=tuple((e, e) for e in ENTRANCES)),
        Control("motion.entrance_s", "Entrance (s)", "number", low=0, high=2, step=0.05),
        Control("motion.transition", "Scene transition (reels)", "select", options=(
            ("cut", "cut"), ("crossfade", "crossfade"), ("push", "push up"), ("zoom", "zoom in"))),
        Control("motion.transition_s", "Transition (s)", "number", low=0.05, high=1.5, step=0.05),
    ]),
    Section("Voice and music", [
        Control("voice.words_per_minute", "Speaking pace (words a minute)", "number", low=80, high=400),
        Control("voice.bed", "Music made offline", "select", options=(
            ("drive", "drive (four on the floor, minor)"), ("bounce", "bounce (half-time, syncopated)"),
            ("off", "no music")), help="Used when no brand music bed is set."),
        Control("voice.tempo_bpm", "Tempo (beats a minute)", "number", low=70, high=180,
                help="Scene cuts land on its beats."),
        Control("voice.music_gain", "Music level", "number", low=0, high=1, step=0.05),
        Control("voice.duck_gain", "Music under the voice (relative)", "number", low=0, high=1, step=0.05),
    ]),
    Section("Preview and providers", [
        Control("preview.enabled", "Pause for review (preview on)", "checkbox"),
        Control("providers.data.name", "Data", "select", options=(
            ("fixture", "fixture (offline slate)"), ("balldontlie", "BallDontLie"), ("goatedbets", "GoatedBets"))),
        Control("providers.ideas.name", "Script", "select", options=(
            ("template", "template (offline copywriter)"), ("llm", "a language model"))),
        Control("providers.audio.name", "Voice", "select", options=(
            ("piper", "Piper neural voice (offline)"), ("espeak", "eSpeak NG (offline, robotic)"),
            ("openai_tts", "OpenAI speech"), ("elevenlabs", "ElevenLabs"))),
        Control("providers.media.name", "Pictures", "select", options=(
            ("procedural", "procedural (offline)"), ("openai_images", "OpenAI images"), ("flux", "Flux"),
            ("gemini_images", "Gemini images"), ("comfyui", "ComfyUI"))),
        Control("providers.media.options.style", "Picture style", "select", options=(
            ("arena", "arena (the sport's ground under stadium light)"), ("energy", "energy (gradient and streaks)"),
            ("illustrated", "illustrated (flat hills and confetti)"), ("stat", "stat board (dark grid)"))),
    ]),
]


def fonts() -> list[dict]:
    """The fonts a preset may use: the shipped ones and the brand's uploads."""
    found = [{"file": path.name, "family": _family(path), "source": "shipped"}
             for path in sorted(FONT_DIR.glob("*.[ot]tf"))]
    uploaded = Path(settings.MEDIA_ROOT) / "brand" / "fonts"
    if uploaded.is_dir():
        found += [{"file": path.name, "family": _family(path), "source": "uploaded"}
                  for path in sorted(uploaded.glob("*.[ot]tf"))]
    return found


def _family(path: Path) -> str:
    """The name the font file gives itself ("Bebas Neue Bold"), as a designer knows it; the file's name when the
    file does not say."""
    try:
        family, style = ImageFont.truetype(str(path), size=12).getname()
    except OSError:
        return path.stem.replace("-", " ")
    if not family:
        return path.stem.replace("-", " ")
    return family if style in (None, "", "Regular", "Book") else f"{family} {style}"


def platform_zones() -> dict:
    return {kind.value: zones.model_dump() for kind, zones in PLATFORM_SAFE_ZONES.items()}
