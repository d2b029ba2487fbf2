"""The files L6 makes, checked as the platforms' upload checkers and players read them (issue 24): ffprobe for
the streams, the MP4's own boxes, FFmpeg's EBU R128 meter for loudness, a BT.709 decode for the colours."""
import json
import re
import shutil
import subprocess

import numpy as np
import pytest

from pipeline.audio import write_wav
from pipeline.context import LayerContext
from pipeline.contracts import RenderPlan
from pipeline.contracts.plan import Box
from pipeline.layers.l6_assembly import render_video
from pipeline.media import ffmpeg, mp4
from pipeline.render.compositor import Compositor
from pipeline.render.profiles import DEFAULT_PROFILE, PROFILES
from pipeline.render.quality import delta_e
from pipeline.render.video import profile_problems
from pipeline.text import font_ref, layout

COMPLIANCE = "21+ · Gambling problem? Call 1-800-GAMBLER"
BOTTOM = Box(x=40, y=1800, width=1000, height=60)
BRAND = ["#FFD400", "#19E68C", "#FF3B5C", "#0B0F1A", "#FFFFFF", "#00338D"]


def ffprobe(*args) -> dict:
    tool = shutil.which("ffprobe")
    assert tool, "ffprobe is not installed: `make test` installs Debian's ffmpeg"
    done = subprocess.run([tool, "-v", "error", "-of", "json", *args], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def reel(tmp_path_factory):
    return render_brand_reel(tmp_path_factory.mktemp("reel"))


def render_brand_reel(work):
    """A 1080x1920 reel of flat brand-colour scenes with a narration-like tone, rendered as L6 renders, in the
    default (social) profile. (The browser tests play it too: tests/browser/test_platform_colour.py.)"""
    seconds = 0.8
    rate = 22050
    t = np.arange(int(len(BRAND) * seconds * rate)) / rate
    # Speech-like: a tone whose level moves, at -30 dBFS or so, far below the platforms' -14 LUFS.
    write_wav(work / "voice.wav", 0.03 * (1 + np.sin(2 * np.pi * 3 * t)) * np.sin(2 * np.pi * 220 * t), rate)
    font = font_ref("DejaVu Sans Bold", "DejaVuSans-Bold.ttf")
    plan = RenderPlan.model_validate({
        "kind": "reel", "width": 1080, "height": 1920, "fps": 30, "duration": len(BRAND) * seconds,
        "fonts": [font.model_dump()], "palette": BRAND,
        "audio": [{"file": "voice.wav", "role": "narration", "gain": 1.0}],
        "scenes": [{"id": f"s{i}", "start": i * seconds, "end": (i + 1) * seconds,
                    "background": {"color": colour}, "layers": []} for i, colour in enumerate(BRAND)],
        "overlay": [{"type": "text", "id": "compliance", "role": "compliance", "text": COMPLIANCE,
                     "font": font.family, "size": 30, "base_size": 30, "color": "#FFFFFF", "align": "center",
                     "stroke_color": "#000000", "stroke_width": 2, "box": BOTTOM.model_dump(), "start": 0,
                     "end": len(BRAND) * seconds, "editable": False,
                     "lines": [line.model_dump() for line in layout(COMPLIANCE, font_file=font.file, size=30,
                                                                     box=BOTTOM, align="center")]}]})
    out = work / "L6" / "final.mp4"
    out.parent.mkdir(parents=True)
    render_video(plan, Compositor(plan, work), LayerContext(job_id="t", layer="L6", work_dir=work), out,
                 PROFILES[DEFAULT_PROFILE].encoder)
    return plan, out


def test_the_video_is_tagged_bt709_and_the_colours_survive_a_bt709_player(reel):
    """given: flat scenes of the brand's colours
    then: the stream and the container say BT.709 limited range, and a BT.709 decode (what Chromium and the
    platforms do with HD) shows each colour within ΔE 2 of the brand's"""
    plan, out = reel
    (video,) = ffprobe("-select_streams", "v", "-show_streams", str(out))["streams"]
    assert (video["color_space"], video["color_primaries"], video["color_transfer"], video["color_range"]) == (
        "bt709", "bt709", "bt709", "tv")
    assert next(t for t in mp4.tracks(out) if t.handler == "vide").colour == ("bt709", "bt709", "bt709", False)
    for index, colour in enumerate(BRAND):
        frame = int((index + 0.5) * 0.8 * plan.fps)
        as_player = f"select=eq(n\\,{frame}),scale=in_color_matrix=bt709:in_range=tv,format=rgb24"
        done = ffmpeg.run(["-i", str(out), "-vf", as_player,
                           "-fps_mode", "passthrough", "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                          capture_stdout=True)
        pixels = np.frombuffer(done.stdout, np.uint8).reshape(1920, 1080, 3)
        shown = pixels[900:1000, 500:600].reshape(-1, 3).mean(axis=0)
        wanted = [int(colour[i:i + 2], 16) for i in (1, 3, 5)]
        assert delta_e(shown, wanted) <= 2.0, f"{colour} plays as {shown.round()} (ΔE {delta_e(shown, wanted):.1f})"


def test_the_reel_is_what_instagram_tiktok_and_youtube_take(reel):
    """no edit lists, both streams starting at 0, the index at the front, closed GOPs with keyframes at most 2 s
    apart, at most 2 B-frames, one frame duration, stereo AAC at 48 kHz"""
    plan, out = reel
    data = out.read_bytes()
    assert b"edts" not in data[: data.find(b"mdat")] and b"elst" not in data[: data.find(b"mdat")]
    assert data.find(b"moov") < data.find(b"mdat")  # faststart
    streams = {s["codec_type"]: s for s in ffprobe("-show_streams", str(out))["streams"]}
    assert float(streams["video"]["start_time"]) == 0 and float(streams["audio"]["start_time"]) == 0
    assert int(streams["video"]["has_b_frames"]) <= 2
    assert (streams["audio"]["codec_name"], streams["audio"]["sample_rate"], streams["audio"]["channels"]) == (
        "aac", "48000", 2)
    packets = ffprobe("-select_streams", "v", "-show_entries", "packet=pts_time,flags", str(out))["packets"]
    keys = sorted(float(p["pts_time"]) for p in packets if "K" in p["flags"])
    assert keys[0] == 0 and max(b - a for a, b in zip([*keys, plan.duration], [*keys[1:], plan.duration],
                                                      strict=False)) <= 2.0 + 1e-6
    assert mp4.x264_options(out)["bframes"] <= 2 and mp4.x264_options(out)["open_gop"] == 0
    (video,) = [t for t in mp4.tracks(out) if t.handler == "vide"]
    assert len({delta for _, delta in video.durations}) == 1


def test_the_mix_is_at_minus_14_lufs_with_a_true_peak_below_minus_1(reel):
    """Measured on the final file with FFmpeg's EBU R128 meter, as the platforms measure it."""
    _, out = reel
    done = ffmpeg.run(["-i", str(out), "-map", "0:a", "-af", "ebur128=peak=true", "-f", "null", "-"])
    summary = done.stderr[done.stderr.rfind("Summary:"):]
    integrated = float(re.search(r"I:\s+(-?[\d.]+) LUFS", summary).group(1))
    peak = float(re.search(r"Peak:\s+(-?[\d.]+) dBFS", summary).group(1))
    assert abs(integrated - (-14.0)) <= 1.0, summary
    assert peak <= -1.0, summary


def test_a_carousel_reel_is_9_16_with_captions_and_the_presets_slide_length(tmp_path):
    """given: the shipped carousel with its reel on and slides of 1.5 s
    then: the reel is 1080x1920 with each slide whole in its middle, every slide lasts 1.5 s, nothing is narrated,
    the frame durations stay one across the chunk joins, the profile holds, and its caption files (read by the
    parsers receivers use) carry each slide's words while it shows"""
    import copy
    from pathlib import Path

    import srt as srt_parser
    from django.conf import settings

    from pipeline import captions
    from pipeline.contracts import PresetConfig
    from pipeline.plan import reel_of_slides
    from presets.services import sample_plan

    config = copy.deepcopy(json.loads((Path(settings.BASE_DIR) / "presets" / "data" /
                                       "carousel_illustrated.json").read_text())["config"])
    config["format"].update(carousel_reel=True, slide_seconds=1.5)
    slides, folder = sample_plan(PresetConfig.model_validate(config), tmp_path)
    plan = reel_of_slides(slides)
    assert (plan.width, plan.height) == (1080, 1920) and (slides.width, slides.height) == (1080, 1350)
    assert [round(s.end - s.start, 6) for s in plan.scenes] == [1.5] * len(plan.scenes)
    assert not any(track.role == "narration" for track in plan.audio)
    # The slide, whole, in the middle of the reel's frame.
    slide, framed = Compositor(slides, folder).frame(0.75), Compositor(plan, folder).frame(0.75)
    assert np.abs(framed[285:1635].astype(int) - slide.astype(int)).mean() < 2.0
    out = folder / "L6" / "slides.mp4"
    out.parent.mkdir(parents=True, exist_ok=True)
    encoder = PROFILES[DEFAULT_PROFILE].encoder
    render_video(plan, Compositor(plan, folder), LayerContext(job_id="t", layer="L6", work_dir=folder), out,
                 encoder)
    assert profile_problems(out, plan, encoder) == []
    (video,) = ffprobe("-select_streams", "v", "-show_streams", str(out))["streams"]
    assert (video["width"], video["height"]) == (1080, 1920)
    cues = list(srt_parser.parse(captions.srt(captions.slide_cues(plan))))
    assert len(cues) == len(plan.scenes)
    for cue, scene in zip(cues, plan.scenes, strict=True):
        assert abs(cue.start.total_seconds() - scene.start) < 1e-3 and abs(cue.end.total_seconds() - scene.end) < 1e-3
        assert cue.content and not cue.content.isupper()


def test_each_destination_gets_its_encoding_profile(tmp_path):
    """The social profile by default (CRF 17, held under 12 Mb/s at 1080p30 by the VBV), the destination's own
    when a desk admin picked one; a social file over its ceiling or Instagram's is named by the read-back, an
    archive's is not held to a platform's limit"""
    from pipeline.contracts import PresetConfig
    from pipeline.layers.l6_assembly import encoder_from
    from pipeline.render.profiles import bitrate_problem

    preset = PresetConfig.model_validate({"format": {"kind": "reel", "width": 1080, "height": 1920},
                                          "providers": {"distribution": {"name": "archive"}}})
    assert encoder_from({}, preset) == PROFILES["social"].encoder
    master = {"DESTINATIONS": {"archive": {"kind": "folder", "profile": "master"}}, "RENDER_PRESET": "veryfast"}
    assert encoder_from(master, preset).crf == 14
    assert PROFILES["social"].encoder.ceiling(1080, 1920, 30) == 12000
    assert PROFILES["social"].encoder.ceiling(540, 960, 30) == 3000
    assert PROFILES["master"].encoder.ceiling(1080, 1920, 30) is None
    assert bitrate_problem(14_000, 60.0, PROFILES["social"].encoder, 1080, 1920, 30)
    assert bitrate_problem(19_000, 3.0, PROFILES["social"].encoder, 1080, 1920, 30) is None  # the buffer's burst
    assert bitrate_problem(26_000, 2.0, PROFILES["social"].encoder, 1080, 1920, 30)  # over Instagram's 25
    # The archive's busy picture may run past what a platform takes: it is not sent to one.
    assert bitrate_problem(40_000, 60.0, PROFILES["master"].encoder, 1080, 1920, 30) is None
    assert bitrate_problem(7_000, 60.0, PROFILES["social"].encoder, 1080, 1920, 30) is None


def test_a_busy_reel_gets_the_bits_it_needs_up_to_the_social_profiles_ceiling(reel, tmp_path):
    """Frames with detail in them (film grain, a crowd) get the bitrate their quality needs, past YouTube's 8 Mb/s
    recommendation for 1080p uploads, held at the profile's 12 Mb/s ceiling (Instagram's limit is 25); x264
    says in the file that it ran with that VBV."""
    from PIL import Image

    Image.fromarray(np.random.default_rng(7).integers(0, 255, (1920, 1080, 3), dtype=np.uint8)).save(
        tmp_path / "grain.png")
    data = reel[0].model_dump(mode="json")
    data.update(duration=3.0, audio=[], scenes=[{"id": "s0", "start": 0, "end": 3.0, "layers": [], "background": {
        "asset": "grain.png", "kenburns": {"from_scale": 1.0, "to_scale": 1.2}}}])
    data["overlay"][0]["end"] = 3.0
    plan = RenderPlan.model_validate(data)
    out = tmp_path / "L6" / "busy.mp4"
    out.parent.mkdir(parents=True)
    encoder = PROFILES[DEFAULT_PROFILE].encoder
    render_video(plan, Compositor(plan, tmp_path), LayerContext(job_id="t", layer="L6", work_dir=tmp_path), out,
                 encoder)
    (video,) = [t for t in mp4.tracks(out) if t.handler == "vide"]
    ceiling = encoder.ceiling(1080, 1920, 30)
    assert 8000 <= video.bitrate / 1000 <= ceiling * (1 + 2 / video.seconds), video.bitrate
    assert mp4.x264_options(out)["vbv_maxrate"] == ceiling
    assert profile_problems(out, plan, encoder) == []


def test_a_bright_mix_still_holds_minus_1_dbtp_after_aac(tmp_path):
    """given: a mix of sharp clicks and noise bursts (the hats and risers of a music bed), which AAC encodes with
    true peaks well above the PCM's
    then: the encoded track, measured as the platforms measure it, is at most -1 dBTP and near -14 LUFS"""
    from pipeline.render.video import loudness, mix_audio

    rate = 48000
    rng = np.random.default_rng(3)
    t = np.arange(6 * rate) / rate
    samples = 0.25 * np.sign(np.sin(2 * np.pi * 55 * t)) + 0.1 * rng.uniform(-1, 1, len(t))
    for at in range(0, len(samples), rate // 8):
        samples[at:at + 24] = 0.95 * np.sign(rng.uniform(-1, 1, 24))
    write_wav(tmp_path / "bed.wav", np.stack([samples, -samples], axis=1), rate)
    plan = RenderPlan.model_validate({
        "kind": "reel", "width": 64, "height": 64, "fps": 30, "duration": 6.0,
        "fonts": [font_ref("DejaVu Sans Bold", "DejaVuSans-Bold.ttf").model_dump()], "palette": BRAND,
        "audio": [{"file": "bed.wav", "role": "music", "gain": 1.0}],
        "scenes": [{"id": "s", "start": 0, "end": 6.0, "background": {"color": "#000000"}}],
        "overlay": [{"type": "text", "id": "compliance", "role": "compliance", "text": COMPLIANCE,
                     "font": "DejaVu Sans Bold", "size": 8, "base_size": 8, "color": "#FFFFFF",
                     "box": {"x": 0, "y": 0, "width": 64, "height": 64}, "start": 0, "end": 6.0,
                     "lines": [{"text": "21+", "x": 0, "y": 0, "width": 10}]}]})
    out = tmp_path / "mix.m4a"
    mix_audio(plan, tmp_path, out)
    integrated, peak = loudness(out)
    assert peak <= -1.0, peak
    assert abs(integrated - plan.loudness_lufs) <= 1.0, integrated
