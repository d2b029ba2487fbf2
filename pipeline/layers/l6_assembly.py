"""L6 assembly: the approved RenderPlan into final files, each read back and checked before it is kept.

Every file is written to a temporary name in its destination folder, checked,
and only then moved into place, so a render killed at any moment leaves either
no final file or the previous good one.
"""
from __future__ import annotations

import functools
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from PIL import Image

from pipeline.context import LayerContext, RecordedAsset
from pipeline.contracts import ContentKind, OutputFile, PresetConfig, RenderPlan, RenderResult
from pipeline.errors import RenderError
from pipeline.files import atomic_write_bytes, check_image, save_image, sha256_file
from pipeline.log_context import ContextThreadPool
from pipeline.media import ffmpeg
from pipeline.motion import still_time
from pipeline.plan import reel_of_slides
from pipeline.registry import LayerInput
from pipeline.render import parity
from pipeline.render.chunks import (
    Stopped,
    audio_track,
    cache_folder,
    is_cached,
    join,
    plan_chunks,
    prune,
    render_all,
    render_chunk,
)
from pipeline.render.compositor import Compositor
from pipeline.render.profiles import DEFAULT_PROFILE, PROFILES, Encoder
from pipeline.render.video import mux, profile_problems


def encoder_from(options, preset: PresetConfig) -> Encoder:
    """The encoding profile of the destination the preset delivers to (pipeline/render/profiles.py; the social one
    when it delivers nowhere), at the operator's x264 speed."""
    choice = preset.providers.distribution
    destination = (options.get("DESTINATIONS") or {}).get(choice.name) or {} if choice is not None else {}
    profile = PROFILES.get(destination.get("profile") or DEFAULT_PROFILE, PROFILES[DEFAULT_PROFILE])
    return replace(profile.encoder, preset=options.get("RENDER_PRESET", "veryfast"))


def check_video(path: Path, plan: RenderPlan, packets: list[str] | None = None,
                encoder: Encoder | None = None) -> ffmpeg.MediaInfo:
    """Streams, codecs, size, frame count and duration within one frame of the plan, a clean audio decode, and
    the video: with `packets` (those recorded from the scene chunks it was joined from) every stored packet
    must be those bytes in that order, which a truncated, corrupt or short file cannot pass; without, a clean
    full decode."""
    info = ffmpeg.read_back(path, decode_video=packets is None, packets=packets is not None)
    problems = []
    if info.video_codec != "h264" or info.pix_fmt != "yuv420p":
        problems.append(f"video is {info.video_codec}/{info.pix_fmt}, expected h264/yuv420p")
    if (info.width, info.height) != (plan.width, plan.height):
        problems.append(f"size is {info.width}x{info.height}, expected {plan.width}x{plan.height}")
    if plan.audio and (info.audio_codec, info.audio_rate, info.audio_layout) != ("aac", 48000, "stereo"):
        problems.append(f"audio is {info.audio_codec} {info.audio_rate} Hz {info.audio_layout}, expected aac "
                        "48000 Hz stereo")
    problems += profile_problems(path, plan, encoder)
    if info.frames is None or abs(info.frames - plan.frame_count) > 1:
        problems.append(f"{info.frames} frames, expected {plan.frame_count}")
    elif packets is not None and info.packets != packets:
        changed = next((i for i, (a, b) in enumerate(zip(info.packets, packets, strict=False)) if a != b),
                       min(len(info.packets), len(packets)))
        problems.append(f"frame {changed} is not the bytes its scene chunk holds")
    if info.duration is None or abs(info.duration - plan.frame_count / plan.fps) > 1.0 / plan.fps + 0.05:
        problems.append(f"duration {info.duration} s, expected {plan.frame_count / plan.fps:.3f} s")
    if info.errors:
        problems.append(f"decode errors: {'; '.join(info.errors[:3])}")
    if problems:
        raise RenderError(f"{path.name} failed its read-back check: {', '.join(problems)}", layer="L6",
                          field=path.name)
    return info


def _output(ctx: LayerContext, path: Path, kind: str, **info) -> OutputFile:
    digest = sha256_file(path)
    ctx.record_asset(RecordedAsset(path=ctx.rel(path), kind=kind, sha256=digest, width=info.get("width"),
                                   height=info.get("height"), duration=info.get("duration"),
                                   metadata={k: v for k, v in info.items() if k not in ("width", "height")}))
    return OutputFile(kind=kind, file=ctx.rel(path), sha256=digest, bytes=path.stat().st_size, **info)


def caption_files(plan: RenderPlan, ctx: LayerContext, out_dir: Path) -> list[OutputFile]:
    """SRT and WebVTT beside the video: a reel's from its captions (the same groups and times it shows), a reel
    of slides' from each slide's words while it shows."""
    from pipeline import captions
    from pipeline.contracts.plan import CaptionLayer

    layer = next((item for item in plan.overlay if isinstance(item, CaptionLayer)), None)
    timed = captions.cues(layer) if layer is not None else captions.slide_cues(plan)
    if not timed:
        return []
    made = []
    for name, text in (("captions.srt", captions.srt(timed)), ("captions.vtt", captions.webvtt(timed))):
        path = out_dir / name
        atomic_write_bytes(path, text.encode())
        made.append(_output(ctx, path, "captions", duration=plan.duration))
    return made


def render_video(plan: RenderPlan, compositor: Compositor, ctx: LayerContext, out: Path,
                 encoder: Encoder, chunk_seconds: float = 0.0, share: tuple[float, float] = (0.0, 0.9)) -> OutputFile:
    """Render the plan's scene chunks that are not in the job's scene cache (asking helpers when the render is
    spread over workers), join them, mix in the audio, check the file, and move it into place.

    The layer's progress moves over `share` with the work: the frames drawn (most of it), then each step after
    them by name, so the bar does not sit still while the file is joined, mixed and checked."""
    total = plan.frame_count
    folder = cache_folder(ctx.work_dir)
    chunks = plan_chunks(plan, ctx.work_dir, encoder, chunk_seconds)
    last = {"shown": -1.0}
    low, high = share

    def at(done: float) -> float:
        return low + (high - low) * done

    def progress(fraction: float) -> None:
        if fraction - last["shown"] >= 0.01 or fraction >= 1.0:
            last["shown"] = fraction
            ctx.progress(at(0.85 * fraction), f"drawing frame {int(fraction * total)} of {total}")

    missing = sum(not is_cached(folder, chunk, ctx.scenes) for chunk in chunks)
    if chunk_seconds > 0 and missing > 1 and ctx.fan_out is not None:
        ctx.fan_out(missing - 1)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".render-") as tmp:
        video_only = Path(tmp) / "video.mp4"
        staged = Path(tmp) / out.name
        with ContextThreadPool(max_workers=1, thread_name_prefix="l6-audio") as beside:
            # The audio is mixed while the frames are drawn (when it is not in the cache already).
            audio = beside.submit(audio_track, plan, ctx.work_dir, folder, ctx.scenes)
            packets, rendered = render_all(plan, compositor, folder, chunks, progress=progress, shared=ctx.scenes)
            ctx.progress(at(0.88), "joining the scenes")
            join(folder, chunks, video_only)
            ctx.progress(at(0.92), "mixing in the sound")
            mux(plan, video_only, audio.result(), staged)
        ctx.progress(at(0.96), "checking the file as a player reads it")
        info = check_video(staged, plan, packets, encoder)
        os.replace(staged, out)
    return _output(ctx, out, "video", width=info.width, height=info.height, duration=info.duration,
                   frames=info.frames, video_codec=info.video_codec, audio_codec=info.audio_codec,
                   scenes_reused=len(chunks) - rendered, scenes=len(chunks))


@functools.cache
def _srgb_profile() -> bytes:
    from PIL import ImageCms

    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def render_still(compositor: Compositor, t: float, ctx: LayerContext, out: Path, kind: str) -> OutputFile:
    """A frame as a still: JPEG by default (what Instagram's API and TikTok's photo posts take), sRGB tagged,
    full-resolution colour (4:4:4) so red and green text keeps its edges; PNG when the preset asks for it."""
    image = Image.fromarray(compositor.frame(t))
    if out.suffix == ".jpg":
        save_image(image, out, quality=92, subsampling=0, optimize=True, icc_profile=_srgb_profile())
    else:
        save_image(image, out, compress_level=3, icc_profile=_srgb_profile())
    width, height, _ = check_image(out, size=compositor.size, layer="L6")
    return _output(ctx, out, kind, width=width, height=height)


def run(inputs: LayerInput, ctx: LayerContext) -> RenderResult:
    plan = inputs.plan
    if plan is None:
        raise RenderError("there is no approved plan to render", layer="L6")
    started = time.perf_counter()
    compositor = Compositor(plan, ctx.work_dir)
    out_dir = ctx.layer_dir / f"v{inputs.plan_version}"
    out_dir.mkdir(parents=True, exist_ok=True)
    for leftover in out_dir.glob(".render-*"):
        # A render killed earlier left its temporary folder; its final file was never moved into place.
        shutil.rmtree(leftover, ignore_errors=True)
    encoder = encoder_from(ctx.options, inputs.preset)
    chunk_seconds = float(ctx.options.get("RENDER_CHUNK_SECONDS") or 0)
    still_ext = "jpg" if inputs.preset.format.image_format == "jpeg" else "png"
    video = video_plan(plan, inputs.preset)
    video_compositor = compositor if video is plan else Compositor(video, ctx.work_dir) if video else None
    files: list[OutputFile] = []
    if plan.kind == ContentKind.REEL:
        files.append(render_video(plan, compositor, ctx, out_dir / _video_name(plan), encoder, chunk_seconds))
        first = plan.scenes[0]
        files.append(render_still(compositor, still_time(first, [*first.layers, *plan.overlay]), ctx,
                                  out_dir / "poster.jpg", "poster"))
        files += caption_files(plan, ctx, out_dir)
    elif plan.kind == ContentKind.CAROUSEL:
        for index, scene in enumerate(plan.scenes, start=1):
            files.append(render_still(compositor, still_time(scene, [*scene.layers, *plan.overlay]), ctx,
                                      out_dir / f"slide_{index:02d}.{still_ext}", "slide"))
            ctx.progress((0.3 if video is not None else 0.9) * index / len(plan.scenes),
                         f"slide {index} of {len(plan.scenes)}")
        if video is not None:
            files.append(render_video(video, video_compositor, ctx, out_dir / _video_name(plan), encoder,
                                      chunk_seconds, share=(0.3, 0.9)))
            files += caption_files(video, ctx, out_dir)
    else:
        scene = plan.scenes[0]
        files.append(render_still(compositor, still_time(scene, [*scene.layers, *plan.overlay]), ctx,
                                  out_dir / f"image.{still_ext}", "image"))
    if video is not None:
        folder = cache_folder(ctx.work_dir)
        prune(folder, [*(folder / chunk.name for chunk in plan_chunks(video, ctx.work_dir, encoder, chunk_seconds)),
                       *filter(None, [audio_track(video, ctx.work_dir, folder)])])
    ctx.progress(0.94, "comparing with what was approved")
    parity, differences = parity_scores(plan, compositor, ctx.work_dir, files, inputs.snapshots)
    ctx.progress(0.97, "checking the brand colours")
    colour = colour_errors(video, video_compositor, ctx.work_dir, files) if video else {}
    ctx.progress(1.0, "rendered")
    return RenderResult(plan_version=inputs.plan_version, files=files, parity=parity, differences=differences,
                        colour=colour, timings={"total_s": round(time.perf_counter() - started, 3)})


def parity_scores(plan: RenderPlan, compositor: Compositor, work_dir: Path, files: list[OutputFile],
                  snapshots: dict[str, str]) -> tuple[dict[str, float], dict[str, dict]]:
    """SSIM of each snapshot the reviewer's canvas sent at approval against the frame L6 made at that time, and
    where a moment differs in a way a person sees, what differs (parity.visible_difference, with the snapshot's
    key so the page can show the two side by side).

    A snapshot that is not a small PNG or JPEG is left out, not trusted.
    """
    # A reel's snapshots are compared with its video; a carousel's with its slides (its reel is another frame).
    video = next((f for f in files if f.kind == "video"), None) if plan.kind == ContentKind.REEL else None
    scores, differences = {}, {}
    for key, data_url in list(snapshots.items())[: parity.MAX_SNAPSHOTS]:
        snapshot = parity.decode_snapshot(data_url)
        index = parity.snapshot_frame(plan, key)
        if snapshot is None or index is None:
            continue
        t = index / plan.fps
        if video is not None:
            frame = ffmpeg.decode_frame(work_dir / video.file, index, plan.fps, (plan.width, plan.height))
        else:
            frame = compositor.frame(t)
        scores[f"{t:.3f}"] = parity.compare(snapshot, frame)
        if (difference := parity.visible_difference(snapshot, frame)) is not None:
            differences[f"{t:.3f}"] = {**difference, "snapshot": key}
    return scores, differences


def colour_errors(plan: RenderPlan, compositor: Compositor, work_dir: Path, files: list[OutputFile]) -> dict:
    """ΔE of the brand's colours in the video against the stills at the first, middle and last scene's settled
    frame: a figure of the render, like the canvas parity, which the job page shows and warns about past
    BRAND_DELTA_E_MAX (small frames and fine text read a little higher: 4:2:0 video halves colour resolution)."""
    video = next((f for f in files if f.kind == "video"), None)
    if video is None:
        return {}
    errors = {}
    for t in parity.snapshot_times(plan):
        index = min(int(t * plan.fps), plan.frame_count - 1)
        frame = ffmpeg.decode_frame(work_dir / video.file, index, plan.fps, (plan.width, plan.height))
        error = parity.brand_colour_error(frame, compositor.frame(index / plan.fps), plan.palette)
        if error is not None:
            errors[f"{t:.3f}"] = error
    return errors


def _video_name(plan: RenderPlan) -> str:
    return "final.mp4" if plan.kind == ContentKind.REEL else "slides.mp4"


def video_plan(plan: RenderPlan, preset: PresetConfig) -> RenderPlan | None:
    """The plan of the video L6 makes: a reel's own, a carousel's slides as a 9:16 reel when the preset asks for
    one (pipeline/plan.py reel_of_slides), none for a still."""
    if plan.kind == ContentKind.REEL:
        return plan
    if plan.kind == ContentKind.CAROUSEL and preset.format.carousel_reel:
        return reel_of_slides(plan)
    return None


def help(inputs: LayerInput, ctx: LayerContext) -> int:
    """A helper worker's part of a spread render: render the chunks nobody has claimed yet. Returns how many."""
    plan = video_plan(inputs.plan, inputs.preset)
    if plan is None:
        return 0
    chunks = plan_chunks(plan, ctx.work_dir, encoder_from(ctx.options, inputs.preset),
                         float(ctx.options.get("RENDER_CHUNK_SECONDS") or 0))
    compositor = Compositor(plan, ctx.work_dir)
    return sum(render_chunk(plan, compositor, cache_folder(ctx.work_dir), chunk, shared=ctx.scenes)
               for chunk in chunks)


def render_ahead(inputs: LayerInput, ctx: LayerContext, give_way: Callable[[], bool]) -> int:
    """The speculative render: put the plan's scene chunks in the cache before anyone approves it, so that
    approving it costs only the join. `give_way()` is asked between chunks and every half second of video
    while drawing; when it says so, the chunk in hand is given back and Stopped is raised. Returns chunks
    rendered."""
    plan = video_plan(inputs.plan, inputs.preset)
    if plan is None:
        return 0  # stills take a moment to draw at approval
    encoder = encoder_from(ctx.options, inputs.preset)
    chunks = plan_chunks(plan, ctx.work_dir, encoder, float(ctx.options.get("RENDER_CHUNK_SECONDS") or 0))
    folder = cache_folder(ctx.work_dir)
    compositor = Compositor(plan, ctx.work_dir)
    every = max(1, int(plan.fps / 2))

    def check(done: int) -> None:
        if done % every == 0 and give_way():
            raise Stopped()

    rendered = 0
    for chunk in chunks:
        if give_way():
            raise Stopped()
        rendered += render_chunk(plan, compositor, folder, chunk, progress=check, shared=ctx.scenes)
    if not give_way():
        audio_track(plan, ctx.work_dir, folder, ctx.scenes)
    return rendered
