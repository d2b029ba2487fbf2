"""L6: faithful to the plan (frame_at vs the video), adjustments visible, safe with FFmpeg, chunked = single pass."""
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.audio import write_wav
from pipeline.context import LayerContext
from pipeline.contracts import Adjustments, RenderPlan
from pipeline.contracts.plan import Box
from pipeline.errors import FFmpegError, RenderError
from pipeline.layers.l5_media import procedural
from pipeline.layers.l6_assembly import check_video, render_video
from pipeline.media import ffmpeg
from pipeline.motion import ease, layer_state
from pipeline.plan import apply_adjustments
from pipeline.render.compositor import Compositor, frame_at
from pipeline.render.profiles import DEFAULT_PROFILE, PROFILES, Encoder
from pipeline.render.quality import ssim
from pipeline.text import font_ref, layout

W, H, FPS = 360, 640, 30


def make_plan(work, scenes=2, seconds=1.0) -> RenderPlan:
    """A small reel: textured backgrounds with Ken Burns, a card, sliding text, the compliance overlay, audio."""
    font = font_ref("DejaVu Sans Bold", "DejaVuSans-Bold.ttf")
    t = np.arange(int(scenes * seconds * 22050)) / 22050
    write_wav(work / "voice.wav", 0.3 * np.sin(2 * np.pi * 180 * t), 22050)
    layers_by_scene = []
    for index in range(scenes):
        procedural.energy(W, H, ["#00338D", "#E31837"][index % 2], "#FFB81C", f"test{index}").save(
            work / f"bg{index}.jpg", quality=90)
        text = f"JOSH ALLEN OVER {262 + index}.5"
        box = Box(x=24, y=120, width=W - 48, height=140)
        layers_by_scene.append([
            {"type": "shape", "id": f"card{index}", "shape": "rounded_rect", "radius": 10, "fill": "#0B0F1A",
             "fill_opacity": 0.75, "box": {"x": 20, "y": 380, "width": W - 40, "height": 120},
             "start": index * seconds, "end": (index + 1) * seconds},
            {"type": "text", "id": f"headline{index}", "role": "headline", "text": text, "font": font.family,
             "size": 34, "base_size": 34, "color": "#FFFFFF", "stroke_color": "#000000", "stroke_width": 2,
             "box": box.model_dump(), "start": index * seconds + 0.1, "end": (index + 1) * seconds,
             "sources": [{"text": f"{262 + index}.5", "field": "matchup.props[0].line", "value": 262.5 + index}],
             "lines": [line.model_dump() for line in layout(text, font_file=font.file, size=34, box=box)],
             "motion": {"enter": "slide_up", "enter_s": 0.3, "distance": 40}}])
    comp_box = Box(x=10, y=H - 40, width=W - 20, height=30)
    compliance = "21+ · Gambling problem? Call 1-800-GAMBLER"
    return RenderPlan.model_validate({
        "kind": "reel", "width": W, "height": H, "fps": FPS, "duration": scenes * seconds,
        "fonts": [font.model_dump()], "palette": ["#FFFFFF", "#FFD400"],
        "audio": [{"file": "voice.wav", "role": "narration", "gain": 1.0}],
        "scenes": [{"id": f"s{i}", "start": i * seconds, "end": (i + 1) * seconds,
                    "background": {"asset": f"bg{i}.jpg", "kenburns": {"from_scale": 1.0, "to_scale": 1.15}},
                    "layers": layers_by_scene[i]} for i in range(scenes)],
        "overlay": [{"type": "text", "id": "compliance", "role": "compliance", "text": compliance,
                     "font": font.family, "size": 14, "base_size": 14, "color": "#FFFFFF", "align": "center",
                     "box": comp_box.model_dump(), "start": 0, "end": scenes * seconds, "editable": False,
                     "lines": [line.model_dump() for line in layout(compliance, font_file=font.file, size=14,
                                                                     box=comp_box, align="center")]}]})


def render(plan, work, name="final.mp4", chunk_seconds=0.0):
    ctx = LayerContext(job_id="t", layer="L6", work_dir=work)
    out = work / "L6" / name
    out.parent.mkdir(parents=True, exist_ok=True)
    # The encoder L6 picks for a preset that delivers nowhere: the default (social) profile.
    return render_video(plan, Compositor(plan, work), ctx, out, PROFILES[DEFAULT_PROFILE].encoder, chunk_seconds), out


@pytest.fixture
def plan(tmp_path):
    return make_plan(tmp_path)


def test_frame_at_is_the_video_frame(plan, tmp_path):
    output, out = render(plan, tmp_path)
    assert output.frames == plan.frame_count
    for index in (0, 5, 17, 31, 44, 59):
        video = ffmpeg.decode_frame(out, index, FPS, (W, H))
        reference = frame_at(plan, index / FPS, tmp_path)
        assert ssim(video, reference) >= 0.98, index


def test_adjustments_show_in_the_output(plan, tmp_path):
    adjusted = apply_adjustments(plan, Adjustments(text_scale=1.5, text_edits={"headline0": "ALLEN 262.5 LOCK"},
                                                   timing_offset=0.3), base_dir=tmp_path)
    _, out = render(adjusted, tmp_path, "adjusted.mp4")
    t = 0.7
    video = ffmpeg.decode_frame(out, int(t * FPS), FPS, (W, H))
    assert ssim(video, frame_at(adjusted, t, tmp_path)) >= 0.98
    assert ssim(video[100:300], frame_at(plan, t, tmp_path)[100:300]) < 0.9
    # the edited text is drawn bigger: more ink in the headline region
    ink_before = (frame_at(plan, t, tmp_path)[100:300] > 240).all(axis=2).sum()
    ink_after = (video[100:300] > 240).all(axis=2).sum()
    assert ink_after > ink_before
    # the timing offset: at 0.2 s the headline is not up yet in the adjusted plan, but is in the original
    early = int(0.2 * FPS)
    adjusted_early = ffmpeg.decode_frame(out, early, FPS, (W, H))[100:300]
    assert ssim(adjusted_early, frame_at(plan, early / FPS, tmp_path)[100:300]) < 0.95


def test_chunked_render_matches_single_pass(tmp_path):
    plan = make_plan(tmp_path, scenes=4, seconds=0.5)
    single, single_out = render(plan, tmp_path, "single.mp4")
    chunked, chunked_out = render(plan, tmp_path, "chunked.mp4", chunk_seconds=0.9)
    assert single.frames == chunked.frames == plan.frame_count
    assert (single.scenes, chunked.scenes) == (4, 2)
    for index in range(0, plan.frame_count, 7):
        a = ffmpeg.decode_frame(single_out, index, FPS, (W, H))
        b = ffmpeg.decode_frame(chunked_out, index, FPS, (W, H))
        assert ssim(a, b) >= 0.98, index


def ahead_inputs(plan):
    """What the render ahead gets: the plan, and the shipped reel preset it was built with."""
    import json

    from pipeline.contracts import JobInputs, PresetConfig
    from pipeline.registry import LayerInput
    from presets.management.commands.load_presets import DATA_DIR

    preset = json.loads((DATA_DIR / "reel_hype.json").read_text())
    return LayerInput(job=JobInputs(sport="nfl", matchup_id="g"),
                      preset=PresetConfig.model_validate(preset["config"]), plan=plan)


def every_frame(path) -> bytes:
    return ffmpeg.run(["-i", path, "-f", "rawvideo", "-pix_fmt", "yuv420p", "-"], capture_stdout=True).stdout


def test_a_render_from_the_scene_cache_is_frame_identical_to_one_from_scratch(tmp_path):
    """given: one job folder rendered from scratch, another whose chunks were rendered ahead of approval
    when: both render the plan
    then: the second only joins, and every decoded frame of the two files is the same"""
    from pipeline.layers.l6_assembly import render_ahead

    scratch, ahead = tmp_path / "scratch", tmp_path / "ahead"
    for folder in (scratch, ahead):
        folder.mkdir()
        plan = make_plan(folder, scenes=3, seconds=0.5)
    ctx = LayerContext(job_id="t", layer="L6", work_dir=ahead)
    assert render_ahead(ahead_inputs(plan), ctx, give_way=lambda: False) == 3
    from_scratch, scratch_out = render(plan, scratch)
    from_cache, cache_out = render(plan, ahead)
    assert (from_scratch.scenes_reused, from_cache.scenes_reused) == (0, 3)
    assert every_frame(scratch_out) == every_frame(cache_out)
    assert len(every_frame(cache_out)) == plan.frame_count * W * H * 3 // 2


def test_an_adjusted_plan_renders_only_the_scenes_it_changed(plan, tmp_path):
    # as approval makes it: the built plan through apply_adjustments, here with nothing to change
    plan = apply_adjustments(plan, Adjustments(), base_dir=tmp_path)
    render(plan, tmp_path)
    edited = apply_adjustments(plan, Adjustments(text_edits={"headline1": "ALLEN 263.5 LOCK"}), base_dir=tmp_path)
    output, _ = render(edited, tmp_path, "edited.mp4")
    assert (output.scenes, output.scenes_reused) == (2, 1)
    # a change that reaches every scene (the text size) reuses nothing
    bigger = apply_adjustments(plan, Adjustments(text_scale=1.2), base_dir=tmp_path)
    assert render(bigger, tmp_path, "bigger.mp4")[0].scenes_reused == 0


def test_a_cached_chunk_changed_on_disk_is_rendered_again(plan, tmp_path):
    from pipeline.render.chunks import cache_folder

    first, _ = render(plan, tmp_path)
    chunk = sorted(cache_folder(tmp_path).glob("*.mp4"))[0]
    data = bytearray(chunk.read_bytes())
    data[len(data) // 2] ^= 0xFF
    chunk.write_bytes(bytes(data))
    again, out = render(plan, tmp_path, "again.mp4")
    assert again.scenes_reused == 1
    assert every_frame(out) == every_frame(tmp_path / first.file)


@pytest.mark.parametrize("damage", ["truncated", "corrupt", "short"])
def test_read_back_refuses_a_damaged_file(plan, tmp_path, damage):
    """given: a rendered reel and the packets of its chunks; when: the file is damaged; then: the check fails"""
    from pipeline.render.chunks import cache_folder, cached_packets, plan_chunks

    output, out = render(plan, tmp_path)
    chunks = plan_chunks(plan, tmp_path, PROFILES[DEFAULT_PROFILE].encoder)
    packets = [p for chunk in chunks for p in cached_packets(cache_folder(tmp_path), chunk)]
    check_video(out, plan, packets)  # the good file passes
    data = out.read_bytes()
    if damage == "truncated":
        out.write_bytes(data[: len(data) * 2 // 3])
    elif damage == "corrupt":
        # Garbled bytes in several places of the media data, so video packets are hit whatever share the audio has.
        middle = bytearray(data)
        for place in (4, 5, 6):
            for offset in range(len(data) * place // 8, len(data) * place // 8 + 64):
                middle[offset] ^= 0x5A
        out.write_bytes(bytes(middle))
    else:
        # a well-formed file that lacks the last scene
        ffmpeg.run(["-y", "-i", tmp_path / output.file, "-t", "1.0", "-c", "copy", tmp_path / "short.mp4"])
        out = tmp_path / "short.mp4"
    with pytest.raises(RenderError, match="failed its read-back check"):
        check_video(out, plan, packets)
    with pytest.raises(RenderError, match="failed its read-back check"):
        check_video(out, plan)


def test_a_render_ahead_gives_way_when_asked_and_gives_its_chunk_back(plan, tmp_path):
    """given: a render ahead that is told to give way after its first chunk is under way
    then: it stops between frames and leaves no chunk, claim or part file; asked again later, it finishes"""
    from pipeline.layers.l6_assembly import render_ahead
    from pipeline.render.chunks import Stopped, cache_folder

    calls = []

    def give_way() -> bool:
        calls.append(1)
        return len(calls) > 1  # let the first chunk start, then stop between its frames

    ctx = LayerContext(job_id="t", layer="L6", work_dir=tmp_path)
    with pytest.raises(Stopped):
        render_ahead(ahead_inputs(plan), ctx, give_way=give_way)
    assert len(calls) == 2
    assert [p.name for p in cache_folder(tmp_path).iterdir()] == []
    assert render_ahead(ahead_inputs(plan), ctx, give_way=lambda: False) == 2
    assert render(plan, tmp_path)[0].scenes_reused == 2


# --- motion formulas


def test_easing_ends():
    for name in ("linear", "ease_out_cubic", "ease_in_out_cubic", "ease_out_back"):
        assert ease(name, 0) == pytest.approx(0) and ease(name, 1) == pytest.approx(1)
    assert ease("ease_out_cubic", 0.5) == pytest.approx(0.875)


def test_slide_up_moves_and_fades_in(plan):
    headline = plan.scenes[0].layers[1]
    assert layer_state(headline, 0.05).alpha == 0
    start = layer_state(headline, 0.1)
    middle = layer_state(headline, 0.25)
    end = layer_state(headline, 0.5)
    assert start.dy == pytest.approx(40) and 0 < middle.dy < 40 and end.dy == 0
    assert start.alpha == 0 and 0 < middle.alpha < 1 and end.alpha == 1


# --- FFmpeg safety


def fake_ffmpeg(tmp_path, body: str) -> str:
    path = tmp_path / "fake-ffmpeg"
    path.write_text("#!/bin/sh\n" + textwrap.dedent(body))
    path.chmod(0o755)
    return str(path)


@pytest.fixture
def use_binary():
    def use(path):
        ffmpeg.configure(path)

    yield use
    ffmpeg.configure(None)


def alive(pids: list[int]) -> list[int]:
    """Those of `pids` still running (a zombie waiting to be reaped has stopped: it counts as gone)."""
    found = []
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        if state not in ("Z", "X"):
            found.append(pid)
    return found


def test_a_hanging_ffmpeg_is_killed_at_the_timeout(tmp_path, use_binary):
    # The fake's own children, by pid: a look by name would also see another test's processes (the suite runs on
    # several workers at once).
    pids = tmp_path / "pids"
    use_binary(fake_ffmpeg(tmp_path, f"sleep 300 & echo $! >> {pids}\nsleep 301 & echo $! >> {pids}\nwait\n"))
    started = time.monotonic()
    with pytest.raises(FFmpegError, match="longer than 1 s"):
        ffmpeg.run(["-i", "x"], timeout=1)
    assert time.monotonic() - started < 5
    children = [int(line) for line in pids.read_text().split()]
    assert len(children) == 2
    # killed with its process group; a loaded machine may take a moment to reap them (the suite saw 0.2 s miss)
    deadline = time.monotonic() + 3
    while alive(children) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert alive(children) == []


def test_a_failing_ffmpeg_is_a_render_error_quoting_stderr(plan, tmp_path, use_binary):
    use_binary(fake_ffmpeg(tmp_path, "echo 'Unknown encoder libx264: something broke' >&2\nexit 1\n"))
    with pytest.raises(FFmpegError, match="Unknown encoder libx264") as info:
        render(plan, tmp_path)
    assert "something broke" in info.value.stderr
    assert not (tmp_path / "L6" / "final.mp4").exists()


def test_a_missing_ffmpeg_says_so(tmp_path, use_binary):
    use_binary(str(tmp_path / "no-such-ffmpeg"))
    with pytest.raises(FFmpegError, match="not installed"):
        ffmpeg.run(["-version"], timeout=5)


def test_a_render_killed_midway_leaves_the_previous_good_file(tmp_path):
    plan = make_plan(tmp_path, scenes=2)
    good, out = render(plan, tmp_path)
    before = out.read_bytes()
    long_plan = make_plan(tmp_path, scenes=30, seconds=1.0)
    (tmp_path / "plan.json").write_text(long_plan.model_dump_json())
    script = textwrap.dedent(f"""
        import sys
        from pathlib import Path
        sys.path.insert(0, {str(os.getcwd())!r})
        from pipeline.contracts import RenderPlan
        from tests.pipeline.test_render import render
        work = Path({str(tmp_path)!r})
        render(RenderPlan.model_validate_json((work / "plan.json").read_text()), work)
    """)
    child = subprocess.Popen([sys.executable, "-c", script], start_new_session=True)
    deadline = time.monotonic() + 60
    # killed while scene chunks are being encoded
    while not list((tmp_path / "L6" / "scenes").glob(".*.part.mp4")) and time.monotonic() < deadline:
        time.sleep(0.02)
    os.killpg(child.pid, signal.SIGKILL)
    child.wait()
    assert out.read_bytes() == before
    assert not [p for p in (tmp_path / "L6").iterdir() if p.suffix == ".mp4" and p.name != "final.mp4"]
    # and the render run again finishes, reusing the chunks the killed one finished (its claims are stale)
    from pipeline.render import chunks

    for claim in (tmp_path / "L6" / "scenes").glob("*.claim"):
        os.utime(claim, (time.time() - chunks.CLAIM_STALE_S - 1,) * 2)
    again, _ = render(long_plan, tmp_path)
    assert again.frames == long_plan.frame_count


@given(durations=st.lists(st.floats(min_value=0.01, max_value=4.0, allow_nan=False), min_size=1, max_size=8),
       fps=st.sampled_from([24, 25, 30, 60]))
@settings(max_examples=60, deadline=None)
def test_no_scene_is_drawn_in_two_chunks(tmp_path_factory, durations, fps):
    """Scene times come from the narration's timing: whatever they are, each frame of a chunk shows one of
    that chunk's own scenes, so changing one scene changes one chunk (found: a scene starting a hair after a
    frame time had its first frame cut into the next scene's chunk)."""
    from pipeline.render.chunks import plan_chunks
    from pipeline.render.compositor import scene_at

    starts = np.concatenate([[0.0], np.cumsum(durations)])
    plan = RenderPlan.model_validate({
        "kind": "reel", "width": 64, "height": 64, "fps": fps, "duration": float(starts[-1]),
        "fonts": [font_ref("DejaVu Sans Bold", "DejaVuSans-Bold.ttf").model_dump()],
        "palette": ["#FFFFFF"], "overlay": [{
            "type": "text", "id": "compliance", "role": "compliance", "text": "21+", "font": "DejaVu Sans Bold",
            "size": 14, "base_size": 14, "color": "#FFFFFF", "box": {"x": 0, "y": 40, "width": 64, "height": 20},
            "start": 0, "end": float(starts[-1]), "editable": False,
            "lines": [{"text": "21+", "x": 0, "y": 40, "width": 20}]}],
        "scenes": [{"id": f"s{i}", "start": float(a), "end": float(b), "background": {"color": "#102030"},
                    "layers": []} for i, (a, b) in enumerate(zip(starts, starts[1:], strict=False))]})
    chunks = plan_chunks(plan, tmp_path_factory.mktemp("chunks"), Encoder())
    assert sum(chunk.count for chunk in chunks) == plan.frame_count
    seen: set[str] = set()
    for chunk in chunks:
        shown = {scene_at(plan, i / fps).id for i in range(chunk.first, chunk.first + chunk.count)}
        assert not shown & seen
        seen |= shown


@pytest.mark.parametrize("packets", [False, True])
def test_read_back_reads_the_files_own_streams_however_long_ffmpeg_talks(tmp_path, packets):
    """A file whose description fills FFmpeg's error output (long metadata, many progress lines on a slow
    machine) is still read as what it is (found by CI: a recording read as 'wrapped_avframe', the codec of
    FFmpeg's own null output, once the file's stream lines had scrolled out of the kept tail)."""
    out = tmp_path / "talkative.mp4"
    notes = [arg for index in range(12) for arg in ("-metadata", f"note_{index}={'x' * 400}")]
    ffmpeg.run(["-y", "-f", "lavfi", "-i", "testsrc2=s=320x240:r=30:d=1", "-c:v", "libx264", "-pix_fmt", "yuv420p",
                *notes, "-movflags", "use_metadata_tags", out])
    info = ffmpeg.read_back(out, decode_video=not packets, packets=packets)
    assert (info.video_codec, info.pix_fmt, info.width, info.height) == ("h264", "yuv420p", 320, 240)
    assert info.frames == 30 and not info.errors


def test_two_workers_of_one_folder_fetch_a_shared_chunk_at_once(tmp_path):
    """given: a chunk another machine published, and two workers of this folder asking for it together
    then: both find it cached (one shared temporary name made the second's rename fail)"""
    import threading as threads

    from pipeline.render.chunks import is_cached

    published = {"abc.mp4": b"video", "abc.json": b'{"frames": 1}'}
    both = threads.Barrier(2)

    class Shared:
        def get(self, name, dest):
            dest.write_bytes(published[name])
            if name.endswith(".json"):
                both.wait(timeout=10)  # both have fetched the record before either renames it
            return True

    chunk = type("C", (), {"name": "abc.mp4", "record_name": "abc.json"})()
    folder = tmp_path / "scenes"
    folder.mkdir()
    found, errors = [], []

    def ask():
        try:
            found.append(is_cached(folder, chunk, Shared()))
        except OSError as exc:
            errors.append(exc)

    workers = [threads.Thread(target=ask) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=20)
    assert errors == [] and found == [True, True]
    assert (folder / "abc.json").read_bytes() == published["abc.json"]
    assert not list(folder.glob("*.fetched"))
