"""Offline art with numpy and Pillow: the sport's ground under stadium light, textured backgrounds in team colours,
versus art, illustrated slides.

Text and numbers are never baked into the art: they are plan layers, laid out
and traced to the data. The art only carries colour, texture and shapes.

The smooth parts (gradients, glows, vignettes, stripes that are antialiased
anyway) are computed at half size and scaled up; only the grain is made at full
size, where it must be sharp. A quarter of the pixels makes a reel's art in a
third of the time, which is most of the wait for a preview.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from pipeline.text import load_font


def rgb(hex_color: str) -> np.ndarray:
    return np.array([int(hex_color[i: i + 2], 16) for i in (1, 3, 5)], dtype=np.float32)


def _seed(*parts: str) -> np.random.Generator:
    return np.random.default_rng(int.from_bytes(hashlib.sha256("|".join(parts).encode()).digest()[:8], "big"))


def _grid(width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    y = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None]
    x = np.linspace(0.0, 1.0, width, dtype=np.float32)[None, :]
    return x, y


def _mix(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    return a * (1 - t[..., None]) + b * t[..., None]


def _draft(width: int, height: int) -> tuple[int, int]:
    """The size the smooth parts are computed at."""
    return max(1, width // 2), max(1, height // 2)


def _finish(img: np.ndarray, rng: np.random.Generator, size: tuple[int, int], grain: float = 5.0) -> Image.Image:
    """Scale the draft up to `size` and add a soft film grain: it breaks up banding in the gradients, and being
    a couple of pixels wide (not one) it survives the encoder instead of turning to mush, so the video stays
    true to the plan. The grain is drawn at half size and scaled up, which makes it those two pixels wide."""
    width, height = size
    full = cv2.resize(img.astype(np.float32), (width, height), interpolation=cv2.INTER_CUBIC)
    noise = rng.standard_normal((max(1, height // 2), max(1, width // 2)), dtype=np.float32)
    noise = cv2.resize(cv2.GaussianBlur(noise, (0, 0), 0.8), (width, height), interpolation=cv2.INTER_LINEAR)
    full += (noise * np.float32(grain * 1.55))[..., None]
    np.clip(full, 0, 255, out=full)
    return Image.fromarray(full.astype(np.uint8))


def energy(width: int, height: int, primary: str, secondary: str, seed: str) -> Image.Image:
    """A dark diagonal gradient in the team's colours with speed stripes and a glow: reels."""
    rng = _seed("energy", seed)
    x, y = _grid(*_draft(width, height))
    aspect = height / width
    diagonal = np.clip((x + y * aspect) / (1 + aspect), 0, 1)
    dark = np.array([8, 10, 18], dtype=np.float32)
    base = _mix(rgb(primary) * 0.85, dark, diagonal ** 0.8)
    cx, cy = rng.uniform(0.25, 0.75), rng.uniform(0.2, 0.45)
    glow = np.exp(-(((x - cx) * 1.6) ** 2 + ((y - cy) * 1.6 / aspect * aspect) ** 2) * 5.0)
    base += glow[..., None] * rgb(secondary) * 0.45
    stripes = (np.sin((x * width * 0.9 - y * height * 0.5) / 26.0) > 0.93).astype(np.float32)
    band = np.exp(-(((x - y * 0.55) - rng.uniform(0.0, 0.4)) / 0.18) ** 2)
    base += (stripes * band)[..., None] * 38.0
    vignette = 1.0 - 0.45 * (((x - 0.5) * 1.2) ** 2 + ((y - 0.5) * 1.1) ** 2)
    return _finish(base * vignette[..., None], rng, (width, height))


def versus(width: int, height: int, away: tuple[str, str, str], home: tuple[str, str, str], seed: str) -> Image.Image:
    """Two team colours split on a diagonal, with the teams' letters as a large faint texture."""
    rng = _seed("versus", seed)
    x, y = _grid(*_draft(width, height))
    split = (y - 0.5) + (x - 0.5) * 0.35
    edge = np.clip(split * 30 + 0.5, 0, 1)
    base = _mix(rgb(away[1]) * 0.8, rgb(home[1]) * 0.8, edge)
    shade = 0.55 + 0.45 * (1 - np.abs(split) * 1.6).clip(0, 1)
    image = _finish(base * shade[..., None], rng, (width, height), grain=4.0)
    # Translucent marks go on a layer of their own: Pillow does not blend text drawn straight onto RGB.
    marks = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(marks)
    font = load_font("BebasNeue-Bold.otf", int(width * 0.55))
    draw.text((width * 0.5, height * 0.27), away[0], font=font, anchor="mm", fill=(255, 255, 255, 30))
    draw.text((width * 0.5, height * 0.74), home[0], font=font, anchor="mm", fill=(255, 255, 255, 30))
    line_y = height * 0.5
    draw.line([(0, line_y + width * 0.175), (width, line_y - width * 0.175)], fill=(255, 255, 255, 90),
              width=max(4, width // 120))
    return Image.alpha_composite(image.convert("RGBA"), marks).convert("RGB")


def illustrated(width: int, height: int, primary: str, secondary: str, seed: str) -> Image.Image:
    """Flat illustration: layered hills, a sun disc and confetti in the team palette: carousels."""
    rng = _seed("illustrated", seed)
    x, y = _grid(width, height)
    sky = _mix(rgb(secondary) * 0.35 + 20, rgb(primary) * 0.45, np.broadcast_to(y, (height, width)))
    image = Image.fromarray(np.clip(sky, 0, 255).astype(np.uint8)).convert("RGBA")
    marks = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(marks)
    r = width * rng.uniform(0.16, 0.24)
    cx, cy = width * rng.uniform(0.6, 0.8), height * rng.uniform(0.16, 0.26)
    draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=(*[int(v) for v in rgb(secondary)], 220))
    for layer, shade in enumerate((0.55, 0.4, 0.25)):
        base_y = height * (0.55 + 0.13 * layer)
        phase, amp = rng.uniform(0, 6.28), height * 0.045
        points = [(px, base_y + amp * np.sin(px / width * 6.28 * (1 + layer * 0.4) + phase))
                  for px in np.linspace(0, width, 48)]
        colour = tuple(int(v) for v in np.clip(rgb(primary) * shade + 10 * layer, 0, 255))
        draw.polygon([*points, (width, height), (0, height)], fill=colour)
    for _ in range(36):
        px, py, size = rng.uniform(0, width), rng.uniform(0, height * 0.5), rng.uniform(6, 16)
        colour = rgb(secondary) if rng.random() < 0.5 else np.array([255, 255, 255])
        draw.rectangle([px, py, px + size, py + size * 0.5], fill=(*[int(v) for v in colour], 150))
    return Image.alpha_composite(image, marks).convert("RGB").filter(ImageFilter.SMOOTH)


def stat_board(width: int, height: int, primary: str, secondary: str, seed: str) -> Image.Image:
    """A dark board with a fine grid and team-colour accent bands: single stat images."""
    rng = _seed("stat", seed)
    x, y = _grid(width, height)
    base = _mix(np.array([14, 17, 28], dtype=np.float32), np.array([6, 8, 14], dtype=np.float32),
                np.broadcast_to(y, (height, width)))
    grid = ((np.mod(x * width, 54) < 2) | (np.mod(y * height, 54) < 2)).astype(np.float32)
    base += grid[..., None] * 9.0
    top = np.exp(-((y - 0.04) / 0.05) ** 2)[..., None] * rgb(primary) * 0.9
    bottom = np.exp(-((y - 0.97) / 0.04) ** 2)[..., None] * rgb(secondary) * 0.7
    glow = np.exp(-(((x - 0.5) / 0.5) ** 2 + ((y - 0.45) / 0.35) ** 2) * 2.0)[..., None] * rgb(primary) * 0.25
    return _finish(base + top + bottom + glow, rng, (width, height), grain=3.0)


# -------------------------------------------------------------------------------------------- the sport's ground

def _ground_marks(sport: str, scale: float) -> tuple[Image.Image, tuple[float, float]]:
    """The playing surface's lines seen from above, white on transparent, at `scale` pixels a foot (a yard for
    football), with the surface's size in those units: a gridiron, a court, a rink or a diamond."""
    line = (255, 255, 255, 255)
    if sport in ("nba", "ncaab"):
        size = (50.0, 94.0)  # feet
    elif sport == "nhl":
        size = (85.0, 200.0)
    elif sport == "mlb":
        size = (330.0, 330.0)
    else:
        size = (53.3, 120.0)  # yards
    w, h = int(size[0] * scale), int(size[1] * scale)
    marks = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    draw = ImageDraw.Draw(marks)
    thin, thick = max(1, int(scale * 0.25)), max(2, int(scale * 0.5))

    def px(x: float, y: float) -> tuple[float, float]:
        return x * scale, y * scale

    def circle(cx: float, cy: float, r: float, width: int = thin) -> None:
        draw.ellipse([*px(cx - r, cy - r), *px(cx + r, cy + r)], outline=line, width=width)

    if sport in ("nba", "ncaab"):
        draw.rectangle([0, 0, w - 1, h - 1], outline=line, width=thick)
        draw.line([px(0, 47), px(50, 47)], fill=line, width=thin)
        circle(25, 47, 6)
        for end, toward in ((0.0, 1), (94.0, -1)):
            draw.rectangle([*px(17, min(end, end + 19 * toward)), *px(33, max(end, end + 19 * toward))],
                           outline=line, width=thin)
            circle(25, end + 19 * toward, 6)
            arc = [*px(25 - 23.75, end + 5.25 * toward - 23.75), *px(25 + 23.75, end + 5.25 * toward + 23.75)]
            draw.arc(arc, 0 if toward > 0 else 180, 180 if toward > 0 else 360, fill=line, width=thin)
    elif sport == "nhl":
        draw.rounded_rectangle([0, 0, w - 1, h - 1], radius=28 * scale, outline=line, width=thick)
        for y, colour in ((100, (255, 60, 70, 255)), (75, (70, 120, 255, 255)), (125, (70, 120, 255, 255)),
                          (11, (255, 60, 70, 255)), (189, (255, 60, 70, 255))):
            draw.line([px(0, y), px(85, y)], fill=colour, width=thick if y in (75, 100, 125) else thin)
        for cx, cy in ((42.5, 100), (20.5, 31), (64.5, 31), (20.5, 169), (64.5, 169)):
            circle(cx, cy, 15)
    elif sport == "mlb":
        home = (165.0, 300.0)
        bases = [home, (228.6, 236.4), (165.0, 172.8), (101.4, 236.4)]
        draw.polygon([px(*b) for b in bases], outline=line, width=thick)
        draw.line([px(*home), px(0, 135)], fill=line, width=thin)
        draw.line([px(*home), px(330, 135)], fill=line, width=thin)
        draw.arc([*px(-165, -30), *px(495, 630)], 228, 312, fill=line, width=thick)
        circle(165.0, 241.0, 9)
        circle(165.0, 238.0, 95)
    else:
        for yard in range(0, 121, 5):
            draw.line([px(0, yard), px(53.3, yard)], fill=line, width=thick if yard % 10 == 0 else thin)
        for yard in range(10, 111):
            for x in (0.5, 23.6, 29.7, 52.8):
                draw.line([px(x - 0.5, yard), px(x + 0.5, yard)], fill=line, width=thin)
        draw.rectangle([0, 0, w - 1, h - 1], outline=line, width=thick)
    return marks, size


def arena(width: int, height: int, primary: str, secondary: str, seed: str, sport: str = "nfl") -> Image.Image:
    """The sport's own ground under stadium light, as a broadcast camera sees it: the surface in the team's
    colour, its lines in perspective toward a horizon, dark stands above with the lights' glow: reels."""
    rng = _seed("arena", sport, seed)
    dw, dh = _draft(width, height)
    x, y = _grid(dw, dh)
    horizon = rng.uniform(0.36, 0.44)
    stands = _mix(np.array([10, 12, 20], dtype=np.float32), rgb(primary) * 0.22 + 8,
                  np.broadcast_to(np.clip(y / horizon, 0, 1), (dh, dw)))
    surface_colour = {"nba": np.array([120, 82, 48]), "ncaab": np.array([120, 82, 48]),
                      "nhl": np.array([150, 170, 185])}.get(sport, np.array([24, 92, 44])).astype(np.float32)
    tint = 0.55 * surface_colour + 0.45 * rgb(primary)
    depth = np.clip((y - horizon) / (1 - horizon), 0, 1)
    # Farther ground is darker; stripes of mown grass (or boards, or ice) run across it.
    ground = tint[None, None, :] * (0.22 + 0.33 * depth[..., None])
    bands = 0.5 + 0.5 * np.sign(np.sin(1 / np.maximum(depth, 0.02) * 2.2))
    ground *= (0.9 + 0.1 * bands)[..., None]
    base = np.where((y >= horizon)[..., None], ground, stands)
    # The lines: the ground's diagram warped onto the floor in perspective, its far end at the horizon.
    # About 1,400 px along the ground's length: fine enough for the near lines, cheap to warp.
    marks, size = _ground_marks(sport, scale=1400 / {"nba": 94, "ncaab": 94, "nhl": 200, "mlb": 330}.get(sport, 120))
    mw, mh = marks.size
    near, far = dw * rng.uniform(1.5, 1.9), dw * rng.uniform(0.42, 0.55)
    centre = dw * rng.uniform(0.42, 0.58)
    shown = rng.uniform(0.35, 0.6)  # how much of the ground's length the camera takes in
    top = mh * rng.uniform(0.0, 1 - shown)
    source = np.float32([[0, top], [mw, top], [mw, top + mh * shown], [0, top + mh * shown]])
    floor = np.float32([[centre - far / 2, horizon * dh], [centre + far / 2, horizon * dh],
                        [centre + near / 2, dh * 1.02], [centre - near / 2, dh * 1.02]])
    warp = cv2.getPerspectiveTransform(source, floor)
    lines = cv2.warpPerspective(np.asarray(marks, dtype=np.float32), warp, (dw, dh), flags=cv2.INTER_AREA)
    alpha = (lines[..., 3:4] / 255.0) * (0.16 + 0.3 * depth[..., None])
    base = base * (1 - alpha) + lines[..., :3] * alpha
    # Stadium light: a glow from the lights above the stands, the secondary colour's light on the ground.
    for _ in range(3):
        lx, ly = rng.uniform(0.1, 0.9), rng.uniform(0.04, horizon * 0.7)
        glow = np.exp(-(((x - lx) / 0.05) ** 2 + ((y - ly) / 0.03) ** 2))
        base += glow[..., None] * 150
        base += np.exp(-(((x - lx) / 0.35) ** 2 + ((y - ly) / 0.25) ** 2))[..., None] * 18
    base += np.exp(-(((x - 0.5) / 0.6) ** 2 + ((y - horizon - 0.05) / 0.12) ** 2))[..., None] * rgb(secondary) * 0.12
    vignette = 1.0 - 0.5 * (((x - 0.5) * 1.25) ** 2 + ((y - 0.55) * 1.1) ** 2)
    return _finish(base * vignette[..., None], rng, (width, height), grain=4.0)


def badge(side: int, abbreviation: str, primary: str, secondary: str) -> Image.Image:
    """A team's crest, `side` pixels square with transparency: a shield in its primary colour edged in its
    secondary, its abbreviation in the display face, a light sheen on the upper half."""
    scale = 4  # drawn large and scaled down: smooth edges
    size = side * scale
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)

    def shield(inset: float) -> list[tuple[float, float]]:
        left, right, top = size * 0.12 + inset, size * 0.88 - inset, size * 0.06 + inset
        shoulder, point = size * 0.58, size * 0.96 - inset * 1.4
        return [(left, top), (right, top), (right, shoulder), (size / 2, point), (left, shoulder)]

    fill, edge = tuple(int(v) for v in rgb(primary)), tuple(int(v) for v in rgb(secondary))
    if abs(sum(fill) - sum(edge)) < 60:  # two colours too alike to tell apart: the edge goes white
        edge = (255, 255, 255)
    draw.polygon(shield(0), fill=(*edge, 255))
    draw.polygon(shield(size * 0.045), fill=(*fill, 255))
    sheen = Image.new("RGBA", image.size, (0, 0, 0, 0))
    ImageDraw.Draw(sheen).polygon(shield(size * 0.045)[:3] + [(size * 0.12, size * 0.4)], fill=(255, 255, 255, 34))
    image = Image.alpha_composite(image, sheen)
    draw = ImageDraw.Draw(image)
    light = sum(v * w for v, w in zip(fill, (0.2126, 0.7152, 0.0722), strict=True)) > 150
    font = load_font("BebasNeue-Bold.otf", int(size * (0.42 if len(abbreviation) <= 3 else 0.34)))
    draw.text((size / 2, size * 0.44), abbreviation, font=font, anchor="mm",
              fill=(12, 14, 20, 255) if light else (255, 255, 255, 255))
    return image.resize((side, side), Image.LANCZOS)


STYLES = {"energy": energy, "illustrated": illustrated, "stat": stat_board, "arena": arena}


# ---------------------------------------------------------------------------------------------- reference looks
# A preset's reference images give the offline art the brand's look: its colours as a gradient map over the
# art's light and shade, and its texture (the fine detail left when a blurred copy is taken away). The team's
# colours stay in the art; the look is laid over them at a strength that keeps the picture theirs.

LOOK_COLOURS = 5


@dataclass(frozen=True)
class Look:
    palette: tuple[tuple[int, int, int], ...]   # dominant colours, darkest first
    texture: np.ndarray                          # float32 detail, about -1..1, of a reference


def reference_look(images: list[Image.Image]) -> Look:
    """The colours and texture of the reference images (at least one)."""
    pixels = np.concatenate([np.asarray(image.convert("RGB").resize((96, 96), Image.BILINEAR)).reshape(-1, 3)
                             for image in images])
    strip = Image.fromarray(pixels.reshape(-1, 96, 3).astype(np.uint8))
    # Median cut is deterministic: the same references always give the same look.
    quantized = strip.quantize(colors=LOOK_COLOURS, method=Image.Quantize.MEDIANCUT)
    raw = quantized.getpalette()[: LOOK_COLOURS * 3]
    counts = sorted(quantized.getcolors(), reverse=True)
    colours = [tuple(raw[index * 3: index * 3 + 3]) for _, index in counts]
    colours.sort(key=lambda c: 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2])
    gray = np.asarray(images[0].convert("L").resize((512, 512), Image.BILINEAR), dtype=np.float32)
    detail = gray - cv2.GaussianBlur(gray, (0, 0), 6.0)
    scale = float(np.percentile(np.abs(detail), 98)) or 1.0
    return Look(palette=tuple(colours), texture=np.clip(detail / scale, -1, 1))


def apply_look(image: Image.Image, look: Look, *, colour: float = 0.35, texture: float = 14.0) -> Image.Image:
    """The art in the references' look: a gradient map of their colours mixed in, and their texture laid on."""
    art = np.asarray(image.convert("RGB"), dtype=np.float32)
    height, width = art.shape[:2]
    light = (art @ np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)) / 255.0
    stops = np.array(look.palette, dtype=np.float32)
    positions = np.linspace(0.0, 1.0, len(stops), dtype=np.float32)
    mapped = np.stack([np.interp(light, positions, stops[:, channel]) for channel in range(3)], axis=-1)
    toned = art * (1 - colour) + mapped.astype(np.float32) * colour
    grain = cv2.resize(look.texture, (width, height), interpolation=cv2.INTER_LINEAR)
    toned += grain[..., None] * np.float32(texture)
    return Image.fromarray(np.clip(toned, 0, 255).astype(np.uint8))
