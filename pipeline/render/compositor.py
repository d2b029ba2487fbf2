"""Drawing a RenderPlan into RGB frames (numpy arrays), the same way at every t.

What does not move is drawn once: each text, shape and image layer becomes a
sprite (an RGBA patch at its place), and the layers that span the whole piece
without motion are merged into one overlay sprite. Per frame only the Ken Burns
view of the background is resampled and the visible sprites are blended.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from pipeline.contracts import RenderPlan
from pipeline.contracts.plan import Entrance, ImageLayer, Scene, ShapeLayer, TextLayer
from pipeline.errors import RenderError
from pipeline.motion import kenburns_view, layer_state
from pipeline.text import load_font


def hex_rgb(color: str) -> tuple[int, int, int]:
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


@dataclass
class Sprite:
    """A premultiplied RGBA patch with its top-left corner in frame pixels."""

    x: int
    y: int
    rgb: np.ndarray    # (h, w, 3) uint16, already multiplied by alpha
    alpha: np.ndarray  # (h, w, 1) uint16, 0..255

    @classmethod
    def from_image(cls, image: Image.Image, x: int, y: int) -> Sprite:
        data = np.asarray(image.convert("RGBA"), dtype=np.uint16)
        alpha = data[..., 3:4]
        return cls(x=x, y=y, rgb=(data[..., :3] * alpha + 127) // 255, alpha=alpha)

    def blend(self, frame: np.ndarray, opacity: float = 1.0, dx: int = 0, dy: int = 0) -> None:
        height, width = frame.shape[:2]
        x0, y0 = self.x + dx, self.y + dy
        left, top = max(0, x0), max(0, y0)
        right, bottom = min(width, x0 + self.rgb.shape[1]), min(height, y0 + self.rgb.shape[0])
        if right <= left or bottom <= top or opacity <= 0:
            return
        sx, sy = left - x0, top - y0
        rgb = self.rgb[sy: sy + bottom - top, sx: sx + right - left]
        alpha = self.alpha[sy: sy + bottom - top, sx: sx + right - left]
        if opacity < 1.0:
            scale = int(round(opacity * 256))
            rgb = (rgb * scale) >> 8
            alpha = (alpha * scale) >> 8
        region = frame[top:bottom, left:right]
        region[:] = ((region * (255 - alpha) + 127) // 255 + rgb).astype(np.uint8)


def _text_image(layer: TextLayer, plan: RenderPlan) -> tuple[Image.Image, int, int]:
    font_ref = plan.font(layer.font)
    font = load_font(font_ref.file, layer.size)
    stroke = int(round(layer.stroke_width))
    pad = stroke + 4
    ascent = font_ref.ascent * layer.size
    x0 = int(np.floor(min(line.x for line in layer.lines))) - pad
    y0 = int(np.floor(min(line.y for line in layer.lines))) - pad
    x1 = int(np.ceil(max(line.x + line.width for line in layer.lines))) + pad
    y1 = int(np.ceil(max(line.y for line in layer.lines) + layer.size * max(layer.line_height, 1.3))) + pad
    image = Image.new("RGBA", (max(1, x1 - x0), max(1, y1 - y0)), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    for line in layer.lines:
        draw.text((line.x - x0, line.y + ascent - y0), line.text, font=font, fill=hex_rgb(layer.color),
                  anchor="ls", stroke_width=stroke,
                  stroke_fill=hex_rgb(layer.stroke_color) if layer.stroke_color and stroke else None)
    return image, x0, y0


def _shape_image(layer: ShapeLayer) -> tuple[Image.Image, int, int]:
    box = layer.box
    x0, y0 = int(round(box.x)), int(round(box.y))
    image = Image.new("RGBA", (max(1, int(round(box.width))), max(1, int(round(box.height)))), (0, 0, 0, 0))
    fill = (*hex_rgb(layer.fill), int(round(255 * layer.fill_opacity)))
    draw = ImageDraw.Draw(image)
    if layer.shape == "rounded_rect" and layer.radius > 0:
        draw.rounded_rectangle([0, 0, image.width - 1, image.height - 1], radius=layer.radius, fill=fill)
    else:
        draw.rectangle([0, 0, image.width, image.height], fill=fill)
    return image, x0, y0


class Compositor:
    def __init__(self, plan: RenderPlan, base_dir: Path) -> None:
        self.plan = plan
        self.base_dir = Path(base_dir)
        self.size = (plan.width, plan.height)
        self._images: dict[str, Image.Image] = {}
        self._sprites: dict[str, Sprite] = {}
        self._static_overlay: Sprite | None = None
        self._moving_overlay = []
        self._prepare()

    # -- preparation -------------------------------------------------------------------------

    def _image(self, name: str) -> Image.Image:
        if name not in self._images:
            path = (self.base_dir / name).resolve()
            if self.base_dir.resolve() not in path.parents or not path.is_file():
                raise RenderError(f"the plan names {name}, which is not in the job folder", layer="L6", field=name)
            try:
                with Image.open(path) as image:
                    image.load()
                    self._images[name] = image.convert("RGBA" if image.mode in ("RGBA", "LA", "P") else "RGB")
            except OSError as exc:
                raise RenderError(f"{name} cannot be decoded ({exc})", layer="L6", field=name) from exc
        return self._images[name]

    def _layer_image(self, layer) -> tuple[Image.Image, int, int]:
        if isinstance(layer, TextLayer):
            return _text_image(layer, self.plan)
        if isinstance(layer, ShapeLayer):
            return _shape_image(layer)
        if isinstance(layer, ImageLayer):
            box = layer.box
            image = self._image(layer.asset).convert("RGBA").resize(
                (max(1, int(round(box.width))), max(1, int(round(box.height)))), Image.LANCZOS)
            return image, int(round(box.x)), int(round(box.y))
        raise RenderError(f"unknown layer type {type(layer).__name__}", layer="L6")

    def _prepare(self) -> None:
        for layer in self.plan.all_layers():
            image, x, y = self._layer_image(layer)
            self._sprites[layer.id] = Sprite.from_image(image, x, y)
        # Overlay layers shown for the whole piece without motion are merged into one sprite.
        static = [layer for layer in self.plan.overlay if layer.start <= 0 and layer.end >= self.plan.duration
                  and layer.motion.enter == Entrance.NONE and layer.motion.exit == "none"]
        self._moving_overlay = [layer for layer in self.plan.overlay if layer not in static]
        if static:
            canvas = Image.new("RGBA", self.size, (0, 0, 0, 0))
            for layer in static:
                image, x, y = self._layer_image(layer)
                if layer.opacity < 1:
                    image.putalpha(image.getchannel("A").point(lambda a, o=layer.opacity: int(a * o)))
                canvas.alpha_composite(image, (max(0, x), max(0, y)),
                                       (max(0, -x), max(0, -y)))
            bbox = canvas.getbbox()
            if bbox:
                self._static_overlay = Sprite.from_image(canvas.crop(bbox), bbox[0], bbox[1])

    # -- drawing -----------------------------------------------------------------------------

    def scene_at(self, t: float) -> Scene:
        for scene in self.plan.scenes:
            if scene.start <= t < scene.end:
                return scene
        return self.plan.scenes[-1] if t >= self.plan.scenes[-1].start else self.plan.scenes[0]

    @functools.lru_cache(maxsize=8)  # noqa: B019 - one compositor per render; static backgrounds repeat
    def _static_background(self, scene_id: str) -> np.ndarray:
        scene = next(s for s in self.plan.scenes if s.id == scene_id)
        return self._background(scene, scene.start)

    def _background(self, scene: Scene, t: float) -> np.ndarray:
        width, height = self.size
        bg = scene.background
        if bg.asset is None:
            return np.broadcast_to(np.array(hex_rgb(bg.color), dtype=np.uint8), (height, width, 3)).copy()
        image = self._image(bg.asset)
        x, y, w, h = kenburns_view(bg, scene, t, image.size, self.size)
        view = image.resize(self.size, Image.BILINEAR, box=(x, y, x + w, y + h))
        return np.asarray(view.convert("RGB"), dtype=np.uint8).copy()

    def background(self, scene: Scene, t: float) -> np.ndarray:
        if scene.background.kenburns is None:
            return self._static_background(scene.id).copy()
        return self._background(scene, t)

    def _blend_layer(self, frame: np.ndarray, layer, t: float) -> None:
        state = layer_state(layer, t)
        if state.alpha <= 0:
            return
        sprite = self._sprites[layer.id]
        if state.scale != 1.0:
            sprite = self._scaled(layer.id, round(state.scale, 3))
        sprite.blend(frame, state.alpha, int(round(state.dx)), int(round(state.dy)))

    @functools.lru_cache(maxsize=64)  # noqa: B019
    def _scaled(self, layer_id: str, scale: float) -> Sprite:
        """A layer's sprite scaled about its centre (the pop entrance)."""
        base = self._sprites[layer_id]
        h, w = base.alpha.shape[:2]
        rgba = np.concatenate([base.rgb, base.alpha], axis=2).astype(np.uint8)
        # The sprite is premultiplied, which is exactly what bilinear scaling should interpolate.
        image = Image.fromarray(rgba, "RGBA").resize((max(1, int(w * scale)), max(1, int(h * scale))),
                                                     Image.BILINEAR)
        data = np.asarray(image, dtype=np.uint16)
        sprite = Sprite(x=base.x + (w - image.width) // 2, y=base.y + (h - image.height) // 2,
                        rgb=data[..., :3], alpha=data[..., 3:4])
        return sprite

    def frame(self, t: float) -> np.ndarray:
        """The RGB frame (height, width, 3) at time t."""
        scene = self.scene_at(t)
        frame = self.background(scene, t)
        for layer in scene.layers:
            self._blend_layer(frame, layer, t)
        if self._static_overlay is not None:
            self._static_overlay.blend(frame)
        for layer in self._moving_overlay:
            self._blend_layer(frame, layer, t)
        return frame


def frame_at(plan: RenderPlan, t: float, base_dir: Path) -> np.ndarray:
    """The frame L6 renders at time t: the reference the review page's canvas is compared to."""
    return Compositor(plan, base_dir).frame(t)
