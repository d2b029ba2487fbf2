"""Text drawn once, by L6's compositor, for every screen that shows the plan.

The review page's canvas composites these pixels instead of setting the text itself: each browser's text engine
places the plan's lines a few pixels off (Firefox rounds fractional sizes, WebKit whole-pixel advances) and fades
a text's outline and fill separately, where L6 blends the finished text as one image. A sprite is named by the
hash of everything its pixels depend on, so an adjustment redraws only the layers it changed.
"""
from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass

from pipeline.contracts import RenderPlan
from pipeline.contracts.plan import TextLayer
from pipeline.render.compositor import text_image
from pipeline.text import font_path

# The fields of a text layer its pixels come from (not its times, motion or opacity: those are formulas the
# canvas applies to the whole sprite, as L6 does).
DRAWN = {"text", "lines", "font", "size", "color", "stroke_color", "stroke_width", "line_height"}
VERSION = "1"


@dataclass(frozen=True)
class Sprite:
    key: str
    png: bytes
    x: int
    y: int
    width: int
    height: int


def _font_digest(file: str) -> str:
    path = font_path(file)
    stat = path.stat()
    return f"{path.name}:{stat.st_size}:{stat.st_mtime_ns}"


def sprite_key(layer: TextLayer, plan: RenderPlan) -> str:
    font = plan.font(layer.font)
    described = {"v": VERSION, "layer": layer.model_dump(mode="json", include=DRAWN),
                 "font": font.model_dump(mode="json"), "file": _font_digest(font.file)}
    return hashlib.sha256(json.dumps(described, sort_keys=True).encode()).hexdigest()[:32]


def draw(layer: TextLayer, plan: RenderPlan, key: str | None = None) -> Sprite:
    """The layer's text as L6 draws it: an RGBA PNG and where its top-left corner goes on the frame."""
    image, x, y = text_image(layer, plan)
    buffer = io.BytesIO()
    image.save(buffer, "PNG", compress_level=1)  # fast to make; the page caches it by its name
    return Sprite(key=key or sprite_key(layer, plan), png=buffer.getvalue(), x=x, y=y, width=image.width,
                  height=image.height)


def text_layers(plan: RenderPlan) -> list[TextLayer]:
    return [layer for layer in plan.all_layers() if isinstance(layer, TextLayer)]
