"""The design rules every plan is held to, measured with the real fonts and the real pictures:

- fit: a text's ink (its glyphs and their outline) stays inside its box; too long or too large, it is
  shrunk down to its role's floor size, and past that the wording is refused;
- no collisions: two texts on screen at the same time never overlap;
- safe zones: no text and no logo where the platform draws its own interface;
- contrast: text reads against what is behind it, WCAG's 4.5:1 for body text and 3:1 for large text,
  or it gets the preset's treatment (an outline, or a panel behind it), or a reviewer's colour is refused.

`pipeline/plan.py` calls `enforce` whenever it builds or adjusts a plan (it stays the one place a plan
changes); `violations` measures a finished plan from scratch, for the tests and as a last check.
A layer's entrance motion (a slide, a pop) is not measured: it lasts a fraction of a second, mostly
transparent.
"""
from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image

from pipeline.errors import AdjustmentError, PipelineError
from pipeline.text import font_path, layout, load_font

Rect = tuple[float, float, float, float]  # x0, y0, x1, y1
TOLERANCE = 1.0  # px: anti-aliasing at the edge of a box is not an overflow
SHRINK = 0.92
BODY_RATIO, LARGE_RATIO = 4.5, 3.0
# WCAG's large text is 18 pt, or 14 pt bold: 24 px and 18.7 px on a 96-dpi screen; in a 1080-px-wide frame
# seen on a phone that is about twice as many pixels.
LARGE_PX_AT_1080 = 48
# The share of the backdrop a text's contrast is measured against: the darkest (or brightest) 5 % of a busy
# picture may be ignored, the rest must reach the ratio.
WORST_SHARE = 5.0
PANEL_OPACITY = 0.88
PANEL_FILLS = ("#000000", "#FFFFFF")


class TextTooLong(AdjustmentError):
    """A wording that does not fit its box even at the smallest size its role allows; `room` is the fit meter's
    figure for it (how many characters too many, as a negative number)."""

    def __init__(self, layer_id: str, floor: float, fitting: int, length: int) -> None:
        self.layer_id, self.fitting = layer_id, fitting
        # The estimate may say more would fit than the text has (its own words wrap worse than the average):
        # the rule is the layout, which refused it, so the meter shows at least one too many.
        self.room = -max(1, length - fitting)
        super().__init__(f"the text of {layer_id} does not fit its box: at the smallest size ({floor:.0f} px) "
                         f"about {fitting} characters fit, and it has {length}", field=f"text_edits.{layer_id}",
                         hint="shorten it")


# ---------------------------------------------------------------------------------------------- text geometry


@functools.lru_cache(maxsize=65536)
def _glyph_box(text: str, font_file: str, size: float, stroke: int) -> tuple[int, int, int, int]:
    return load_font(font_file, size).getbbox(text, anchor="ls", stroke_width=stroke)


def ink_rect(lines, *, font_file: str, size: float, ascent: float, stroke: float = 0.0) -> Rect:
    """The box around every glyph of the laid-out lines, outline included, in frame pixels."""
    x0 = y0 = float("inf")
    x1 = y1 = float("-inf")
    for line in lines:
        text = line["text"] if isinstance(line, dict) else line.text
        x = line["x"] if isinstance(line, dict) else line.x
        y = line["y"] if isinstance(line, dict) else line.y
        if not text.strip():
            continue
        left, top, right, bottom = _glyph_box(text, font_file, size, int(round(stroke)))
        baseline = y + ascent * size
        x0, y0, x1, y1 = min(x0, x + left), min(y0, baseline + top), max(x1, x + right), max(y1, baseline + bottom)
    if x0 == float("inf"):
        return (0.0, 0.0, 0.0, 0.0)
    return (x0, y0, x1, y1)


def caption_group_ink(group: dict, *, font_file: str, size: float, ascent: float, stroke: float,
                      line_height: float) -> Rect:
    """The ink of a caption group: its words with their outline, and the highlight box around any of them."""
    lines = [{"text": word["text"], "x": word["x"], "y": group["lines_y"][word["line"]]} for word in group["words"]]
    x0, y0, x1, y1 = ink_rect(lines, font_file=font_file, size=size, ascent=ascent, stroke=stroke)
    for word in group["words"]:
        bx, by, bw, bh, _ = highlight_box(word, group, size, line_height)
        x0, y0, x1, y1 = min(x0, bx), min(y0, by), max(x1, bx + bw), max(y1, by + bh)
    return (x0, y0, x1, y1)


def highlight_box(word: dict, group: dict, size: float, line_height: float) -> tuple[int, int, int, int, int]:
    """The box behind a highlighted caption word (x, y, width, height, radius): one formula, drawn by both
    renderers (compositor.py and canvas.js) with these whole pixels."""
    pad = size * 0.14
    top = group["lines_y"][word["line"]]
    return (int(round(word["x"] - pad)), int(round(top - 0.1 * size)), int(round(word["width"] + 2 * pad)),
            int(round(size * (line_height + 0.3))), int(round(size * 0.18)))


def inside(inner: Rect, outer: Rect, tolerance: float = TOLERANCE) -> bool:
    return (inner[0] >= outer[0] - tolerance and inner[1] >= outer[1] - tolerance
            and inner[2] <= outer[2] + tolerance and inner[3] <= outer[3] + tolerance)


def overlap(a: Rect, b: Rect) -> bool:
    return a[0] < b[2] - TOLERANCE and b[0] < a[2] - TOLERANCE and a[1] < b[3] - TOLERANCE and b[1] < a[3] - TOLERANCE


def box_rect(box) -> Rect:
    if isinstance(box, dict):
        return (box["x"], box["y"], box["x"] + box["width"], box["y"] + box["height"])
    return (box.x, box.y, box.x + box.width, box.y + box.height)


@functools.lru_cache(maxsize=64)
def _ascent(font_file: str) -> float:
    ascent, _ = load_font(font_file, 1000).getmetrics()
    return ascent / 1000


def _nudge(low: float, high: float, box_low: float, box_high: float) -> float:
    """How far to move ink spanning low..high so that it sits inside box_low..box_high, when it is small enough:
    a glyph's side bearing, a descender or an outline reaches a few pixels past where its advance ends."""
    if high - low > box_high - box_low:
        return 0.0
    if low < box_low:
        return box_low - low
    if high > box_high:
        return box_high - high
    return 0.0


def _lay(text: str, layer: dict, font_file: str, size: float) -> tuple[list[dict], Rect]:
    from pipeline.contracts.plan import Box

    lines = [line.model_dump() for line in layout(
        text, font_file=font_file, size=size, box=Box.model_validate(layer["box"]), align=layer.get("align", "left"),
        valign=layer.get("valign", "top"), line_height=layer.get("line_height", 1.15))]
    stroke = layer.get("stroke_width") or 0.0
    ink = ink_rect(lines, font_file=font_file, size=size, ascent=_ascent(font_file), stroke=stroke)
    box = box_rect(layer["box"])
    dx, dy = _nudge(ink[0], ink[2], box[0], box[2]), _nudge(ink[1], ink[3], box[1], box[3])
    if dx or dy:
        for line in lines:
            line["x"], line["y"] = round(line["x"] + dx, 2), round(line["y"] + dy, 2)
        ink = (ink[0] + dx, ink[1] + dy, ink[2] + dx, ink[3] + dy)
    return lines, ink


def fits(text: str, layer: dict, font_file: str, size: float) -> bool:
    return inside(_lay(text, layer, font_file, size)[1], box_rect(layer["box"]))


def chars_that_fit(text: str, layer: dict, font_file: str, size: float) -> int:
    """About how many characters of text like this one fit the box at `size` (the fit meter's figure)."""
    pattern = (text.strip() or "M") + " "
    # A first guess from the text's average character width and the lines the box holds, then a binary
    # search around it: a handful of layouts instead of nine.
    width = load_font(font_file, size).getlength(pattern) / len(pattern)
    x0, y0, x1, y1 = box_rect(layer["box"])
    guess = int((x1 - x0) / max(width, 1e-3)) * max(1, int((y1 - y0) / (size * layer.get("line_height", 1.15))))
    low, high = max(0, min(400, int(guess * 0.5))), min(400, int(guess * 1.3) + 2)
    if not fits((pattern * (low // len(pattern) + 1))[:low].strip() or "M", layer, font_file, size):
        low = 0
    if fits((pattern * (high // len(pattern) + 1))[:high].strip() or "M", layer, font_file, size):
        low = high = 400 if high >= 400 else high
        high = 400
    while low < high:
        n = (low + high + 1) // 2
        if fits((pattern * (n // len(pattern) + 1))[:n].strip() or "M", layer, font_file, size):
            low = n
        else:
            high = n - 1
    return low


def fit(layer: dict, font_file: str, floor: float) -> None:
    """Lay the text out at its size, shrinking it towards `floor` until its ink fits the box; refuse past that."""
    size = layer["size"]
    while True:
        lines, ink = _lay(layer["text"], layer, font_file, size)
        if inside(ink, box_rect(layer["box"])):
            layer["size"], layer["lines"] = size, lines
            return
        if size <= floor + 1e-6:
            raise TextTooLong(layer["id"], floor, chars_that_fit(layer["text"], layer, font_file, floor),
                              len(layer["text"]))
        # Sizes on a half-pixel grid keep the font cache small.
        size = max(floor, round(size * SHRINK * 2) / 2)


# ---------------------------------------------------------------------------------------------- contrast


def _linear(channel: np.ndarray) -> np.ndarray:
    c = channel / 255.0
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def luminance(rgb) -> np.ndarray:
    """WCAG relative luminance of sRGB colours (..., 3) in 0..255."""
    rgb = np.asarray(rgb, dtype=np.float64)
    return 0.2126 * _linear(rgb[..., 0]) + 0.7152 * _linear(rgb[..., 1]) + 0.0722 * _linear(rgb[..., 2])


def hex_rgb(color: str) -> tuple[int, int, int]:
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


def ratio(l1, l2):
    high, low = np.maximum(l1, l2), np.minimum(l1, l2)
    return (high + 0.05) / (low + 0.05)


def needed_ratio(role: str, size: float, width: int) -> float:
    large = role in ("headline", "stat", "cta") or size >= LARGE_PX_AT_1080 * width / 1080
    return LARGE_RATIO if large else BODY_RATIO


def reads(color: str, backdrop: np.ndarray, needed: float) -> bool:
    """Whether `color` reaches `needed` against all but the worst few per cent of the backdrop's luminances."""
    if backdrop.size == 0:
        return True
    ratios = ratio(float(luminance(hex_rgb(color))), backdrop)
    return float(np.percentile(ratios, WORST_SHARE)) >= needed - 1e-9


def outline_for(color: str) -> str:
    """Black or white, whichever stands out more from the text colour (one of them always reaches 4.58:1)."""
    text = float(luminance(hex_rgb(color)))
    return "#000000" if ratio(text, 0.0) >= ratio(text, 1.0) else "#FFFFFF"


@functools.lru_cache(maxsize=16)
def _picture(path: str, mtime: float) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"), dtype=np.uint8)


# Every eighth pixel each way is plenty for a percentile, and keeps the sample small.
STEP = 8


@functools.lru_cache(maxsize=2048)
def _backdrop(key: str) -> np.ndarray:
    """Luminances behind a rect over a time range: the background (with its Ken Burns motion) at three moments,
    and the shapes drawn under the text. Cached by everything they depend on, so adjusting is cheap."""
    import cv2

    from pipeline.contracts.plan import Background
    from pipeline.motion import kenburns_view

    spec = json.loads(key)
    x0, y0, x1, y1 = (int(round(v)) for v in spec["rect"])
    width, height = spec["size"]
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(width, x1), min(height, y1)
    if x1 <= x0 or y1 <= y0:
        return np.zeros(0)
    sampled = (-(-(x1 - x0) // STEP), -(-(y1 - y0) // STEP))  # (width, height) of the sample grid
    samples = []
    for part in spec["scenes"]:
        background = Background.model_validate(part["background"])
        start, end = part["range"]
        for t in (start, (start + end) / 2, max(start, end - 1e-3)):
            if background.asset is None:
                region = np.broadcast_to(np.array(hex_rgb(background.color), dtype=np.float64),
                                         (sampled[1], sampled[0], 3))
            else:
                pixels = _picture(part["path"], part["mtime"])
                scene = _SceneTimes(start=part["scene"][0], end=part["scene"][1])
                vx, vy, vw, vh = kenburns_view(background, scene, t, (pixels.shape[1], pixels.shape[0]),
                                               (width, height))
                sx, sy = vw / width, vh / height
                # Only the sampled pixels (every STEP-th each way) are resampled: the matrix steps STEP output
                # pixels at a time.
                matrix = np.array([[sx * STEP, 0.0, vx + (x0 + 0.5) * sx - 0.5],
                                   [0.0, sy * STEP, vy + (y0 + 0.5) * sy - 0.5]])
                region = cv2.warpAffine(pixels, matrix, sampled, flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                        borderMode=cv2.BORDER_REPLICATE).astype(np.float64)
            for shape in part["shapes"]:
                sx0, sy0, sx1, sy1 = (int(round(v)) for v in shape["rect"])
                # In sampled pixels: sample j stands at x0 + STEP * j.
                ax0, ay0 = -(-(max(sx0, x0) - x0) // STEP), -(-(max(sy0, y0) - y0) // STEP)
                ax1, ay1 = -(-(min(sx1, x1) - x0) // STEP), -(-(min(sy1, y1) - y0) // STEP)
                if ax1 > ax0 and ay1 > ay0:
                    alpha = shape["opacity"]
                    region = region.copy()
                    region[ay0:ay1, ax0:ax1] = (1 - alpha) * region[ay0:ay1, ax0:ax1] + alpha * np.array(
                        hex_rgb(shape["fill"]), dtype=np.float64)
            samples.append(luminance(region).ravel())
    return np.concatenate(samples) if samples else np.zeros(0)


@functools.lru_cache(maxsize=8192)
def _reads(color: str, key: str, needed: float) -> bool:
    return reads(color, _backdrop(key), needed)


class _SceneTimes:
    """The two fields of a Scene that the Ken Burns view reads."""

    def __init__(self, *, start: float, end: float) -> None:
        self.start, self.end = start, end


def _asset_facts(base_dir: Path, asset: str | None) -> tuple[str, float]:
    if asset is None:
        return "", 0.0
    path = (Path(base_dir) / asset).resolve()
    if Path(base_dir).resolve() not in path.parents or not path.is_file():
        raise PipelineError(f"the plan names {asset}, which is not in the job folder", field=asset)
    return str(path), path.stat().st_mtime


def backdrop(plan: dict, layer: dict, scene: dict | None, base_dir: Path) -> str:
    """The luminances behind a text layer's box: its scene's background and the shapes drawn before it, or for
    an overlay text (shown over every scene) every scene's background and the overlay shapes before it."""
    rect = box_rect(layer["box"])
    scenes = [scene] if scene is not None else plan["scenes"]
    parts = []
    for item in scenes:
        path, mtime = _asset_facts(base_dir, item["background"].get("asset"))
        if scene is not None:
            under = item["layers"][: item["layers"].index(layer)]
        else:  # over every scene's layers, and the overlay drawn before it
            under = [*item["layers"], *plan["overlay"][: plan["overlay"].index(layer)]]
        shapes = [{"rect": box_rect(s["box"]), "fill": s["fill"], "opacity": s.get("fill_opacity", 1.0) * s.get(
            "opacity", 1.0)} for s in under if s["type"] == "shape" and overlap(box_rect(s["box"]), rect)]
        parts.append({"background": item["background"], "path": path, "mtime": mtime, "scene": [item["start"],
                      item["end"]], "range": [item["start"], item["end"]], "shapes": shapes})
    # The key names everything the pixels behind the text depend on; `readable` looks the pixels up by it.
    return json.dumps({"rect": [round(v, 1) for v in rect], "size": [plan["width"], plan["height"]],
                       "scenes": parts}, sort_keys=True)


def readable(color: str, behind: str, needed: float) -> bool:
    """Whether `color` reads against the backdrop `behind` (a key from `backdrop`)."""
    return _reads(color, behind, round(needed, 3))


# ---------------------------------------------------------------------------------------------- enforcing


def texts(plan: dict) -> Iterator[tuple[dict, dict | None]]:
    for scene in plan["scenes"]:
        for layer in scene["layers"]:
            if layer["type"] == "text":
                yield layer, scene
    for layer in plan["overlay"]:
        if layer["type"] == "text":
            yield layer, None


def _font_files(plan: dict) -> dict[str, str]:
    return {font["family"]: font["file"] for font in plan["fonts"]}


def _panel(layer: dict, scene: dict | None, plan: dict, fill: str) -> None:
    """A panel behind the text (the preset's `panel` treatment), inserted just under it."""
    x0, y0, x1, y1 = box_rect(layer["box"])
    panel = {"type": "shape", "id": f"{layer['id']}_panel", "shape": "rounded_rect",
             "radius": round(0.2 * layer["size"], 2), "fill": fill, "fill_opacity": PANEL_OPACITY,
             "box": {"x": x0, "y": y0, "width": x1 - x0, "height": y1 - y0},
             "start": layer["start"], "end": layer["end"], "motion": {"enter": "fade", "enter_s": 0.2}}
    siblings = scene["layers"] if scene is not None else plan["overlay"]
    siblings.insert(siblings.index(layer), panel)


def enforce(plan: dict, *, base_dir: Path, min_sizes: dict[str, float], picks: dict[str, str] | None = None,
            measure: bool | set[str] = False) -> None:
    """Hold a plan (as a dict, changed in place) to the rules: outline or panel where a colour does not read,
    shrink what does not fit, and record for each editable text its floor, room and readable colours.

    `measure`: the texts whose room is measured (True: every editable one); the others keep the figures
    they carry (measuring takes a handful of layouts).

    `picks` are the colours a reviewer chose; with the `refuse` treatment one that does not read is refused
    (an AdjustmentError-like PipelineError naming colors.<layer>). Raises TextTooLong for a wording that
    cannot fit."""
    fonts = _font_files(plan)
    picks = picks or {}
    width = plan["width"]
    for layer, scene in list(texts(plan)):
        font_file = fonts[layer["font"]]
        # The floor a plan was built with travels with it (min_size); a new plan takes the preset's; a role
        # without one (the odds stamp) may shrink back to its built size.
        role_floor = min_sizes.get(layer["role"])
        wanted_floor = layer.get("min_size") or (role_floor * width / 1080 if role_floor else layer["base_size"])
        floor = min(layer["size"], wanted_floor)
        needed = needed_ratio(layer["role"], layer["size"], width)
        behind = backdrop(plan, layer, scene, base_dir)
        if layer.get("editable", True):
            layer["readable_colors"] = [c for c in plan["palette"] if readable(c, behind, needed)]
            layer["min_size"] = round(floor, 2)
        already_treated = layer.get("stroke_width", 0) >= _outline_width(layer) and layer.get("stroke_color") and (
            ratio(float(luminance(hex_rgb(layer["color"]))), float(luminance(hex_rgb(layer["stroke_color"]))))
            >= needed)
        panel_ids = {item["id"] for item in (scene["layers"] if scene is not None else plan["overlay"])}
        if not readable(layer["color"], behind, needed) and not already_treated and (
                f"{layer['id']}_panel" not in panel_ids):
            treatment = plan.get("legibility", "stroke")
            if treatment == "refuse" and layer["id"] in picks:
                options = ", ".join(layer.get("readable_colors") or []) or "none of the palette"
                raise PipelineError(f"{picks[layer['id']]} does not read on the background of {layer['id']} "
                                    f"(needs {needed:g}:1); colours that do: {options}",
                                    field=f"colors.{layer['id']}")
            if treatment == "panel":
                text = float(luminance(hex_rgb(layer["color"])))
                _panel(layer, scene, plan, max(PANEL_FILLS, key=lambda f: ratio(text, float(luminance(hex_rgb(f))))))
            else:
                layer["stroke_color"] = outline_for(layer["color"])
                layer["stroke_width"] = _outline_width(layer)
        fit(layer, font_file, floor)
        if layer.get("editable", True) and (measure is True or (measure and layer["id"] in measure)):
            layer["max_chars"] = chars_that_fit(layer["text"], layer, font_file, floor)
            # The meter's figure for a text `fit` has just accepted: never "too many" for what the layout holds.
            layer["room"] = max(0, layer["max_chars"] - len(layer["text"]))


def _outline_width(layer: dict) -> float:
    return round(min(20.0, max(2.0, layer["size"] * 0.05)), 2)


# ---------------------------------------------------------------------------------------------- checking


def violations(plan, base_dir: Path) -> list[str]:
    """Every breach of the rules in a finished plan, measured from its lines, boxes and pictures."""
    data = plan.model_dump(mode="json") if hasattr(plan, "model_dump") else plan
    fonts = _font_files(data)
    found = []
    inks = []
    for layer, scene in texts(data):
        font_file = fonts[layer["font"]]
        font_path(font_file)
        ink = ink_rect(layer["lines"], font_file=font_file, size=layer["size"], ascent=_ascent(font_file),
                       stroke=layer.get("stroke_width") or 0.0)
        if not inside(ink, box_rect(layer["box"])):
            found.append(f"overflow: {layer['id']} ink {tuple(round(v) for v in ink)} leaves its box")
        inks.append((layer, ink))
        needed = needed_ratio(layer["role"], layer["size"], data["width"])
        outlined = layer.get("stroke_color") and layer.get("stroke_width", 0) >= 2 and ratio(
            float(luminance(hex_rgb(layer["color"]))), float(luminance(hex_rgb(layer["stroke_color"])))) >= needed
        if not outlined and not readable(layer["color"], backdrop(data, layer, scene, base_dir), needed):
            found.append(f"contrast: {layer['id']} ({layer['color']}) does not reach {needed:g}:1")
    for index, (a, ink_a) in enumerate(inks):
        for b, ink_b in inks[index + 1:]:
            if a["start"] < b["end"] and b["start"] < a["end"] and overlap(ink_a, ink_b):
                found.append(f"collision: {a['id']} and {b['id']} overlap")
    for layer in [item for item in data["overlay"] if item["type"] == "captions"]:
        font_file = fonts[layer["font"]]
        for index, group in enumerate(layer["groups"]):
            ink = caption_group_ink(group, font_file=font_file, size=layer["size"], ascent=_ascent(font_file),
                                    stroke=layer.get("stroke_width") or 0.0, line_height=layer["line_height"])
            if not inside(ink, box_rect(layer["box"])):
                found.append(f"overflow: caption group {index} leaves the caption box")
            for other, other_ink in inks:
                if other["start"] < group["end"] and group["start"] < other["end"] and overlap(ink, other_ink):
                    found.append(f"collision: caption group {index} and {other['id']} overlap")
            timed = dict(layer, id=f"{layer['id']}_{index}", start=group["start"], end=group["end"])
            inks.append((timed, ink))
        outlined = layer.get("stroke_color") and layer.get("stroke_width", 0) >= 2 and ratio(
            float(luminance(hex_rgb(layer["color"]))), float(luminance(hex_rgb(layer["stroke_color"])))) >= 3
        boxed = layer["highlight"] != "box" or ratio(float(luminance(hex_rgb(layer["box_color"]))),
                                                     float(luminance(hex_rgb(layer["highlight_color"])))) >= 3
        if not outlined or not boxed:
            found.append(f"contrast: the captions ({layer['color']} on {layer['highlight_color']}) do not read")
    zones = [box_rect(zone["box"]) for zone in data.get("safe_zones", [])]
    for layer, ink in inks:
        if any(overlap(ink, zone) for zone in zones):
            found.append(f"safe zone: {layer['id']} is where the platform draws its own interface")
    for layer in [*[lay for s in data["scenes"] for lay in s["layers"]], *data["overlay"]]:
        if layer["type"] == "image" and any(overlap(box_rect(layer["box"]), zone) for zone in zones):
            found.append(f"safe zone: {layer['id']} is where the platform draws its own interface")
    return found
