"""Drawing a RenderPlan into frames, the same way at every t: RGB for stills and frame_at, the encoder's YUV
4:2:0 planes for video (pipeline/render/yuv.py).

What does not move is drawn once, the first time a frame shows it: each text,
shape and image layer becomes a sprite (an RGBA patch at its place), and the
layers that span the whole piece without motion are merged into one overlay
sprite. Per frame only the Ken Burns view of the background is resampled and the
visible sprites (`_sprites_at`, one list for both colour spaces) are blended.
A compositor is shared by the chunks a render draws side by side: what it
prepares lazily may be prepared twice, never wrongly.
"""
from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw

from pipeline.contracts import RenderPlan
from pipeline.contracts.plan import CaptionLayer, Entrance, ImageLayer, Scene, ShapeLayer, TextLayer
from pipeline.errors import RenderError
from pipeline.motion import (
    LayerState,
    caption_state,
    count_text,
    grown_box,
    held_time,
    kenburns_view,
    layer_state,
    transition_at,
    transition_look,
)
from pipeline.render import yuv
from pipeline.text import load_font


def scene_at(plan: RenderPlan, t: float) -> Scene:
    """The scene shown at time t (before the first scene: the first; from the last one's start on: the last)."""
    for scene in plan.scenes:
        if scene.start <= t < scene.end:
            return scene
    return plan.scenes[-1] if t >= plan.scenes[-1].start else plan.scenes[0]


def hex_rgb(color: str) -> tuple[int, int, int]:
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


@dataclass
class Sprite:
    """A premultiplied RGBA patch (uint8) with its top-left corner in frame pixels.

    `inverse` holds 255 - alpha on all four channels, so a blend is two SIMD
    operations: frame * inverse / 255 + premultiplied colour.
    """

    x: int
    y: int
    rgba: np.ndarray     # (h, w, 4) uint8, colour premultiplied by alpha
    inverse: np.ndarray  # (h, w, 4) uint8
    # Its YUV 4:2:0 planes, made the first time it is drawn at an even or odd column and row.
    planes: dict = field(default_factory=dict, repr=False)

    @classmethod
    def from_image(cls, image: Image.Image, x: int, y: int) -> Sprite:
        data = np.asarray(image.convert("RGBA"), dtype=np.uint8)
        alpha = data[..., 3:4].astype(np.uint16)
        premultiplied = data.copy()
        premultiplied[..., :3] = ((data[..., :3] * alpha + 127) // 255).astype(np.uint8)
        inverse = np.repeat(255 - data[..., 3:4], 4, axis=2)
        return cls(x=x, y=y, rgba=premultiplied, inverse=np.ascontiguousarray(inverse))

    def blend(self, frame: np.ndarray, opacity: float = 1.0, dx: int = 0, dy: int = 0) -> None:
        height, width = frame.shape[:2]
        x0, y0 = self.x + dx, self.y + dy
        left, top = max(0, x0), max(0, y0)
        right, bottom = min(width, x0 + self.rgba.shape[1]), min(height, y0 + self.rgba.shape[0])
        if right <= left or bottom <= top or opacity <= 0:
            return
        sx, sy = left - x0, top - y0
        colour = self.rgba[sy: sy + bottom - top, sx: sx + right - left]
        inverse = self.inverse[sy: sy + bottom - top, sx: sx + right - left]
        if opacity < 1.0:
            colour = cv2.multiply(colour, (opacity,) * 4)
            inverse = cv2.subtract(255, cv2.multiply(cv2.subtract(255, inverse), (opacity,) * 4))
        region = frame[top:bottom, left:right]
        cv2.add(cv2.multiply(region, inverse, scale=1 / 255), colour, dst=region)

    def blend_yuv(self, frame: yuv.Frame, opacity: float = 1.0, dx: int = 0, dy: int = 0) -> None:
        x, y = self.x + dx, self.y + dy
        parity = (x % 2, y % 2)
        if parity not in self.planes:
            self.planes[parity] = yuv.SpriteYUV.from_premultiplied(self.rgba[..., :3], 255 - self.inverse[..., 0],
                                                                    *parity)
        self.planes[parity].blend(frame, opacity, x - parity[0], y - parity[1])


def text_image(layer: TextLayer, plan: RenderPlan) -> tuple[Image.Image, int, int]:
    """A text layer's lines drawn as L6 draws them, and the frame position of the image's top-left corner (the
    review page composites the same pixels: pipeline/render/sprites.py)."""
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


def _caption_group_images(layer: CaptionLayer, plan: RenderPlan, index: int) -> tuple[Image.Image, int, int, list]:
    """One caption group: its words drawn plain, and for each word its highlighted look (the box and the word
    on it, or the word in the highlight colour), to be laid over the plain group while it is spoken."""
    from pipeline.design import highlight_box

    font_ref = plan.font(layer.font)
    font = load_font(font_ref.file, layer.size)
    stroke = int(round(layer.stroke_width))
    stroke_fill = hex_rgb(layer.stroke_color) if layer.stroke_color and stroke else None
    ascent = font_ref.ascent * layer.size
    box = layer.box
    x0, y0 = int(np.floor(box.x)) - stroke - 8, int(np.floor(box.y)) - stroke - 8
    size = (int(np.ceil(box.width)) + 2 * stroke + 16, int(np.ceil(box.height)) + 2 * stroke + 16)
    group = layer.groups[index]
    plain = Image.new("RGBA", size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(plain)
    for word in group.words:
        draw.text((word.x - x0, group.lines_y[word.line] + ascent - y0), word.text, font=font,
                  fill=hex_rgb(layer.color), anchor="ls", stroke_width=stroke, stroke_fill=stroke_fill)
    highlights = []
    for word in group.words:
        baseline = group.lines_y[word.line] + ascent
        if layer.highlight == "box":
            bx, by, bw, bh, radius = highlight_box(word.model_dump(), group.model_dump(), layer.size,
                                                   layer.line_height)
            image = Image.new("RGBA", (max(1, bw), max(1, bh)), (0, 0, 0, 0))
            mark = ImageDraw.Draw(image)
            mark.rounded_rectangle([0, 0, bw - 1, bh - 1], radius=radius, fill=hex_rgb(layer.highlight_color))
            mark.text((word.x - bx, baseline - by), word.text, font=font, fill=hex_rgb(layer.box_color),
                      anchor="ls")
            highlights.append(Sprite.from_image(image, bx, by))
        else:
            pad = stroke + 8
            left, top = int(np.floor(word.x)) - pad, int(np.floor(group.lines_y[word.line])) - pad
            tall = int(np.ceil(layer.size * max(layer.line_height, 1.3))) + 2 * pad
            image = Image.new("RGBA", (int(np.ceil(word.width)) + 2 * pad, tall), (0, 0, 0, 0))
            ImageDraw.Draw(image).text((word.x - left, baseline - top), word.text, font=font,
                                       fill=hex_rgb(layer.highlight_color), anchor="ls", stroke_width=stroke,
                                       stroke_fill=stroke_fill)
            highlights.append(Sprite.from_image(image, left, top))
    # Only the words' own pixels: a smaller sprite to prepare and to blend on every frame.
    left, top, right, bottom = plain.getbbox() or (0, 0, 1, 1)
    return plain.crop((left, top, right, bottom)), x0 + left, y0 + top, highlights


def _shape_image(layer: ShapeLayer, box: tuple[float, float, float, float] | None = None
                 ) -> tuple[Image.Image, int, int]:
    """The shape drawn in its box, or in `box` (x, y, width, height: the part of a growing bar drawn so far)."""
    x, y, width, height = box or (layer.box.x, layer.box.y, layer.box.width, layer.box.height)
    x0, y0 = int(round(x)), int(round(y))
    image = Image.new("RGBA", (max(1, int(round(width))), max(1, int(round(height)))), (0, 0, 0, 0))
    fill = (*hex_rgb(layer.fill), int(round(255 * layer.fill_opacity)))
    draw = ImageDraw.Draw(image)
    if layer.shape == "rounded_rect" and layer.radius > 0:
        # A corner no rounder than the shape is wide or tall, as canvas roundRect clamps it
        radius = min(layer.radius, image.width / 2, image.height / 2)
        draw.rounded_rectangle([0, 0, image.width - 1, image.height - 1], radius=radius, fill=fill)
    else:
        draw.rectangle([0, 0, image.width, image.height], fill=fill)
    return image, x0, y0


@functools.lru_cache(maxsize=6)
def _kept_picture(path: str, mtime_ns: int) -> tuple[Image.Image, np.ndarray]:
    """A decoded picture and its RGBA pixels, kept between compositors (see Compositor's `keep_pictures`)."""
    with Image.open(path) as image:
        image.load()
        picture = image.convert("RGBA" if image.mode in ("RGBA", "LA", "P") else "RGB")
    return picture, np.ascontiguousarray(np.asarray(picture.convert("RGBA"), dtype=np.uint8))


class Compositor:
    def __init__(self, plan: RenderPlan, base_dir: Path, *, keep_pictures: bool = False) -> None:
        """`keep_pictures`: share decoded pictures with later compositors in this process (the preset editor
        draws the same sample's pictures on every edit); a render keeps its memory to itself."""
        self.plan = plan
        self.base_dir = Path(base_dir)
        self.keep_pictures = keep_pictures
        # What the layers are drawn on: the frame, or a reel of slides' slide (framed by _framed).
        self.size = (plan.width, plan.slide_height or plan.height)
        self._images: dict[str, Image.Image] = {}
        self._arrays: dict[str, np.ndarray] = {}
        self._sprites: dict[str, Sprite | tuple] = {}  # by layer id, and by caption group ('id#n')
        self._static_overlay: Sprite | None = None
        self._pictures: dict[str, yuv.Picture] = {}
        self._still_backgrounds: dict[str, yuv.Frame] = {}
        self._moving_overlay = []
        self._layers = {layer.id: layer for layer in plan.all_layers()}
        self._prepare()

    # -- preparation -------------------------------------------------------------------------

    def _path(self, name: str) -> Path:
        path = (self.base_dir / name).resolve()
        if self.base_dir.resolve() not in path.parents or not path.is_file():
            raise RenderError(f"the plan names {name}, which is not in the job folder", layer="L6", field=name)
        return path

    def _decoded(self, name: str) -> Image.Image:
        try:
            with Image.open(self._path(name)) as image:
                image.load()
                return image.convert("RGBA" if image.mode in ("RGBA", "LA", "P") else "RGB")
        except OSError as exc:
            raise RenderError(f"{name} cannot be decoded ({exc})", layer="L6", field=name) from exc

    def _image(self, name: str) -> Image.Image:
        if name not in self._images:
            if self.keep_pictures:
                path = self._path(name)
                try:
                    self._images[name], self._arrays[name] = _kept_picture(str(path), path.stat().st_mtime_ns)
                except OSError as exc:
                    raise RenderError(f"{name} cannot be decoded ({exc})", layer="L6", field=name) from exc
                return self._images[name]
            self._images[name] = self._decoded(name)
        return self._images[name]

    def _layer_image(self, layer) -> tuple[Image.Image, int, int]:
        if isinstance(layer, TextLayer):
            return text_image(layer, self.plan)
        if isinstance(layer, ShapeLayer):
            return _shape_image(layer)
        if isinstance(layer, ImageLayer):
            box = layer.box
            image = self._image(layer.asset).convert("RGBA").resize(
                (max(1, int(round(box.width))), max(1, int(round(box.height)))), Image.LANCZOS)
            return image, int(round(box.x)), int(round(box.y))
        raise RenderError(f"unknown layer type {type(layer).__name__}", layer="L6")

    def _prepare(self) -> None:
        """The overlay shown for the whole piece without motion, merged into one sprite now; every other
        layer's sprite is drawn the first time a frame needs it, so a render from cached scenes (which only
        draws its poster) prepares only what that one frame shows."""
        static = [layer for layer in self.plan.overlay if layer.start <= 0 and layer.end >= self.plan.duration
                  and layer.motion.enter == Entrance.NONE and layer.motion.exit == "none"
                  and not isinstance(layer, CaptionLayer)]
        # Captions change with every word: they are drawn per frame, last.
        self._moving_overlay = [layer for layer in self.plan.overlay if layer not in static
                                and not isinstance(layer, CaptionLayer)]
        self._caption_layers = [layer for layer in self.plan.overlay if isinstance(layer, CaptionLayer)]
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

    def _sprite(self, layer) -> Sprite:
        if layer.id not in self._sprites:
            image, x, y = self._layer_image(layer)
            self._sprites[layer.id] = Sprite.from_image(image, x, y)
        return self._sprites[layer.id]

    def _caption_sprites(self, layer: CaptionLayer, group: int) -> tuple[Sprite, list[Sprite]]:
        """A caption group's plain sprite and its words' highlights, drawn the first time the group is shown."""
        key = f"{layer.id}#{group}"
        if key not in self._sprites:
            image, x, y, highlights = _caption_group_images(layer, self.plan, group)
            self._sprites[key] = (Sprite.from_image(image, x, y), highlights)
        return self._sprites[key]

    # -- drawing -----------------------------------------------------------------------------

    def scene_at(self, t: float) -> Scene:
        return scene_at(self.plan, t)

    @functools.lru_cache(maxsize=8)  # noqa: B019 - one compositor per render; static backgrounds repeat
    def _static_background(self, scene_id: str) -> np.ndarray:
        scene = next(s for s in self.plan.scenes if s.id == scene_id)
        return self._background(scene, scene.start)

    def _pixels(self, name: str) -> np.ndarray:
        """A background image as contiguous RGBA: four channels let OpenCV's warp use SIMD."""
        image = self._image(name)  # with keep_pictures, this fills _arrays too
        if name not in self._arrays:
            self._arrays[name] = np.ascontiguousarray(np.asarray(image.convert("RGBA"), dtype=np.uint8))
        return self._arrays[name]

    def _background(self, scene: Scene, t: float) -> np.ndarray:
        width, height = self.size
        bg = scene.background
        if bg.asset is None:
            return np.broadcast_to(np.array([*hex_rgb(bg.color), 255], dtype=np.uint8), (height, width, 4)).copy()
        pixels = self._pixels(bg.asset)
        x, y, w, h = kenburns_view(bg, scene, t, (pixels.shape[1], pixels.shape[0]), self.size)
        sx, sy = w / width, h / height
        # Maps each output pixel centre to the source, as canvas drawImage(img, x, y, w, h, 0, 0, W, H) does.
        matrix = np.array([[sx, 0.0, x + 0.5 * sx - 0.5], [0.0, sy, y + 0.5 * sy - 0.5]])
        return cv2.warpAffine(pixels, matrix, (width, height), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                              borderMode=cv2.BORDER_REPLICATE)

    def background(self, scene: Scene, t: float) -> np.ndarray:
        if scene.background.kenburns is None:
            return self._static_background(scene.id).copy()
        return self._background(scene, t)

    def _layer_sprite(self, layer, t: float) -> tuple[Sprite, float, int, int] | None:
        """The sprite a layer shows at time t, with its opacity and offset; None while it is not shown."""
        state = layer_state(layer, t)
        if state.alpha <= 0:
            return None
        if isinstance(layer, TextLayer) and (counted := count_text(layer, t)) is not None:
            return self._counted(layer.id, counted), state.alpha, int(round(state.dx)), int(round(state.dy))
        if isinstance(layer, ShapeLayer) and (state.sx < 1 or state.sy < 1):
            grown = self._grown(layer.id, round(state.sx, 3), round(state.sy, 3))
            return (grown, state.alpha, int(round(state.dx)), int(round(state.dy))) if grown else None
        sprite = self._sprite(layer)
        if state.scale != 1.0:
            sprite = self._scaled(layer.id, round(state.scale, 3))
        return sprite, state.alpha, int(round(state.dx)), int(round(state.dy))

    def _scene_sprites(self, scene: Scene, t: float) -> Iterator[tuple[Sprite, float, int, int]]:
        """The scene's own layers at time t, bottom to top."""
        for layer in scene.layers:
            if drawn := self._layer_sprite(layer, t):
                yield drawn

    def _sprites_at(self, scene: Scene, t: float) -> Iterator[tuple[Sprite, float, int, int]]:
        """What is laid over the background at time t, bottom to top: the scene's layers, the overlay, the
        caption group and its spoken word. The same list for both colour spaces."""
        yield from self._scene_sprites(scene, t)
        yield from self._overlay_sprites(t)

    def _overlay_sprites(self, t: float) -> Iterator[tuple[Sprite, float, int, int]]:
        """The overlay at time t: over every scene, and over a transition as a whole."""
        if self._static_overlay is not None:
            yield self._static_overlay, 1.0, 0, 0
        for layer in self._moving_overlay:
            if drawn := self._layer_sprite(layer, t):
                yield drawn
        for layer in self._caption_layers:
            group, word = caption_state(layer, t)
            if group is not None:
                plain, highlights = self._caption_sprites(layer, group)
                yield plain, 1.0, 0, 0
                if word is not None:
                    yield highlights[word], 1.0, 0, 0

    @functools.lru_cache(maxsize=256)  # noqa: B019 - a counter's numbers, each drawn once
    def _counted(self, layer_id: str, counted: str) -> Sprite:
        """A counting text with `counted` in place of its number, on the same lines as the finished text."""
        layer = self._layers[layer_id]
        lines = [line.model_copy(update={"text": line.text.replace(layer.count.number, counted, 1)})
                 for line in layer.lines]
        image, x, y = text_image(layer.model_copy(update={"lines": lines}), self.plan)
        return Sprite.from_image(image, x, y)

    @functools.lru_cache(maxsize=256)  # noqa: B019 - a growing bar's frames, each drawn once
    def _grown(self, layer_id: str, sx: float, sy: float) -> Sprite | None:
        """A growing shape's sprite: the shape drawn anew in the part of its box grown so far (its corners stay
        round); None while less than a pixel has grown."""
        layer = self._layers[layer_id]
        box = grown_box(layer.box, LayerState(alpha=1.0, sx=sx, sy=sy))
        if box[2] < 1 or box[3] < 1:
            return None
        image, x, y = _shape_image(layer, box)
        return Sprite.from_image(image, x, y)

    @functools.lru_cache(maxsize=64)  # noqa: B019
    def _scaled(self, layer_id: str, scale: float) -> Sprite:
        """A layer's sprite scaled about its centre (the pop entrance; its sprite is drawn by then)."""
        base = self._sprites[layer_id]
        h, w = base.rgba.shape[:2]
        size = (max(1, int(w * scale)), max(1, int(h * scale)))
        # Premultiplied colour is exactly what bilinear scaling should interpolate.
        rgba = cv2.resize(base.rgba, size, interpolation=cv2.INTER_LINEAR)
        inverse = cv2.resize(base.inverse, size, interpolation=cv2.INTER_LINEAR)
        return Sprite(x=base.x + (w - size[0]) // 2, y=base.y + (h - size[1]) // 2, rgba=rgba, inverse=inverse)

    def _scene_rgba(self, scene: Scene, t: float) -> np.ndarray:
        frame = self.background(scene, t)
        for sprite, opacity, dx, dy in self._scene_sprites(scene, t):
            sprite.blend(frame, opacity, dx, dy)
        return frame

    @functools.lru_cache(maxsize=4)  # noqa: B019 - the scene before a transition, held through it
    def _held(self, scene_id: str, planes: bool):
        """The scene before a transition at its last moment, as YUV planes (`planes`) or RGBA."""
        scene = next(s for s in self.plan.scenes if s.id == scene_id)
        return (self._scene_yuv if planes else self._scene_rgba)(scene, held_time(scene))

    def frame_rgba(self, t: float) -> np.ndarray:
        """The frame at time t as RGBA (height, width, 4): what stills and frame_at are made from."""
        scene = self.scene_at(t)
        frame = self._scene_rgba(scene, t)
        if moving := transition_at(self.plan.scenes, t):
            before, p = moving
            frame = _transitioned([self._held(before.id, False)], [frame], scene.transition.kind, p)[0]
        for sprite, opacity, dx, dy in self._overlay_sprites(t):
            sprite.blend(frame, opacity, dx, dy)
        return self._framed(frame) if self.plan.slide_height else frame

    def _framed(self, slide: np.ndarray) -> np.ndarray:
        """A slide whole in the middle of the reel's frame, the bands above and below it a blurred, dimmed copy
        of the slide scaled to cover the frame (what a 4:5 picture shows with in a 9:16 reel)."""
        width, height = self.plan.width, self.plan.height
        scale = height / slide.shape[0]
        # Blurred at a sixteenth of the size: the same look, a fraction of the work.
        small = cv2.resize(slide, (max(1, int(width * scale / 16)), max(1, height // 16)),
                           interpolation=cv2.INTER_AREA)
        small = cv2.GaussianBlur(small, (0, 0), 2.5)
        cover = cv2.resize(small, (int(width * scale), height), interpolation=cv2.INTER_LINEAR)
        left = (cover.shape[1] - width) // 2
        frame = np.ascontiguousarray(cover[:, left:left + width])
        frame[..., :3] = (frame[..., :3] * 0.55).astype(np.uint8)
        top = (height - slide.shape[0]) // 2
        frame[top:top + slide.shape[0]] = slide
        return frame

    def frame(self, t: float) -> np.ndarray:
        """The RGB frame (height, width, 3) at time t."""
        return cv2.cvtColor(self.frame_rgba(t), cv2.COLOR_RGBA2RGB)

    # -- the encoder's planes ----------------------------------------------------------------

    def _picture(self, name: str) -> yuv.Picture:
        """A background's planes. Unless stills were drawn from it already, the picture is decoded for this
        and only its planes are kept (a third of its RGBA pixels)."""
        if name not in self._pictures:
            if name in self._images:
                self._pictures[name] = yuv.Picture.from_rgb(np.asarray(self._images[name].convert("RGB")))
            else:
                self._pictures[name] = yuv.Picture.from_rgb(np.asarray(self._decoded(name).convert("RGB")))
        return self._pictures[name]

    def _background_yuv(self, scene: Scene, t: float) -> yuv.Frame:
        width, height = self.size
        frame = yuv.Frame(width, height)
        bg = scene.background
        if bg.asset is None:
            for plane, value in zip((frame.y, frame.u, frame.v), yuv.colour_planes(hex_rgb(bg.color)), strict=True):
                plane.fill(value)
            return frame
        picture = self._picture(bg.asset)
        picture.draw(kenburns_view(bg, scene, t, picture.size, self.size), frame)
        return frame

    def frame_yuv420(self, t: float) -> np.ndarray:
        """The frame at time t as planar YUV 4:2:0 bytes (BT.601, limited range, as FFmpeg's own conversion),
        composited in those planes: what the encoder reads."""
        if self.plan.slide_height:
            return yuv.to_planes(self.frame(t)).data  # a reel of slides: framed in RGB, then converted once
        scene = self.scene_at(t)
        frame = self._scene_yuv(scene, t)
        if moving := transition_at(self.plan.scenes, t):
            before, p = moving
            held = self._held(before.id, True)
            _transitioned([held.y, held.u, held.v], [frame.y, frame.u, frame.v], scene.transition.kind, p,
                          into=[frame.y, frame.u, frame.v])
        for sprite, opacity, dx, dy in self._overlay_sprites(t):
            sprite.blend_yuv(frame, opacity, dx, dy)
        return frame.data

    def _scene_yuv(self, scene: Scene, t: float) -> yuv.Frame:
        if scene.background.kenburns is None:
            if scene.id not in self._still_backgrounds:
                self._still_backgrounds[scene.id] = self._background_yuv(scene, scene.start)
            frame = self._still_backgrounds[scene.id].copy()
        else:
            frame = self._background_yuv(scene, t)
        for sprite, opacity, dx, dy in self._scene_sprites(scene, t):
            sprite.blend_yuv(frame, opacity, dx, dy)
        return frame


def _transitioned(before: list[np.ndarray], after: list[np.ndarray], kind: str, p: float, *,
                  into: list[np.ndarray] | None = None) -> list[np.ndarray]:
    """The new scene's planes (or RGBA image) coming in over the held scene before it at progress p
    (pipeline/motion.py transition_look), plane by plane: the chroma planes of a YUV frame are half the luma's
    size, so offsets and the zoom's centre scale with each plane."""
    out = into if into is not None else [np.empty_like(plane) for plane in after]
    full_height = after[0].shape[0]
    for old, new, dst in zip(before, after, out, strict=True):
        height, width = new.shape[:2]
        ratio = height / full_height
        old_dy, new_dy, scale, alpha = transition_look(kind, p, full_height)
        if kind == "push":
            shift = int(round(new_dy * ratio))
            moved = new[: height - shift].copy()
            dst[:shift] = old[height - shift:]
            dst[shift:] = moved
            continue
        if scale != 1.0:
            # About the frame's centre, as canvas scales drawImage about it.
            matrix = np.array([[scale, 0.0, (1 - scale) * width / 2], [0.0, scale, (1 - scale) * height / 2]])
            new = cv2.warpAffine(new, matrix, (width, height), flags=cv2.INTER_LINEAR,
                                 borderMode=cv2.BORDER_REPLICATE)
        cv2.addWeighted(old, 1.0 - alpha, new, alpha, 0.0, dst=dst)
    return out


def frame_at(plan: RenderPlan, t: float, base_dir: Path) -> np.ndarray:
    """The frame L6 renders at time t: the reference the review page's canvas is compared to."""
    return Compositor(plan, base_dir).frame(t)


def scene_stills(plan: RenderPlan, base_dir: Path, *, width: int, first_only: bool = False,
                 quality: int = 80) -> list[tuple[str, float, bytes]]:
    """(scene id, time, JPEG) for each scene at its still time, drawn by the compositor `width` pixels wide:
    the batch grid's tiles, the static preview, and the frames a vision model critiques."""
    import io

    from pipeline.motion import still_time

    compositor = Compositor(plan, base_dir)
    stills = []
    for scene in plan.scenes[:1] if first_only else plan.scenes:
        t = still_time(scene, [*scene.layers, *plan.overlay])
        image = Image.fromarray(compositor.frame(t))
        image = image.resize((width, round(image.height * width / image.width)), Image.BILINEAR)
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=quality)
        stills.append((scene.id, round(t, 3), buffer.getvalue()))
    return stills
