"""The RenderPlan: the one description of a piece that the browser preview and L6 both draw.

Units are output pixels and seconds from the start of the piece. Text is laid out
on the server with the real font file, so `TextLayer.lines` is final: neither
renderer wraps text again.
"""
from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AwareDatetime, Field, model_validator

from pipeline.contracts.base import ContentKind, Contract, HexColor, JobFile
from pipeline.contracts.l3 import Figure


class Easing(StrEnum):
    LINEAR = "linear"
    EASE_OUT_CUBIC = "ease_out_cubic"
    EASE_IN_OUT_CUBIC = "ease_in_out_cubic"
    EASE_OUT_BACK = "ease_out_back"


class Entrance(StrEnum):
    NONE = "none"
    FADE = "fade"
    SLIDE_UP = "slide_up"
    SLIDE_LEFT = "slide_left"
    SLIDE_RIGHT = "slide_right"
    POP = "pop"
    # Data graphics: a bar grows from its foot, a meter fills from its left edge (the layer's box is the end state)
    GROW_UP = "grow_up"
    GROW_RIGHT = "grow_right"


class Motion(Contract):
    """How a layer comes in and goes out. Both renderers implement these formulas (pipeline/motion.py)."""

    enter: Entrance = Entrance.NONE
    enter_s: float = Field(default=0.0, ge=0, le=3)
    exit: Literal["none", "fade"] = "none"
    exit_s: float = Field(default=0.0, ge=0, le=3)
    easing: Easing = Easing.EASE_OUT_CUBIC
    distance: float = Field(default=120.0, ge=0, le=2000, description="pixels travelled by a slide")


class KenBurns(Contract):
    from_scale: float = Field(ge=1, le=3)
    to_scale: float = Field(ge=1, le=3)
    from_x: float = Field(default=0.5, ge=0, le=1, description="centre of the view, as a fraction of the image")
    from_y: float = Field(default=0.5, ge=0, le=1)
    to_x: float = Field(default=0.5, ge=0, le=1)
    to_y: float = Field(default=0.5, ge=0, le=1)
    easing: Easing = Easing.LINEAR


class Background(Contract):
    color: HexColor = "#000000"
    asset: JobFile | None = None
    kenburns: KenBurns | None = None


class Box(Contract):
    x: float
    y: float
    width: float = Field(gt=0)
    height: float = Field(gt=0)


class TextLine(Contract):
    text: str
    x: float = Field(description="left edge of the line's ink box")
    y: float = Field(description="top of the line box; the baseline is y + the font's ascent")
    width: float = Field(ge=0)


class FontRef(Contract):
    family: str = Field(min_length=1)
    file: str = Field(min_length=1, description="file name under static/fonts/")
    ascent: float = Field(gt=0, description="ascent per pixel of font size, read from the file")
    descent: float = Field(ge=0)


class LayerBase(Contract):
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    start: float = Field(ge=0)
    end: float = Field(gt=0)
    opacity: float = Field(default=1.0, ge=0, le=1)
    motion: Motion = Motion()

    @model_validator(mode="after")
    def _ordered(self):
        if self.end <= self.start:
            raise ValueError(f"layer {self.id} ends before it starts")
        return self


class TextRole(StrEnum):
    HEADLINE = "headline"
    BODY = "body"
    STAT = "stat"
    CTA = "cta"
    COMPLIANCE = "compliance"
    STAMP = "stamp"


class Count(Contract):
    """A number in a text that runs up to itself from zero over its layer's first `duration` seconds (both
    renderers: pipeline/motion.py count_text)."""

    number: str = Field(pattern=r"^\d{1,7}(\.\d{1,3})?$", description="the number in the text, as written there")
    duration: float = Field(gt=0, le=3)


MAX_TEXT_PX = 400  # the largest text a plan may set (a reviewer's scaling is held to it)


class TextLayer(LayerBase):
    type: Literal["text"] = "text"
    role: TextRole
    text: str = Field(min_length=1, max_length=400)
    font: str
    size: float = Field(gt=4, le=MAX_TEXT_PX)
    base_size: float = Field(gt=4, le=MAX_TEXT_PX, description="the size before adjustments")
    color: HexColor
    stroke_color: HexColor | None = None
    stroke_width: float = Field(default=0, ge=0, le=20)
    align: Literal["left", "center", "right"] = "left"
    valign: Literal["top", "middle", "bottom"] = "top"
    box: Box = Field(description="where the text may go; lines are laid out inside it")
    line_height: float = Field(default=1.15, ge=0.8, le=2)
    lines: list[TextLine] = Field(min_length=1)
    sources: list[Figure] = []
    editable: bool = True
    # Design guard facts for the adjust panel (pipeline/design.py): the smallest size the text may be
    # shrunk to, about how many characters fit in the box at that size, how many more this wording has room
    # for (the fit meter's figure), and the palette colours that read against what is behind the text
    # without help.
    min_size: float | None = Field(default=None, gt=0)
    max_chars: int | None = Field(default=None, ge=0)
    room: int | None = Field(default=None, ge=0)
    readable_colors: list[HexColor] = []
    count: Count | None = None

    @model_validator(mode="after")
    def _counts_a_number_it_shows(self):
        if self.count is not None and not any(self.count.number in line.text for line in self.lines):
            raise ValueError(f"layer {self.id} counts {self.count.number}, which its lines do not show")
        return self


class ImageLayer(LayerBase):
    type: Literal["image"] = "image"
    asset: JobFile | str
    box: Box


class ShapeLayer(LayerBase):
    type: Literal["shape"] = "shape"
    shape: Literal["rect", "rounded_rect"] = "rect"
    box: Box
    radius: float = Field(default=0, ge=0)
    fill: HexColor
    fill_opacity: float = Field(default=1.0, ge=0, le=1)


class CaptionWord(Contract):
    text: str = Field(min_length=1, max_length=80)
    start: float = Field(ge=0)
    end: float = Field(gt=0)
    x: float = Field(description="pen origin of the word on its line")
    width: float = Field(ge=0, description="the word's advance width")
    line: int = Field(default=0, ge=0, description="which line of its group")


class CaptionGroup(Contract):
    """A few words shown together, from the first word's start to `end`; one of them is highlighted at a time."""

    start: float = Field(ge=0)
    end: float = Field(gt=0)
    lines_y: list[float] = Field(min_length=1, description="the top of each line box")
    words: list[CaptionWord] = Field(min_length=1)
    said: str = Field(default="", max_length=400, description="the words as spoken, in their own case (for the "
                                                               "caption files; the frame shows `words` styled)")
    shown: bool = Field(default=True, description="false: not drawn (a reviewer turned captions off for its scene, "
                                                  "where they would repeat the scene's own text); the caption files "
                                                  "keep it, they are the speech")

    @model_validator(mode="after")
    def _consistent(self) -> CaptionGroup:
        if self.end <= self.start:
            raise ValueError("a caption group ends before it starts")
        for word in self.words:
            if word.line >= len(self.lines_y):
                raise ValueError(f"caption word {word.text!r} is on line {word.line}, which the group does not have")
        return self


class CaptionLayer(LayerBase):
    """Word-timed captions: both renderers show, at time t, the group whose time holds t, with the word whose
    time holds t highlighted (pipeline/motion.py caption_state; static/previews/motion.js captionState)."""

    type: Literal["captions"] = "captions"
    font: str
    size: float = Field(gt=4, le=400)
    color: HexColor
    highlight_color: HexColor
    highlight: Literal["color", "box"] = "box"
    box_color: HexColor = Field(default="#000000", description="the box behind the highlighted word (box style)")
    stroke_color: HexColor | None = None
    stroke_width: float = Field(default=0, ge=0, le=20)
    box: Box = Field(description="where captions may go")
    line_height: float = Field(default=1.15, ge=0.8, le=2)
    groups: list[CaptionGroup] = Field(min_length=1)
    sources: list[Figure] = []
    min_size: float | None = Field(default=None, gt=0)


Layer = Annotated[TextLayer | ImageLayer | ShapeLayer | CaptionLayer, Field(discriminator="type")]


class Transition(Contract):
    """How a scene comes in over the one before it (held at its last moment) in its first `duration` seconds.
    Both renderers draw these formulas (pipeline/motion.py transition_at and transition_look)."""

    kind: Literal["crossfade", "push", "zoom"]
    duration: float = Field(gt=0, le=1.5)


class Scene(Contract):
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    segment_id: str | None = None
    start: float = Field(ge=0)
    end: float = Field(gt=0)
    background: Background
    layers: list[Layer] = []
    transition: Transition | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Scene:
        if self.end <= self.start:
            raise ValueError(f"scene {self.id} ends before it starts")
        return self


class Zone(Contract):
    """A part of the frame a platform covers with its own interface: no text, stat or logo there."""

    name: str
    box: Box


class AudioTrack(Contract):
    file: JobFile
    role: Literal["narration", "music"]
    start: float = Field(default=0.0, ge=0)
    gain: float = Field(default=1.0, ge=0, le=2)


# Letters (Latin, with accents), digits and _: one class that Python's re and pydantic's regex read alike.
HASHTAG_CHARS = "0-9A-Za-z_\u00C0-\u024F"
Hashtag = Annotated[str, Field(pattern=f"^#[{HASHTAG_CHARS}]{{1,100}}$")]


class PostCopy(Contract):
    """The words that go with the piece on the platform: reviewed with the plan, frozen with it at approval, and
    delivered with its files (pipeline/post.py writes each platform's text from it)."""

    caption: str = Field(default="", max_length=2200)
    hashtags: list[Hashtag] = Field(default=[], max_length=30)
    alt_text: dict[str, Annotated[str, Field(max_length=1000)]] = Field(
        default={}, description="scene id -> what the image shows, for people who cannot see it (slides, stills)")


class RenderPlan(Contract):
    schema_version: Literal[1] = 1
    kind: ContentKind
    title: str = ""
    width: int = Field(ge=64, le=4096)
    height: int = Field(ge=64, le=4096)
    fps: int = Field(default=30, ge=1, le=60)
    duration: float = Field(gt=0, le=600)
    fonts: list[FontRef] = Field(min_length=1)
    palette: list[HexColor] = Field(min_length=1, description="the brand colours a reviewer may pick from")
    audio: list[AudioTrack] = []
    # The mix's integrated loudness (EBU R128), true peak at most -1 dBTP: the platforms play at about -14 LUFS.
    loudness_lufs: float = Field(default=-14.0, ge=-30, le=-9)
    scenes: list[Scene] = Field(min_length=1)
    overlay: list[Layer] = Field(default=[], description="layers over every scene: logo, compliance, stamps")
    odds_as_of: AwareDatetime | None = None
    safe_zones: list[Zone] = Field(default=[], description="drawn as guides in the studio, never rendered")
    legibility: Literal["stroke", "panel", "refuse"] = "stroke"
    # A reel of a carousel's slides (pipeline/plan.py reel_of_slides): the layers are laid out on a slide this
    # tall, drawn whole in the middle of the taller frame over a blurred, dimmed copy of itself.
    slide_height: int | None = Field(default=None, ge=64, le=4096)
    post: PostCopy = PostCopy()

    @model_validator(mode="after")
    def _consistent(self) -> RenderPlan:
        if self.slide_height is not None and self.slide_height > self.height:
            raise ValueError(f"a slide of {self.slide_height} px does not fit in a frame {self.height} px tall")
        previous_end = 0.0
        for index, scene in enumerate(self.scenes):
            if scene.start + 1e-6 < previous_end:
                raise ValueError(f"scene {scene.id} overlaps the scene before it")
            if scene.transition is not None and (index == 0 or scene.transition.duration > scene.end - scene.start):
                raise ValueError(f"scene {scene.id} has a transition with no scene before it or longer than itself")
            previous_end = scene.end
        if previous_end > self.duration + 1e-6:
            raise ValueError("the last scene ends after the plan's duration")
        families = {f.family for f in self.fonts}
        ids = set()
        for layer in self.all_layers():
            if layer.id in ids:
                raise ValueError(f"layer id {layer.id} is used twice")
            ids.add(layer.id)
            if isinstance(layer, TextLayer | CaptionLayer) and layer.font not in families:
                raise ValueError(f"layer {layer.id} uses font {layer.font!r}, which the plan does not list")
        if not any(isinstance(layer, TextLayer) and layer.role == TextRole.COMPLIANCE for layer in self.overlay):
            raise ValueError("every plan carries the compliance text in its overlay")
        return self

    def all_layers(self):
        for scene in self.scenes:
            yield from scene.layers
        yield from self.overlay

    def font(self, family: str) -> FontRef:
        return next(f for f in self.fonts if f.family == family)

    @property
    def frame_count(self) -> int:
        return int(round(self.duration * self.fps))
