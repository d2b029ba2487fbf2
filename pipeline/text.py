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


# A line should not end on a word that leads into the next one ("COWBOYS AT / EAGLES"): breaking after one
# costs more, breaking after punctuation less.
GLUE = frozenset("a an the at on of to in for and or vs vs. with by from his her their our your my is are was "
                 "be as into over under don't it's we're".split())


def _break_cost(word: str) -> float:
    if word[-1] in ",:;.?!—":
        return -0.3
    return 0.6 if word.lower() in GLUE else 0.0


def _balanced(words: list[str], font: ImageFont.FreeTypeFont, max_width: float, count: int) -> list[str]:
    """The words in `count` lines that fit, ragged as little as may be, broken at phrase boundaries where they can
    be, and with more than one word on the last line whenever the words allow (a dynamic programme over the
    break points: at most a few hundred candidate lines for a headline)."""
    n = len(words)
    inf = float("inf")
    # best[k][i]: the cost of setting words[:i] in k lines; back[k][i]: where the last of those lines starts
    best = [[inf] * (n + 1) for _ in range(count + 1)]
    back = [[0] * (n + 1) for _ in range(count + 1)]
    best[0][0] = 0.0
    for k in range(1, count + 1):
        for i in range(1, n + 1):
            for j in range(i - 1, -1, -1):
                width = text_length(font, " ".join(words[j:i]))
                if width > max_width and j < i - 1:
                    break
                if best[k - 1][j] == inf:
                    continue
                last = i == n
                slack = (max_width - width) / max_width
                cost = (0.25 * slack * slack if last else slack * slack) + (0.0 if last else _break_cost(words[i - 1]))
                if last and count > 1 and i - j == 1:
                    cost += 100.0  # a lone word on the last line: only when the words allow nothing else
                if best[k - 1][j] + cost < best[k][i]:
                    best[k][i], back[k][i] = best[k - 1][j] + cost, j
    if best[count][n] == inf:
        return []
    lines, i = [], n
    for k in range(count, 0, -1):
        j = back[k][i]
        lines.append(" ".join(words[j:i]))
        i = j
    return lines[::-1]


def wrap(text: str, font: ImageFont.FreeTypeFont, max_width: float) -> list[str]:
    """Word wrap by measured width into as few lines as the greedy wrap needs, then balanced (see _balanced);
    explicit newlines are kept."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        words = []
        for word in paragraph.split():
            words.extend(_split_long_word(word, font, max_width) if text_length(font, word) > max_width else [word])
        greedy, current = [], ""
        for word in words:
            candidate = f"{current} {word}" if current else word
            if current and text_length(font, candidate) > max_width:
                greedy.append(current)
                current = word
            else:
                current = candidate
        greedy.append(current)
        if 1 < len(greedy) and len(words) <= 40:
            greedy = _balanced(words, font, max_width, len(greedy)) or greedy
        lines.extend(greedy)
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
