"""Compositing straight into the encoder's YUV 4:2:0 planes: 1.5 bytes a pixel to resample and blend instead of
four, and no colour conversion per frame.

Colours are BT.709 limited range, and L6 tags the video so (pipeline/render/video.py): HD players, browsers and
the platforms decode 1080p as BT.709 whatever it says, so BT.601 pixels (FFmpeg's default conversion, and this
module's until issue 24) played with shifted colours: the carousel green #19E68C as #08CB8D (ΔE 17).
A chroma sample is the average of its 2x2 luma block (OpenCV's COLOR_RGB2YUV_I420
takes the block's top-left pixel instead, which aliases fine texture and text
edges; the RGB path made its video frames that way until this module).
Blending is linear in these planes, so premultiplied sprites blend as they do in
RGB.

The Ken Burns view is resampled with OpenCV's resize, several times faster than a
general warp, at an exact scale: resize maps output pixel d to source position
(d + 0.5) * scale - 0.5 from its region's corner, and the region's corner is a
whole pixel, so the fractional part of the view's corner is matched by starting
the output a few pixels early (k) and cutting them off: corner + k * scale lands
within 1/32 px of the view's corner for almost every scale. Where no k does
(scales within a hair of 1 or of a simple fraction), the exact warp is used.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

# Rows: Y, U, V from R, G, B in 0..255 (Kr 0.2126, Kb 0.0722; Y over 219 levels, chroma over 224); then the
# offsets.
KR, KB = 0.2126, 0.0722
BT709 = np.array([[219 * KR, 219 * (1 - KR - KB), 219 * KB],
                  [-112 * KR / (1 - KB), -112 * (1 - KR - KB) / (1 - KB), 112.0],
                  [112.0, -112 * (1 - KR - KB) / (1 - KR), -112 * KB / (1 - KR)]], dtype=np.float32) / 255.0
OFFSETS = np.array([16.0, 128.0, 128.0], dtype=np.float32)
OFFSETS_TRIED = 128
PAD = OFFSETS_TRIED  # replicated border around a prepared picture: a region started early stays inside it
# As close as OpenCV's own warp places a sample (it rounds positions to 1/32 px); with 128 offsets tried, about
# 3 frames in 100 of an arbitrary zoom need the warp.
TOLERANCE_PX = 1 / 32


def colour_planes(rgb: tuple[int, int, int]) -> tuple[int, int, int]:
    y, u, v = BT709 @ np.array(rgb, dtype=np.float32) + OFFSETS
    return int(round(y)), int(round(u)), int(round(v))


class Frame:
    """One frame's planes in the byte layout FFmpeg's rawvideo yuv420p reads: Y, then U, then V."""

    def __init__(self, width: int, height: int, data: np.ndarray | None = None) -> None:
        self.data = np.empty(width * height * 3 // 2, dtype=np.uint8) if data is None else data
        luma, chroma = width * height, width * height // 4
        self.y = self.data[:luma].reshape(height, width)
        self.u = self.data[luma:luma + chroma].reshape(height // 2, width // 2)
        self.v = self.data[luma + chroma:].reshape(height // 2, width // 2)

    def copy(self) -> Frame:
        return Frame(self.y.shape[1], self.y.shape[0], self.data.copy())


def to_planes(rgb: np.ndarray) -> Frame:
    """An RGB image (even sides) as YUV 4:2:0 planes, each chroma sample the average of its block."""
    h, w = rgb.shape[:2]
    # In bytes throughout (rounded once more than in floats): a picture's float copy would be 12 bytes a pixel.
    full = cv2.transform(np.ascontiguousarray(rgb), np.hstack([BT709, OFFSETS[:, None]]))
    frame = Frame(w, h)
    np.copyto(frame.y, full[..., 0])
    chroma = cv2.resize(full[..., 1:], (w // 2, h // 2), interpolation=cv2.INTER_AREA)
    np.copyto(frame.u, chroma[..., 0])
    np.copyto(frame.v, chroma[..., 1])
    return frame


@dataclass
class Picture:
    """A background picture as padded Y, U and V planes (PAD luma pixels of replicated border on every side)."""

    y: np.ndarray
    u: np.ndarray
    v: np.ndarray
    size: tuple[int, int]  # the picture's own width and height

    def draw(self, view: tuple[float, float, float, float], frame: Frame) -> None:
        """The picture's region `view` (in its own pixels) scaled to fill the frame."""
        x, y, w, h = view
        resample(self.y, PAD, view, frame.y)
        # A chroma sample stands for a 2x2 block of luma: the same view, in half-size pixels.
        for plane, out in ((self.u, frame.u), (self.v, frame.v)):
            resample(plane, PAD // 2, (x / 2, y / 2, w / 2, h / 2), out)

    @classmethod
    def from_rgb(cls, rgb: np.ndarray) -> Picture:
        h, w = rgb.shape[:2]
        # The planes need even sides: one more replicated row or column where the picture's is odd.
        padded = cv2.copyMakeBorder(np.ascontiguousarray(rgb[..., :3]), PAD, PAD + h % 2, PAD, PAD + w % 2,
                                    cv2.BORDER_REPLICATE)
        frame = to_planes(padded)
        return cls(y=frame.y, u=frame.u, v=frame.v, size=(w, h))


def _axis(corner: float, scale: float, out_len: int, src_len: int) -> tuple[int, int, int] | None:
    """Where resize must start (a whole source pixel), how long a region it reads, and how many output pixels
    to cut from the front, for output pixel u to sample corner + (u + 0.5) * scale - 0.5. None: use the warp."""
    tried = np.arange(OFFSETS_TRIED)
    starts = np.round(corner - tried * scale)
    close = np.flatnonzero(np.abs(starts + tried * scale - corner) <= TOLERANCE_PX)
    if not len(close):
        return None
    cut = int(close[0])  # the fewest extra pixels to resize
    start = int(starts[cut])
    length = int(np.ceil((out_len + cut + 2) * scale)) + 2
    if start < 0 or start + length > src_len:
        return None
    return start, length, cut


def resample(plane: np.ndarray, pad: int, view: tuple[float, float, float, float], out: np.ndarray) -> None:
    """Write into `out` the region `view` (x, y, width, height in the plane's unpadded pixels) of a plane padded
    by `pad`, scaled to fill `out`, bilinear, each output pixel centre mapped to the source as canvas drawImage
    does."""
    x, y, w, h = view
    out_h, out_w = out.shape
    sx, sy = w / out_w, h / out_h
    x, y = x + pad, y + pad
    across = _axis(x, sx, out_w, plane.shape[1])
    down = _axis(y, sy, out_h, plane.shape[0])
    if across is not None and down is not None:
        (x0, width, cut_x), (y0, height, cut_y) = across, down
        # cv2.resize copies, not scales, when the size it rounds to is the size it was given: near 1:1 (a slight
        # zoom) that would drift up to a pixel across the frame, so such a view takes the warp.
        copies = (round(width / sx), round(height / sy)) == (width, height)
        if not copies or (sx, sy) == (1.0, 1.0):
            scaled = cv2.resize(plane[y0:y0 + height, x0:x0 + width], None, fx=1 / sx, fy=1 / sy,
                                interpolation=cv2.INTER_LINEAR)
            np.copyto(out, scaled[cut_y:cut_y + out_h, cut_x:cut_x + out_w])
            return
    matrix = np.array([[sx, 0.0, x + 0.5 * sx - 0.5], [0.0, sy, y + 0.5 * sy - 0.5]])
    cv2.warpAffine(plane, matrix, (out_w, out_h), dst=out, flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                   borderMode=cv2.BORDER_REPLICATE)


@dataclass
class SpriteYUV:
    """A sprite's premultiplied planes, padded to start on an even column and row: luma with its inverse alpha,
    and chroma (the 2x2 averages) with theirs."""

    luma: np.ndarray
    luma_inverse: np.ndarray
    u: np.ndarray
    v: np.ndarray
    chroma_inverse: np.ndarray

    @classmethod
    def from_premultiplied(cls, rgb: np.ndarray, alpha: np.ndarray, left: int, top: int) -> SpriteYUV:
        """`rgb` premultiplied (h, w, 3) and `alpha` (h, w) in 0..255, to be placed at an odd column (left=1) or
        an even one (0), and an odd or even row (top)."""
        rgb, alpha = np.ascontiguousarray(rgb), np.ascontiguousarray(alpha)
        h, w = alpha.shape
        bottom, right = (top + h) % 2, (left + w) % 2
        a = cv2.copyMakeBorder(alpha, top, bottom, left, right, cv2.BORDER_CONSTANT, value=0).astype(np.float32)
        colour = cv2.copyMakeBorder(rgb, top, bottom, left, right, cv2.BORDER_CONSTANT, value=0).astype(np.float32)
        planes = colour @ BT709.T + (a / 255.0)[..., None] * OFFSETS
        half = (planes.shape[1] // 2, planes.shape[0] // 2)
        chroma = cv2.resize(planes[..., 1:], half, interpolation=cv2.INTER_AREA)
        chroma_alpha = cv2.resize(a, half, interpolation=cv2.INTER_AREA)

        def byte(values: np.ndarray) -> np.ndarray:
            return np.ascontiguousarray(np.clip(np.rint(values), 0, 255).astype(np.uint8))

        return cls(luma=byte(planes[..., 0]), luma_inverse=byte(255.0 - a),
                   u=byte(chroma[..., 0]), v=byte(chroma[..., 1]), chroma_inverse=byte(255.0 - chroma_alpha))

    def blend(self, frame: Frame, opacity: float, x: int, y: int) -> None:
        """Over the frame with the padded top-left corner at (x, y), both even."""
        height, width = frame.y.shape
        left, top = max(0, x), max(0, y)
        right, bottom = min(width, x + self.luma.shape[1]), min(height, y + self.luma.shape[0])
        if right <= left or bottom <= top or opacity <= 0:
            return
        sx, sy = left - x, top - y
        _blend(frame.y[top:bottom, left:right], self.luma[sy:sy + bottom - top, sx:sx + right - left],
               self.luma_inverse[sy:sy + bottom - top, sx:sx + right - left], opacity)
        # Every edge above is even: the chroma region is the luma one halved.
        cl, ct, cr, cb, csx, csy = left // 2, top // 2, right // 2, bottom // 2, sx // 2, sy // 2
        inverse = self.chroma_inverse[csy:csy + cb - ct, csx:csx + cr - cl]
        _blend(frame.u[ct:cb, cl:cr], self.u[csy:csy + cb - ct, csx:csx + cr - cl], inverse, opacity)
        _blend(frame.v[ct:cb, cl:cr], self.v[csy:csy + cb - ct, csx:csx + cr - cl], inverse, opacity)


def _blend(region: np.ndarray, colour: np.ndarray, inverse: np.ndarray, opacity: float) -> None:
    """region = region * inverse / 255 + colour, in place (premultiplied "over")."""
    if opacity < 1.0:
        colour = cv2.multiply(colour, opacity)
        inverse = cv2.subtract(255, cv2.multiply(cv2.subtract(255, inverse), opacity))
    cv2.add(cv2.multiply(region, inverse, scale=1 / 255), colour, dst=region)
