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
@example(zoom=1.3317, fx=0.789, fy=0.0)  # found by CI: cv2.resize copied a region it rounded to its own size
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


def _transition_plan(kind: str):
    from pipeline.contracts import RenderPlan
    from pipeline.text import font_ref

    font = font_ref("DejaVu Sans Bold", "DejaVuSans-Bold.ttf")
    return RenderPlan.model_validate({
        "kind": "reel", "width": 96, "height": 160, "fps": 30, "duration": 2.0, "fonts": [font.model_dump()],
        "palette": ["#FFFFFF"],
        "scenes": [{"id": "a", "start": 0.0, "end": 1.0, "background": {"color": "#C81E1E"}},
                   {"id": "b", "start": 1.0, "end": 2.0, "background": {"color": "#1E3CC8"},
                    "transition": {"kind": kind, "duration": 0.5},
                    "layers": [{"type": "shape", "id": "bar", "box": {"x": 10, "y": 40, "width": 60, "height": 20},
                                "fill": "#FFD400", "start": 1.0, "end": 2.0}]}],
        "overlay": [{"type": "text", "id": "compliance", "role": "compliance", "text": "21+", "font": font.family,
                     "size": 8, "base_size": 8, "color": "#FFFFFF", "box": {"x": 0, "y": 150, "width": 96,
                                                                             "height": 10},
                     "start": 0, "end": 2.0, "lines": [{"text": "21+", "x": 2, "y": 150, "width": 12}]}]})


@settings(max_examples=20, deadline=None)
@given(kind=st.sampled_from(["crossfade", "push", "zoom"]), p=st.floats(0.0, 0.999))
def test_a_transition_encoded_in_yuv_is_the_one_drawn_in_rgb(kind, p):
    """The frames the encoder reads (planes) and the frames stills and the parity check use (RGB) show the same
    transition at any moment of it: the held scene before it and the new one, blended, pushed or zoomed."""
    from pipeline.render.compositor import Compositor

    plan = _transition_plan(kind)
    compositor = Compositor(plan, ".")
    t = 1.0 + 0.5 * p
    planes = yuv.Frame(96, 160, np.frombuffer(compositor.frame_yuv420(t), dtype=np.uint8).copy())
    rgb = compositor.frame(t)
    expected = yuv.to_planes(rgb)
    assert np.abs(planes.y.astype(int) - expected.y).mean() < 1.5
    assert np.abs(planes.u.astype(int) - expected.u).mean() < 1.5


def test_a_push_moves_both_scenes_up_together():
    """Half way through a push (eased: at half the time it is half done), the old scene fills the top half and the
    new one the bottom half."""
    from pipeline.render.compositor import Compositor

    frame = Compositor(_transition_plan("push"), ".").frame(1.25)
    assert tuple(frame[20, 48]) == (0xC8, 0x1E, 0x1E)
    assert tuple(frame[140, 48]) == (0x1E, 0x3C, 0xC8)
