"""Text layout with the real font files: the plan's lines are final, so both renderers agree.

A line's `x` is the pen origin (where canvas `fillText` and Pillow's anchor "ls"
start) and `y` the top of its line box; the baseline is `y + ascent * size`.
"""
from __future__ import annotations

import functools
from pathlib import Path

from PIL import ImageFont

from pipeline.contracts.plan import Box, FontRef, TextLine
from pipeline.errors import ConfigurationError

FONT_DIR = Path(__file__).resolve().parent.parent / "static" / "fonts"
# Where uploaded brand fonts live (MEDIA_ROOT/brand/fonts); set by the jobs app at start-up.
BRAND_FONT_DIR: Path | None = None


def configure(brand_font_dir: Path | None) -> None:
    global BRAND_FONT_DIR
    BRAND_FONT_DIR = Path(brand_font_dir) if brand_font_dir else None


def font_path(file: str) -> Path:
    """The font file named in a preset or plan: shipped under static/fonts/, or uploaded for the brand."""
    for folder in (FONT_DIR, BRAND_FONT_DIR):
        if folder is None:
            continue
        path = folder / file
        if path.is_file() and path.parent == folder:
            return path
    raise ConfigurationError(f"font file {file!r} is neither shipped nor uploaded",
                             hint="upload it on the preset builder, or pick one of the shipped fonts")


@functools.lru_cache(maxsize=256)
def load_font(file: str, size: float) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(font_path(file)), size=size)


@functools.lru_cache(maxsize=64)
def font_ref(family: str, file: str) -> FontRef:
    """The family, file and per-pixel vertical metrics the renderers position baselines with."""
    ascent, descent = load_font(file, 1000).getmetrics()
    return FontRef(family=family, file=file, ascent=ascent / 1000, descent=descent / 1000)


@functools.lru_cache(maxsize=65536)
def text_length(font: ImageFont.FreeTypeFont, text: str) -> float:
    """The advance width of `text`: fitting a text to its box measures the same words and lines many times."""
    return font.getlength(text)


def _split_long_word(word: str, font: ImageFont.FreeTypeFont, max_width: float) -> list[str]:
    pieces, current = [], ""
    for char in word:
        if current and text_length(font, current + char) > max_width:
            pieces.append(current)
            current = char
        else:
            current += char
    return [*pieces, current] if current else pieces


def wrap(text: str, font: ImageFont.FreeTypeFont, max_width: float) -> list[str]:
    """Greedy word wrap by measured width; explicit newlines are kept."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        words = []
        for word in paragraph.split():
            words.extend(_split_long_word(word, font, max_width) if text_length(font, word) > max_width else [word])
        current = ""
        for word in words:
            candidate = f"{current} {word}" if current else word
            if current and text_length(font, candidate) > max_width:
                lines.append(current)
                current = word
            else:
                current = candidate
        lines.append(current)
    return [line for line in lines if line] or [text.strip() or " "]


def layout(text: str, *, font_file: str, size: float, box: Box, align: str = "left", valign: str = "top",
           line_height: float = 1.15) -> list[TextLine]:
    font = load_font(font_file, size)
    rows = wrap(text, font, box.width)
    step = size * line_height
    block = step * len(rows)
    if valign == "bottom":
        top = box.y + box.height - block
    elif valign == "middle":
        top = box.y + (box.height - block) / 2
    else:
        top = box.y
    lines = []
    for index, row in enumerate(rows):
        width = text_length(font, row)
        if align == "center":
            x = box.x + (box.width - width) / 2
        elif align == "right":
            x = box.x + box.width - width
        else:
            x = box.x
        lines.append(TextLine(text=row, x=round(x, 2), y=round(top + index * step, 2), width=round(width, 2)))
    return lines
