"""What the reviewer approved vs what was rendered: the page's canvas snapshots against L6's frames."""
from __future__ import annotations

import base64
import binascii
import io
import math

import numpy as np
from PIL import Image

from pipeline.contracts import RenderPlan
from pipeline.motion import still_time
from pipeline.render.quality import ssim

MAX_SNAPSHOT_BYTES = 2_000_000
MAX_SNAPSHOTS = 5


def snapshot_times(plan: RenderPlan) -> list[float]:
    """Three moments the page snapshots at approval: settled frames of the first, middle and last scene, each
    given as the middle of its frame, so the page (which draws frame floor(t * fps)) and L6 pick the same frame
    whatever rounding the time goes through on its way."""
    picks = sorted({0, len(plan.scenes) // 2, len(plan.scenes) - 1})
    return [settled_time(plan, plan.scenes[index]) for index in picks][:3]


def settled_time(plan: RenderPlan, scene) -> float:
    """The middle of the frame where a scene is at rest: what L6 makes a slide or a still from."""
    frame = min(int(still_time(scene, [*scene.layers, *plan.overlay]) * plan.fps), plan.frame_count - 1)
    return round((frame + 0.5) / plan.fps, 4)


def slide_times(plan: RenderPlan) -> list[float]:
    """Where the review page shows each image of a carousel (its slides) or a still (its one image, the first
    scene's), as L6 draws them; a reel has none (it is reviewed as it plays)."""
    if plan.kind == "reel":
        return []
    scenes = plan.scenes if plan.kind == "carousel" else plan.scenes[:1]
    return [settled_time(plan, scene) for scene in scenes]


def snapshot_frame(plan: RenderPlan, key: str) -> int | None:
    """The frame a snapshot sent under `key` (its time, as the page wrote it) shows; None when it is no time."""
    try:
        t = float(key)
    except ValueError:
        return None
    if not math.isfinite(t):
        return None
    # Held to the piece first: a huge time times the frame rate is infinite.
    return min(int(min(max(t, 0.0), plan.duration) * plan.fps), plan.frame_count - 1)


def decode_snapshot(data_url: str) -> np.ndarray | None:
    """A data URL from the page as RGB, or None when it is not a small PNG or JPEG."""
    if not isinstance(data_url, str) or not data_url.startswith(("data:image/png;base64,", "data:image/jpeg;base64,")):
        return None
    try:
        raw = base64.b64decode(data_url.split(",", 1)[1], validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(raw) > MAX_SNAPSHOT_BYTES:
        return None
    try:
        with Image.open(io.BytesIO(raw)) as image:
            if image.format not in ("PNG", "JPEG") or image.width * image.height > 4_000_000:
                return None
            return np.asarray(image.convert("RGB"))
    except (OSError, Image.DecompressionBombError):
        return None


BRAND_DELTA_E_MAX = 2.0


def brand_colour_error(video: np.ndarray, still: np.ndarray, palette: list[str]) -> float | None:
    """The median ΔE, over the areas of the still painted in one of the brand's colours (text, cards, flat
    backgrounds; their edges left out), between the video frame and the still: what a viewer's player shows
    against what the reviewer approved. None when the frame shows no brand colour."""
    import cv2

    from pipeline.render.quality import _lab

    # Every other pixel each way: a quarter of the work, and 4:2:0 has no finer colour to show anyway.
    lab_still, lab_video = _lab(still[::2, ::2]), _lab(video[::2, ::2])
    brand = _lab(np.array([[int(c[i:i + 2], 16) for i in (1, 3, 5)] for c in palette], dtype=np.float64))
    near = np.zeros(lab_still.shape[:2], dtype=bool)
    for colour in brand:
        near |= np.linalg.norm(lab_still - colour, axis=-1) <= 3.0
    # Away from edges: 4:2:0 video halves colour resolution, so a text's rim is a blend either way.
    inner = cv2.erode(near.astype(np.uint8), np.ones((4, 4), np.uint8)).astype(bool)
    if inner.sum() < 50:
        return None
    return round(float(np.median(np.linalg.norm(lab_video[inner] - lab_still[inner], axis=-1))), 2)


def at_snapshot_size(snapshot: np.ndarray, frame: np.ndarray) -> np.ndarray:
    """The rendered frame at the snapshot's size. The page shrinks its canvas by a whole factor with a plain
    block average (canvas.js snapshot); the frame is shrunk here the same way (PIL's reduce), so what is
    measured is the picture, not two scalers. A snapshot of another size is met with an area average."""
    height, width = snapshot.shape[:2]
    image = Image.fromarray(frame)
    factor = frame.shape[1] // width
    if factor > 1 and image.reduce(factor).size == (width, height):
        image = image.reduce(factor)
    elif image.size != (width, height):
        image = image.resize((width, height), Image.BOX)
    return np.asarray(image)


def compare(snapshot: np.ndarray, frame: np.ndarray) -> float:
    """SSIM of a page snapshot and a rendered frame at the snapshot's size."""
    return round(ssim(snapshot, at_snapshot_size(snapshot, frame)), 4)


# A difference a person sees on a phone: a patch (after a small blur, which takes away anti-aliasing and
# half-pixel shifts between the two rasterisers) whose colour moved by more than VISIBLE_LEVELS of 255 in a
# channel, covering at least VISIBLE_SHARE of the picture (0.1 % of a 270x480 snapshot is a 11x11 patch: a
# word, a wrong digit). SSIM alone cried wolf: 0.945 on a frame where nothing a viewer could name had moved.
VISIBLE_LEVELS = 48
VISIBLE_SHARE = 0.001


def visible_difference(snapshot: np.ndarray, frame: np.ndarray) -> dict | None:
    """Where the rendered frame differs from the approved canvas in a way a person sees: the share of the picture
    that differs, its box in the snapshot's pixels, and the frame at the snapshot's size (a JPEG data URL) with
    that box drawn round it, for the job page to show beside the snapshot. None when nothing visible differs."""
    import cv2
    from PIL import ImageDraw

    shrunk = at_snapshot_size(snapshot, frame)
    blur = (3, 3)
    delta = np.abs(cv2.blur(snapshot.astype(np.int16), blur) - cv2.blur(shrunk.astype(np.int16), blur)).max(axis=-1)
    # A lone pixel over the line is noise; a patch is a difference: open the mask before measuring it.
    mask = cv2.morphologyEx((delta > VISIBLE_LEVELS).astype(np.uint8), cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))
    share = float(mask.mean())
    if share < VISIBLE_SHARE:
        return None
    ys, xs = np.nonzero(mask)
    box = [int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1]
    picture = Image.fromarray(shrunk)
    ImageDraw.Draw(picture).rectangle([box[0] - 2, box[1] - 2, box[2] + 1, box[3] + 1], outline="#FF3B5C", width=2)
    out = io.BytesIO()
    picture.save(out, format="JPEG", quality=85)
    return {"share": round(share, 4), "box": box,
            "frame": "data:image/jpeg;base64," + base64.b64encode(out.getvalue()).decode("ascii")}
