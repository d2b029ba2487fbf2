"""The motion set: easing, entrances and exits, Ken Burns. L6 uses these formulas; the review page's
static/previews/motion.js implements the same ones, and tests hold the two to each other.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from pipeline.contracts.plan import Background, Easing, Entrance, LayerBase, Scene


def ease(name: str, p: float) -> float:
    p = min(1.0, max(0.0, p))
    if name == Easing.EASE_OUT_CUBIC:
        return 1 - (1 - p) ** 3
    if name == Easing.EASE_IN_OUT_CUBIC:
        return 4 * p ** 3 if p < 0.5 else 1 - (-2 * p + 2) ** 3 / 2
    if name == Easing.EASE_OUT_BACK:
        c1 = 1.70158
        return 1 + (c1 + 1) * (p - 1) ** 3 + c1 * (p - 1) ** 2
    return p


@dataclass(frozen=True)
class LayerState:
    alpha: float
    dx: float = 0.0
    dy: float = 0.0
    scale: float = 1.0
    # A growing data graphic: the fraction of its width (from the left edge) and height (from the foot) shown.
    sx: float = 1.0
    sy: float = 1.0


HIDDEN = LayerState(alpha=0.0)


def layer_state(layer: LayerBase, t: float) -> LayerState:
    """Where and how opaque a layer is at time t (seconds from the start of the piece)."""
    if t < layer.start or t >= layer.end:
        return HIDDEN
    motion = layer.motion
    alpha, dx, dy, scale, sx, sy = layer.opacity, 0.0, 0.0, 1.0, 1.0, 1.0
    if motion.enter in (Entrance.GROW_UP, Entrance.GROW_RIGHT) and motion.enter_s > 0:
        grown = min(1.0, max(0.0, ease(motion.easing, (t - layer.start) / motion.enter_s)))
        if motion.enter == Entrance.GROW_UP:
            sy = grown
        else:
            sx = grown
    elif motion.enter != Entrance.NONE and motion.enter_s > 0:
        p = (t - layer.start) / motion.enter_s
        e = ease(motion.easing, p)
        alpha *= min(1.0, max(0.0, p if motion.enter == Entrance.POP else e))
        remaining = 1.0 - e
        if motion.enter == Entrance.SLIDE_UP:
            dy = remaining * motion.distance
        elif motion.enter == Entrance.SLIDE_LEFT:
            dx = remaining * motion.distance
        elif motion.enter == Entrance.SLIDE_RIGHT:
            dx = -remaining * motion.distance
        elif motion.enter == Entrance.POP:
            scale = 0.8 + 0.2 * ease(Easing.EASE_OUT_BACK, p)
    if motion.exit == "fade" and motion.exit_s > 0:
        alpha *= min(1.0, max(0.0, (layer.end - t) / motion.exit_s))
    return LayerState(alpha=alpha, dx=dx, dy=dy, scale=scale, sx=sx, sy=sy)


def grown_box(box, state: LayerState) -> tuple[float, float, float, float]:
    """(x, y, width, height) of a growing shape's box: the part grown so far, from its left edge and its foot."""
    width, height = box.width * state.sx, box.height * state.sy
    return box.x, box.y + box.height - height, width, height


def kenburns_view(background: Background, scene: Scene, t: float, image_size: tuple[int, int],
                  out_size: tuple[int, int]) -> tuple[float, float, float, float]:
    """The source rectangle (x, y, width, height) shown at time t, in the background image's pixels.

    The image is first scaled to cover the frame, then zoomed by the Ken Burns scale
    around a centre that moves; the rectangle never leaves the image.
    """
    iw, ih = image_size
    ow, oh = out_size
    cover = max(ow / iw, oh / ih)
    kb = background.kenburns
    if kb is None:
        zoom, cx, cy = 1.0, 0.5, 0.5
    else:
        span = scene.end - scene.start
        p = ease(kb.easing, (t - scene.start) / span if span > 0 else 1.0)
        zoom = kb.from_scale + (kb.to_scale - kb.from_scale) * p
        cx = kb.from_x + (kb.to_x - kb.from_x) * p
        cy = kb.from_y + (kb.to_y - kb.from_y) * p
    width, height = ow / (cover * zoom), oh / (cover * zoom)
    x = min(max(cx * iw - width / 2, 0.0), iw - width)
    y = min(max(cy * ih - height / 2, 0.0), ih - height)
    return x, y, width, height


def still_time(scene: Scene, layers: list[LayerBase]) -> float:
    """The moment a scene is at rest (every entrance finished): what a slide or still image shows."""
    settled = max([layer.start + layer.motion.enter_s for layer in layers if layer.start < scene.end] or [0.0])
    return min(max(scene.start, settled + 1e-3), scene.end - 1e-3)


def transition_at(scenes, t: float):
    """(the scene before, progress 0..1 eased) while a scene's transition runs at time t; None otherwise."""
    for index, scene in enumerate(scenes):
        if scene.start <= t < scene.end:
            if index == 0 or scene.transition is None:
                return None
            p = (t - scene.start) / scene.transition.duration
            return (scenes[index - 1], ease(Easing.EASE_IN_OUT_CUBIC, p)) if p < 1 else None
    return None


def held_time(scene) -> float:
    """The moment of the scene before a transition that the transition shows: its last."""
    return max(scene.start, scene.end - 1e-4)


def transition_look(kind: str, p: float, height: int) -> tuple[int, int, float, float]:
    """(the scene before's vertical offset, the new scene's vertical offset, the new scene's scale about the
    frame's centre, the new scene's opacity) at progress p. A push moves both by whole even rows (the chroma
    planes are half size)."""
    if kind == "push":
        offset = 2 * int(round((1 - p) * height / 2))
        return offset - height, offset, 1.0, 1.0
    if kind == "zoom":
        return 0, 0, 1.0 + 0.18 * (1 - p), p
    return 0, 0, 1.0, p


def count_text(layer, t: float) -> str | None:
    """The number a counting text shows at time t in place of its own, while it runs up (eased, truncated to the
    number's decimals in integer steps, so both renderers show the same digits); None when the layer shows its
    text as written."""
    count = getattr(layer, "count", None)
    if count is None or t < layer.start or t >= layer.start + count.duration:
        return None
    whole, _, fraction = count.number.partition(".")
    scaled = int(whole + fraction)
    steps = math.floor(scaled * ease(Easing.EASE_OUT_CUBIC, (t - layer.start) / count.duration))
    if not fraction:
        return str(steps)
    digits = str(steps).rjust(len(fraction) + 1, "0")
    return f"{digits[:-len(fraction)]}.{digits[-len(fraction):]}"


def caption_state(layer, t: float) -> tuple[int | None, int | None]:
    """(group, word) of a caption layer shown at time t: the group whose time holds t, and in it the word whose
    time holds t (None between words); (None, None) when no group is up or the one up is not shown."""
    if t < layer.start or t >= layer.end:
        return None, None
    for group_index, group in enumerate(layer.groups):
        if group.start <= t < group.end:
            if not group.shown:
                return None, None
            for word_index, word in enumerate(group.words):
                if word.start <= t < word.end:
                    return group_index, word_index
            return group_index, None
    return None, None
