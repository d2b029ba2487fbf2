"""Suggestions at review: checks that look at a plan and its pictures and offer fixes a reviewer applies in one
click. They run after L5 and after each adjustment; offline every deterministic check runs, and with a vision
model's key its critique of the frames is added.

- fit: a text the design guard had to shrink well below the size asked for; the fix is a shorter wording that
  fits at that size (filler words dropped, or the longest run of whole words that fits, numbers kept).
- contrast: a text whose colour needs an outline or a panel to read on its picture; the fix is the brand colour
  that reads best there.
- sharpness and exposure: a picture that is soft, too dark or too bright; the fix is another image.
- harmony: an accent-coloured text whose hue is lost in its picture's main colour; the fix is the palette colour
  that stands out most from the picture while still reading, or another image.
- critique: a vision model's notes on the frames (no fix of its own beyond a wording it may offer).

A fix is adjustment fields (the shared draft's unit, `Adjustments.with_fields`) or a scene whose picture to make
again; applying it goes through `apply_adjustments` like any other change, so it is held to the same rules.
"""
from __future__ import annotations

import colorsys
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np
from pydantic import Field

from pipeline import design
from pipeline.contracts import Adjustments, RenderPlan
from pipeline.contracts.base import Contract
from pipeline.contracts.l3 import numbers_in
from pipeline.contracts.plan import TextLayer
from pipeline.labels import Labels

Check = Literal["fit", "contrast", "sharpness", "exposure", "harmony", "critique"]

# A text shrunk below this share of the size asked for reads as a mistake.
SHRUNK = 0.8
# The variance of the Laplacian of the picture at SHARPNESS_WIDTH pixels wide, below which it looks soft: the
# shipped procedural art measures 8.8 at its flattest (an illustrated slide in dark blue), 28 to 45 otherwise,
# and the same art blurred by a 4-pixel Gaussian 0.3 to 2.3.
SHARPNESS_WIDTH = 540
SOFT = 4.0
# Mean luma (0-255) and clipped share beyond which a picture is too dark or too bright for text on it.
DARK, BRIGHT, CLIPPED = 18.0, 225.0, 0.35
# Hues closer than this (degrees) with both colours saturated: the accent does not stand out.
HUE_CLASH = 22.0
FILLER = {"the", "a", "an", "really", "very", "just", "so", "all", "that", "now", "here", "our", "your", "we're",
          "is", "are", "of", "to", "for", "and"}


class Fix(Contract):
    label: str = Field(min_length=1, max_length=200)
    changes: dict[str, Any] = {}
    regenerate: str | None = Field(default=None, description="a scene whose picture to make again")


class Suggestion(Contract):
    id: str
    check: Check
    scene: str | None = None
    layer: str | None = None
    message: str
    fix: Fix | None = None


def _texts(plan: RenderPlan):
    for scene in plan.scenes:
        for layer in scene.layers:
            if isinstance(layer, TextLayer) and layer.editable:
                yield scene, layer


def _scene_of(plan: RenderPlan, layer: TextLayer):
    return next((s for s in plan.scenes if s.start <= layer.start < s.end), None)


# ---------------------------------------------------------------------------------------------- wording


# A shortened wording never ends on one of these: "COWBOYS AT" is a fragment, not a headline.
DANGLING = {"a", "an", "and", "are", "as", "at", "but", "by", "do", "don't", "for", "from", "his", "in", "into",
            "is", "its", "my", "of", "on", "or", "our", "over", "than", "that", "the", "their", "this", "to", "under",
            "vs", "was", "were", "with", "your"}


def _whole_phrase(kept: list[str], source: list[str]) -> bool:
    """Whether the first words of `source` read as a phrase on their own: all of it, a run ending at the
    original's punctuation (a clause), or a run that does not end on a word that needs another after it."""
    if len(kept) == len(source) or kept[-1].endswith((",", ";", ":", ".", "!", "?", "—", "–")):
        return True
    return kept[-1].lower().strip(",.!?;:") not in DANGLING


def shorter_wording(layer: TextLayer, font_file: str, size: float) -> str | None:
    """A shorter wording of the layer's text that fits its box at `size`: filler words dropped, else the longest
    run of whole words from the start that keeps every number, fits and reads as a phrase (a clause of the
    original first). None when nothing shorter fits: no fragment is offered."""
    data = layer.model_dump(mode="json")
    words = layer.text.split()
    lean = [w for w in words if w.lower().strip(",.!?") not in FILLER or numbers_in(w)]
    numbers = numbers_in(layer.text)
    candidates = []
    # The lean wording first (filler gone), then ever shorter runs of its words from the start, then of the
    # original's: the first that fits is the longest that reads like the original.
    for source in ([lean] if len(lean) < len(words) else []) + [words]:
        runs = []
        # Two words at least: one word alone rarely says what the line did.
        for count in range(len(source), min(2, len(source)) - 1, -1):
            kept = source[:count]
            if all(any(n in w for w in kept) for n in numbers) and _whole_phrase(kept, source):
                runs.append(kept)
        # Runs that end a clause of the original before the others.
        runs.sort(key=lambda kept: not (len(kept) == len(source) or kept[-1].endswith((",", ";", ":", "—", "–"))))
        candidates += [" ".join(kept).rstrip(",;:-–") for kept in runs]
    for text in dict.fromkeys(candidates):
        if text and text != layer.text and design.fits(text, data, font_file, size):
            return text
    return None


def _fit(plan: RenderPlan, adjustments: Adjustments, fonts: dict[str, str]) -> list[Suggestion]:
    found, labels = [], Labels(plan)
    for scene, layer in _texts(plan):
        wanted = layer.base_size * adjustments.text_scale * adjustments.layer_scale.get(layer.id, 1.0)
        if layer.size >= wanted * SHRUNK:
            continue
        share = round(layer.size / wanted * 100)
        text = shorter_wording(layer, fonts[layer.font], wanted)
        fix = Fix(label=f"Use “{text}”", changes={f"text_edits.{layer.id}": text}) if text else None
        found.append(Suggestion(
            id=f"fit:{layer.id}", check="fit", scene=scene.id, layer=layer.id, fix=fix,
            message=f"{labels.layer(layer.id)} was shrunk to {share} % of its size to fit its box; a shorter "
                    "wording reads bigger"))
    return found


# ---------------------------------------------------------------------------------------------- colour


def _contrast(plan: RenderPlan) -> list[Suggestion]:
    found, labels = [], Labels(plan)
    for scene, layer in _texts(plan):
        readable = layer.readable_colors
        if not readable or layer.color in readable:
            continue
        fix = Fix(label=f"Use {readable[0]}", changes={f"colors.{layer.id}": readable[0]})
        found.append(Suggestion(
            id=f"contrast:{layer.id}", check="contrast", scene=scene.id, layer=layer.id, fix=fix,
            message=f"{layer.color} does not read on the picture behind {labels.layer(layer.id)} without "
                    f"{'a panel' if plan.legibility == 'panel' else 'an outline'}; {', '.join(readable)} do"))
    return found


def _hue(rgb) -> tuple[float, float]:
    h, _, s = colorsys.rgb_to_hls(*(c / 255 for c in rgb))
    return h * 360, s


def _hue_gap(a: float, b: float) -> float:
    return abs((a - b + 180) % 360 - 180)


# ---------------------------------------------------------------------------------------------- pictures


@lru_cache(maxsize=64)
def picture_facts(path: str, mtime: float) -> dict:
    """Sharpness, exposure and main colour of a picture (cached per file version)."""
    image = cv2.imread(path, cv2.IMREAD_COLOR)
    if image is None:
        return {}
    height, width = image.shape[:2]
    small = cv2.resize(image, (SHARPNESS_WIDTH, max(1, round(height * SHARPNESS_WIDTH / width))),
                       interpolation=cv2.INTER_AREA)
    gray = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
    pixels = small.reshape(-1, 3)[:, ::-1].astype(np.float32)
    saturated = pixels[(pixels.max(1) - pixels.min(1)) > 60]
    main = np.median(saturated, axis=0) if len(saturated) > len(pixels) * 0.15 else None
    return {"sharpness": float(cv2.Laplacian(gray, cv2.CV_64F).var()), "luma": float(gray.mean()),
            "dark": float((gray < 8).mean()), "bright": float((gray > 247).mean()),
            "main": None if main is None else tuple(int(v) for v in main)}


def _facts(base_dir: Path, asset: str | None) -> dict:
    if not asset:
        return {}
    path = base_dir / asset
    if not path.is_file():
        return {}
    return picture_facts(str(path), path.stat().st_mtime)


def _pictures(plan: RenderPlan, base_dir: Path) -> list[Suggestion]:
    found, labels = [], Labels(plan)
    for scene in plan.scenes:
        facts = _facts(base_dir, scene.background.asset)
        if not facts:
            continue
        another = Fix(label="Make another image", regenerate=scene.segment_id or scene.id)
        name = labels.scene(scene.id)
        if facts["sharpness"] < SOFT:
            found.append(Suggestion(id=f"sharpness:{scene.id}", check="sharpness", scene=scene.id, fix=another,
                                    message=f"the picture of {name} looks soft (detail {facts['sharpness']:.1f}, "
                                            f"sharp ones are above {SOFT:g})"))
        exposure = None
        if facts["luma"] < DARK or facts["dark"] > CLIPPED:
            exposure = "too dark"
        elif facts["luma"] > BRIGHT or facts["bright"] > CLIPPED:
            exposure = "too bright"
        if exposure:
            found.append(Suggestion(id=f"exposure:{scene.id}", check="exposure", scene=scene.id, fix=another,
                                    message=f"the picture of {name} is {exposure} (mean level "
                                            f"{facts['luma']:.0f} of 255)"))
    return found


def _harmony(plan: RenderPlan, base_dir: Path, accent: str) -> list[Suggestion]:
    found, labels = [], Labels(plan)
    accent_hue, accent_sat = _hue(design.hex_rgb(accent))
    if accent_sat < 0.3:
        return found
    for scene, layer in _texts(plan):
        if layer.color != accent:
            continue
        main = _facts(base_dir, scene.background.asset).get("main")
        if main is None:
            continue
        main_hue, main_sat = _hue(main)
        if main_sat < 0.3 or _hue_gap(main_hue, accent_hue) >= HUE_CLASH:
            continue
        options = [c for c in (layer.readable_colors or plan.palette) if c != accent]
        best = max(options, key=lambda c: _hue_gap(_hue(design.hex_rgb(c))[0], main_hue), default=None)
        fix = (Fix(label=f"Use {best}", changes={f"colors.{layer.id}": best}) if best
               else Fix(label="Make another image", regenerate=scene.segment_id or scene.id))
        found.append(Suggestion(
            id=f"harmony:{layer.id}", check="harmony", scene=scene.id, layer=layer.id, fix=fix,
            message=f"the accent {accent} of {labels.layer(layer.id)} is lost in its picture's main colour "
                    f"#{''.join(f'{v:02X}' for v in main)}"))
    return found


def review_suggestions(plan: RenderPlan, adjustments: Adjustments, *, base_dir: Path, accent: str) -> list[Suggestion]:
    """Every deterministic check's suggestions for the plan as the reviewer sees it."""
    fonts = {font.family: font.file for font in plan.fonts}
    return [*_fit(plan, adjustments, fonts), *_contrast(plan), *_pictures(plan, base_dir),
            *_harmony(plan, base_dir, accent)]


# ---------------------------------------------------------------------------------------------- critique

CRITIQUE_SYSTEM = """You review frames of a short social video for a sports-betting brand before it is published.
Look at legibility, composition, faces or bodies cut off, clutter behind text, and anything off-brand.
Answer with one JSON object only: {"critiques": [{"scene": "<scene id>", "layer": "<layer id or null>",
"problem": "<what is wrong, one sentence>", "wording": "<a shorter or clearer wording for that text layer, or
null>"}]}. At most five critiques; an empty list when nothing needs fixing. Never add numbers to a wording."""


class WireCritique(Contract):
    scene: str | None = None
    layer: str | None = None
    problem: str = Field(min_length=1, max_length=400)
    wording: str | None = Field(default=None, max_length=400)


class WireCritiques(Contract):
    critiques: list[WireCritique] = Field(default=[], max_length=10)


def critique_prompt(plan: RenderPlan, frames: list[dict]) -> str:
    layers = [{"scene": scene.id, "layer": layer.id, "role": layer.role, "text": layer.text}
              for scene, layer in _texts(plan)]
    shown = ", ".join(f"scene {frame['scene']} at {frame['t']} s" for frame in frames)
    return f"The frames, in order: {shown}. The texts on them: {layers}"


def parse_critique(text: str, plan: RenderPlan) -> list[Suggestion]:
    """A model's critique as suggestions; a layer or scene it names that the plan lacks is dropped."""
    cleaned = re.sub(r"^```(json)?|```$", "", text.strip()).strip()
    answer = WireCritiques.model_validate_json(cleaned)
    texts = {layer.id: scene.id for scene, layer in _texts(plan)}
    scenes = {scene.id for scene in plan.scenes}
    found = []
    for index, item in enumerate(answer.critiques):
        layer = item.layer if item.layer in texts else None
        scene = texts.get(layer) or (item.scene if item.scene in scenes else None)
        fix = (Fix(label=f"Use “{item.wording}”", changes={f"text_edits.{layer}": item.wording})
               if layer and item.wording and item.wording.strip() else None)
        found.append(Suggestion(id=f"critique:{index}", check="critique", scene=scene, layer=layer,
                                message=item.problem, fix=fix))
    return found
