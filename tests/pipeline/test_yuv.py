"""Compositing in the encoder's YUV planes: the same pictures as compositing in RGB and converting."""
import cv2
import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st

from pipeline.render import yuv
from pipeline.render.compositor import Sprite

W, H = 180, 320


def picture(seed=0, size=(240, 400)):
    """A smooth gradient with texture: what the procedural art and photos look like to a resampler."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size[1], 0:size[0]].astype(np.float32)
    rgb = np.stack([120 + 100 * np.sin(x / 17), 90 + 80 * np.cos(y / 23), 60 + 50 * np.sin((x + y) / 31)], axis=2)
    return np.clip(rgb + rng.normal(0, 2, rgb.shape), 0, 255).astype(np.uint8)


def exact(plane, pad, view, size):
    x, y, w, h = view
    sx, sy = w / size[0], h / size[1]
    matrix = np.array([[sx, 0, x + pad + 0.5 * sx - 0.5], [0, sy, y + pad + 0.5 * sy - 0.5]])
    return cv2.warpAffine(plane, matrix, size, flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REPLICATE)


@given(zoom=st.floats(min_value=0.6, max_value=2.0), fx=st.floats(0, 1), fy=st.floats(0, 1))
@settings(max_examples=150, deadline=None)
def test_the_fast_resample_samples_where_the_exact_warp_does(zoom, fx, fy):
    """Any Ken Burns view (zoom and corner come from the plan): the resize path lands within OpenCV's own
    sampling precision of the warp, or falls back to it."""
    rgb = picture()
    pic = yuv.Picture.from_rgb(rgb)
    w, h = min(240.0, W / zoom * 240 / W), min(400.0, H / zoom * 240 / W)
    view = (fx * (240 - w), fy * (400 - h), w, h)
    frame = yuv.Frame(W, H)
    pic.draw(view, frame)
    reference = exact(pic.y, yuv.PAD, view, (W, H))
    difference = np.abs(frame.y.astype(int) - reference)
    assert difference.max() <= 3 and difference.mean() < 0.5


@given(alpha=st.integers(0, 255), opacity=st.floats(0.0, 1.0), x=st.integers(-9, 200), y=st.integers(-9, 330))
@example(alpha=7, opacity=0.5, x=0, y=27)  # found by CI: three roundings apart
@settings(max_examples=150, deadline=None)
def test_a_sprite_blended_in_yuv_matches_blending_in_rgb_then_converting(alpha, opacity, x, y):
    """A soft-edged sprite at any position, odd or even, partly off the frame, at any opacity."""
    rgb = picture(1, (W, H))
    patch = np.zeros((21, 33, 4), np.uint8)
    patch[..., :3] = (250, 200, 30)
    patch[..., 3] = alpha
    patch[:, :3, 3] = alpha // 2  # a softer edge
    from PIL import Image

    sprite = Sprite.from_image(Image.fromarray(patch), x, y)
    in_rgb = np.dstack([rgb, np.full((H, W), 255, np.uint8)])
    sprite.blend(in_rgb, opacity)
    expected = yuv.to_planes(in_rgb[..., :3]).data
    frame = yuv.to_planes(rgb)
    sprite.blend_yuv(frame, opacity)
    difference = np.abs(frame.data.astype(int) - expected)
    # Both ways round to bytes three or four times (premultiplying, the opacity, the blend, the conversion):
    # a few levels at the odd pixel, never a visible shift.
    assert difference.max() <= 3
    assert difference.mean() < 0.1


def test_colours_convert_as_ffmpeg_does(tmp_path):
    """The planes FFmpeg makes from the same RGB picture (its swscale, told BT.709 limited range)."""
    from pipeline.media import ffmpeg

    rgb = picture(2, (W, H))
    done = ffmpeg.run(["-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{W}x{H}", "-i", "-",
                       "-vf", "scale=out_color_matrix=bt709:out_range=tv", "-f", "rawvideo",
                       "-pix_fmt", "yuv420p", "-"], input=rgb.tobytes(), capture_stdout=True)
    theirs = np.frombuffer(done.stdout, np.uint8).astype(int)
    ours = yuv.to_planes(rgb).data.astype(int)
    assert np.abs(ours[: W * H] - theirs[: W * H]).max() <= 1
    assert np.abs(ours[W * H:] - theirs[W * H:]).mean() < 1.0
    flat = yuv.Frame(4, 4)
    for plane, value in zip((flat.y, flat.u, flat.v), yuv.colour_planes((0, 51, 141)), strict=True):
        plane.fill(value)
    assert np.abs(flat.data.astype(int) - yuv.to_planes(np.full((4, 4, 3), (0, 51, 141), np.uint8)).data).max() <= 1
