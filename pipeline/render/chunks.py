"""A video is rendered as chunks cut at scene boundaries, each kept in the job's scene cache under a key.

A chunk's key is a hash of everything its pixels depend on: the scenes and overlay
layers it shows (with their times), the pictures' and fonts' bytes, the size, the
frame range, the encoder settings and the compositor's version. A render reuses
every chunk whose key is already in the cache and renders only the others, so a
plan rendered ahead of approval (the speculative render) or a plan with one scene
changed costs only what changed. All chunks share the encoder settings and start
on a keyframe, so the concat demuxer joins them by copying the streams.

A chunk is claimed by creating its claim file exclusively in the cache folder, so
the L6 task, helper tasks and the speculative render never render the same chunk;
whoever is free renders the next unclaimed one. A chunk's packets are hashed when
it is made and the hashes kept beside it, so a file joined from chunks is checked
byte for byte against them.

Workers that share no disk (job files in an object store) meet through a
SharedScenes as well: a chunk is claimed there too, published when made, and
fetched by whoever needs it.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Protocol

from pipeline.contracts import RenderPlan
from pipeline.contracts.plan import CaptionLayer, ImageLayer
from pipeline.errors import RenderError
from pipeline.files import atomic_write_bytes, sha256_file
from pipeline.log_context import ContextThreadPool
from pipeline.media import ffmpeg
from pipeline.render.compositor import Compositor, scene_at
from pipeline.render.profiles import AUDIO_ARGS, Encoder
from pipeline.render.video import encode_frames, mix_audio
from pipeline.text import font_path

# Part of every key: change it whenever the compositor would draw any pixel differently, so that chunks
# drawn by the old code are never joined with the new.
# 2: BT.709 planes, the social encoding profile (pipeline/render/video.py): chunks made before are not reused.
COMPOSITOR_VERSION = "2"
CHUNKS_AT_ONCE = 3  # chunks a render draws and encodes at once
# A claim not touched for this long belongs to a worker that died. Its chunk's worker touches it every
# TOUCH_EVERY_S while drawing; the longest untouched stretch is the encoder's drain and the chunk's read-back,
# a second or two. A killed worker's chunk waits this long before another takes it.
CLAIM_STALE_S = 15.0
TOUCH_EVERY_S = 2.0


class SharedScenes(Protocol):
    """The job's scene cache where workers on machines with no disk in common meet (jobs/files.py)."""

    def claim(self, name: str) -> bool: ...      # exclusive; a claim older than CLAIM_STALE_S is taken over
    def touch(self, name: str) -> None: ...      # the claim's worker is still at it
    def release(self, name: str) -> None: ...
    def put(self, path: Path) -> None: ...       # publish a finished file under its name
    def get(self, name: str, dest: Path) -> bool: ...  # fetch a published file; False when there is none


class Stopped(Exception):
    """The caller asked a render to stop between frames (the speculative render gives way)."""


@dataclass(frozen=True)
class Chunk:
    index: int
    first: int   # first frame
    count: int   # frames
    key: str
    encoder: Encoder

    @property
    def name(self) -> str:
        return f"{self.key}.mp4"

    @property
    def record_name(self) -> str:
        return f"{self.key}.json"


def cache_folder(work_dir: Path) -> Path:
    """The job's scene cache: chunks of every plan rendered or rendered ahead for it, shared by its workers."""
    return Path(work_dir) / "L6" / "scenes"


@functools.lru_cache(maxsize=256)
def _file_digest(path: str, mtime_ns: int, size: int) -> str:
    return sha256_file(Path(path))


def _digest(path: Path) -> str:
    """The sha256 of a picture or font, computed once per version of the file."""
    try:
        stat = path.stat()
    except OSError as exc:
        raise RenderError(f"{path.name} is missing", layer="L6", field=path.name) from exc
    return _file_digest(str(path), stat.st_mtime_ns, stat.st_size)


def chunk_key(plan: RenderPlan, first: int, count: int, base_dir: Path, encoder: Encoder) -> str:
    """A hash of everything the pixels of frames [first, first + count) depend on."""
    start, end = first / plan.fps, (first + count) / plan.fps
    shown = {scene_at(plan, index / plan.fps).id for index in range(first, first + count)}
    # A scene that comes in with a transition shows the one before it, held, in its first moments.
    shown |= {before.id for before, scene in zip(plan.scenes, plan.scenes[1:], strict=False)
              if scene.id in shown and scene.transition is not None}
    scenes = [scene for scene in plan.scenes if scene.id in shown]
    overlay = []
    for layer in plan.overlay:
        if layer.start >= end or layer.end <= start:
            continue
        if isinstance(layer, CaptionLayer):
            groups = [group for group in layer.groups if group.start < end and group.end > start]
            layer = layer.model_copy(update={"groups": groups})
        overlay.append(layer)
    layers = [*(layer for scene in scenes for layer in scene.layers), *overlay]
    pictures = {scene.background.asset for scene in scenes if scene.background.asset}
    pictures |= {layer.asset for layer in layers if isinstance(layer, ImageLayer)}
    families = {layer.font for layer in layers if hasattr(layer, "font")}
    described = {
        "compositor": COMPOSITOR_VERSION, "size": [plan.width, plan.height, *filter(None, [plan.slide_height])],
        "fps": plan.fps,
        "frames": [first, count], "encoder": asdict(encoder),
        "scenes": [scene.model_dump(mode="json") for scene in scenes],
        "overlay": [layer.model_dump(mode="json") for layer in overlay],
        "pictures": {name: _digest(Path(base_dir) / name) for name in sorted(pictures)},
        "fonts": {family: [plan.font(family).model_dump(mode="json"), _digest(font_path(plan.font(family).file))]
                  for family in sorted(families)},
    }
    return hashlib.sha256(json.dumps(described, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:32]


def plan_chunks(plan: RenderPlan, base_dir: Path, encoder: Encoder, seconds: float = 0.0) -> list[Chunk]:
    """One chunk per scene, or with `seconds` > 0 chunks of at least that long, cut only where a scene
    starts (frame-exact)."""
    total = plan.frame_count
    cuts = [0]
    for scene in plan.scenes[1:]:
        # The scene's first frame: the first whose time is not before its start (what scene_at shows), so that
        # a chunk holds only its own scenes and a change to one scene changes one chunk.
        frame = int(round(scene.start * plan.fps))
        if frame / plan.fps < scene.start:
            frame += 1
        if 0 < frame < total and frame > cuts[-1] and (frame - cuts[-1]) / plan.fps >= seconds:
            cuts.append(frame)
    cuts.append(total)
    if len(cuts) > 2 and not encoder.threads:
        # Several chunks run side by side (CHUNKS_AT_ONCE), each encoder on one thread: x264 spends less per
        # frame on one thread than on several, and the chunks keep the cores busy. A lone chunk gets them all.
        encoder = replace(encoder, threads=1)
    return [Chunk(index, begin, end - begin, chunk_key(plan, begin, end - begin, base_dir, encoder), encoder)
            for index, (begin, end) in enumerate(zip(cuts, cuts[1:], strict=False))]


def _claim_path(folder: Path, chunk: Chunk) -> Path:
    return folder / f"{chunk.name}.claim"


def _claim(folder: Path, chunk: Chunk, shared: SharedScenes | None) -> bool:
    try:
        os.close(os.open(_claim_path(folder, chunk), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
    except FileExistsError:
        return False
    if shared is not None and not shared.claim(chunk.name):
        _claim_path(folder, chunk).unlink(missing_ok=True)
        return False
    return True


def _release(folder: Path, chunk: Chunk, shared: SharedScenes | None) -> None:
    _claim_path(folder, chunk).unlink(missing_ok=True)
    if shared is not None:
        shared.release(chunk.name)


def _release_if_stale(folder: Path, chunk: Chunk) -> None:
    claim = _claim_path(folder, chunk)
    try:
        if time.time() - claim.stat().st_mtime > CLAIM_STALE_S:
            claim.unlink(missing_ok=True)
    except FileNotFoundError:
        pass


def is_cached(folder: Path, chunk: Chunk, shared: SharedScenes | None = None) -> bool:
    """The chunk and its record are in the local cache, fetched from `shared` when another machine made them."""
    if (folder / chunk.name).exists() and (folder / chunk.record_name).exists():
        return True
    if shared is None:
        return False
    # The record is published after its chunk: with the record there, the chunk is too. Each fetch has its own
    # temporary name: two workers of one folder fetching the same record at once shared one, and the second's
    # rename found it gone (FileNotFoundError, seen in CI).
    fetched = folder / f".{chunk.record_name}.{os.getpid()}.{threading.get_ident()}.fetched"
    if not shared.get(chunk.record_name, fetched):
        return False
    if not shared.get(chunk.name, folder / chunk.name):
        fetched.unlink(missing_ok=True)
        return False
    os.replace(fetched, folder / chunk.record_name)
    return True


def render_chunk(plan: RenderPlan, compositor: Compositor, folder: Path, chunk: Chunk,
                 progress: Callable[[int], None] = lambda done: None, shared: SharedScenes | None = None) -> bool:
    """Render `chunk` into the cache unless it is there or someone else has claimed it. True when this call
    rendered it. `progress` may raise Stopped to give the chunk back between frames."""
    folder.mkdir(parents=True, exist_ok=True)
    if is_cached(folder, chunk, shared) or not _claim(folder, chunk, shared):
        return False
    staged = folder / f".{chunk.key}.part.mp4"
    last_touch = time.monotonic()

    def beat(done: int) -> None:
        nonlocal last_touch
        if time.monotonic() - last_touch > TOUCH_EVERY_S:
            os.utime(_claim_path(folder, chunk))
            if shared is not None:
                shared.touch(chunk.name)
            last_touch = time.monotonic()
        progress(done)

    try:
        encode_frames(plan, compositor, staged, chunk.encoder, first=chunk.first, count=chunk.count, progress=beat)
        # The encoder exited cleanly; its file is read back packet by packet (every byte, no decode: decoding
        # would cost a third as much as encoding) and must hold exactly this chunk's frames. The hashes kept
        # here are what any file joined from this chunk is compared with.
        info = ffmpeg.read_back(staged, decode_video=False, packets=True)
        if info.errors or info.frames != chunk.count or (info.width, info.height) != (plan.width, plan.height):
            raise RenderError(f"scene chunk {chunk.index + 1} failed its read-back: {info.frames} frames of "
                              f"{chunk.count} at {info.width}x{info.height}, "
                              f"{'; '.join(info.errors[:3]) or 'no errors'}", layer="L6", retryable=True)
        packets = info.packets
        # `made_by` says which machine and folder drew it (with object storage, chunks come from anywhere).
        atomic_write_bytes(folder / chunk.record_name, json.dumps(
            {"frames": chunk.count, "sha256": sha256_file(staged), "packets": packets,
             "made_by": f"{socket.gethostname()}:{folder.resolve()}"}).encode())
        os.replace(staged, folder / chunk.name)
        if shared is not None:
            shared.put(folder / chunk.name)
            shared.put(folder / chunk.record_name)
    except BaseException:
        # Give the chunk back so another worker (or a retry) can take it.
        staged.unlink(missing_ok=True)
        _release(folder, chunk, shared)
        raise
    _release(folder, chunk, shared)
    return True


def cached_packets(folder: Path, chunk: Chunk) -> list[str] | None:
    """The recorded packets of a cached chunk, if the file is still the one recorded; a chunk changed on disk
    is dropped from the cache (and so rendered again)."""
    try:
        record = json.loads((folder / chunk.record_name).read_text())
        if sha256_file(folder / chunk.name) == record["sha256"] and len(record["packets"]) == chunk.count:
            return record["packets"]
    except (OSError, ValueError, KeyError, TypeError):
        pass
    (folder / chunk.name).unlink(missing_ok=True)
    (folder / chunk.record_name).unlink(missing_ok=True)
    return None


def render_all(plan: RenderPlan, compositor: Compositor, folder: Path, chunks: list[Chunk],
               progress: Callable[[float], None] = lambda fraction: None, wait_timeout_s: float = 3600,
               poll_s: float = 0.25, shared: SharedScenes | None = None) -> tuple[list[str], int]:
    """Render every chunk that is neither cached nor claimed and wait for the ones others are rendering.
    Returns the video packets the joined file must hold, and how many chunks had to be rendered."""
    total = sum(c.count for c in chunks)
    if shared is not None:
        poll_s = max(poll_s, 1.0)  # each look at a chunk made elsewhere is a request to the store
    deadline = time.monotonic() + wait_timeout_s
    fresh = {chunk.key for chunk in chunks if not is_cached(folder, chunk, shared)}
    drawn = {chunk.index: 0 for chunk in chunks}

    def one(chunk: Chunk) -> None:
        if not is_cached(folder, chunk, shared):
            _release_if_stale(folder, chunk)

            def counted(done: int) -> None:
                drawn[chunk.index] = done
                progress(sum(drawn.values()) / total)

            render_chunk(plan, compositor, folder, chunk, progress=counted, shared=shared)
        drawn[chunk.index] = chunk.count

    while True:
        # Chunks side by side: while one encoder ramps up or drains its lookahead, the others keep the cores
        # busy (three one-thread encoders on two cores came out fastest on the benchmark).
        with ContextThreadPool(max_workers=CHUNKS_AT_ONCE, thread_name_prefix="l6-chunk") as pool:
            for future in [pool.submit(one, chunk) for chunk in chunks]:
                future.result()
        if all(is_cached(folder, chunk, shared) for chunk in chunks):
            recorded = [cached_packets(folder, chunk) for chunk in chunks]
            if all(packets is not None for packets in recorded):
                return [packet for packets in recorded for packet in packets], len(fresh)
            fresh |= {chunk.key for chunk, packets in zip(chunks, recorded, strict=True) if packets is None}
            continue  # a cached chunk had changed on disk: it was dropped, render it again
        if time.monotonic() > deadline:
            missing = [str(c.index + 1) for c in chunks if not is_cached(folder, c)]
            raise RenderError(f"scene chunks {', '.join(missing)} were not rendered in time", layer="L6",
                              retryable=True)
        time.sleep(poll_s)


def join(folder: Path, chunks: list[Chunk], out: Path, *, timeout_s: float = 600) -> None:
    """Join cached chunks with the concat demuxer, copying the video stream (no re-encode)."""
    listing = out.with_suffix(".txt")
    listing.write_text("".join(f"file '{(folder / c.name).resolve()}'\n" for c in chunks))
    try:
        # auto_convert off: the packets are copied as the chunks store them (no parameter sets written into
        # keyframes), so the joined file can be compared with the chunks byte for byte.
        ffmpeg.run(["-y", "-auto_convert", "0", "-f", "concat", "-safe", "0", "-i", listing, "-c", "copy", "-f", "mp4",
                    out],
                   what="joining the scene chunks", layer="L6", timeout=timeout_s)
    finally:
        listing.unlink(missing_ok=True)


def audio_track(plan: RenderPlan, base_dir: Path, folder: Path, shared: SharedScenes | None = None) -> Path | None:
    """The plan's mixed audio, from the cache or mixed now (keyed by the tracks' bytes, gains, offsets and the
    length). None when the plan has no sound."""
    if not plan.audio:
        return None
    described = {"tracks": [[_digest(Path(base_dir) / track.file), track.gain, track.start] for track in plan.audio],
                 "frames": plan.frame_count, "fps": plan.fps, "loudness": plan.loudness_lufs,
                 "codec": " ".join(AUDIO_ARGS)}
    key = hashlib.sha256(json.dumps(described, sort_keys=True).encode()).hexdigest()[:32]
    path = folder / f"audio-{key}.m4a"
    if not path.exists() and not (shared is not None and shared.get(path.name, path)):
        folder.mkdir(parents=True, exist_ok=True)
        staged = folder / f".audio-{key}.{os.getpid()}.part.m4a"
        try:
            mix_audio(plan, Path(base_dir), staged)
            os.replace(staged, path)  # two workers mixing at once write the same bytes
        finally:
            staged.unlink(missing_ok=True)
        if shared is not None:
            shared.put(path)
    return path


def prune(folder: Path, keep: list[Path]) -> None:
    """Drop cached chunks and mixes this job will not use again (the plan it rendered keeps its own)."""
    wanted = {path.name for path in keep} | {path.with_suffix(".json").name for path in keep}
    for path in folder.glob("*"):
        if path.name in wanted or path.name.endswith(".claim") or path.name.startswith("."):
            continue
        path.unlink(missing_ok=True)
