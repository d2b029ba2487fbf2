"""Splitting a render into chunks at scene boundaries, rendering each on its own, joining them without re-encoding.

A chunk is claimed by creating its claim file exclusively in the job's folder, so
the L6 task and the chunk tasks on other workers never render the same chunk;
whoever is free renders the next unclaimed one. Finished chunks are written
atomically. All chunks share the encoder settings, so the concat demuxer can join
them by copying the streams.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from pipeline.contracts import RenderPlan
from pipeline.errors import RenderError
from pipeline.media import ffmpeg
from pipeline.render.compositor import Compositor
from pipeline.render.video import Encoder, encode_frames


@dataclass(frozen=True)
class Chunk:
    index: int
    first: int   # first frame
    count: int   # frames

    @property
    def name(self) -> str:
        return f"chunk_{self.index:03d}.mp4"


def plan_chunks(plan: RenderPlan, seconds: float) -> list[Chunk]:
    """Chunks of about `seconds`, cut only where a scene starts (frame-exact); one chunk when seconds <= 0."""
    total = plan.frame_count
    if seconds <= 0:
        return [Chunk(0, 0, total)]
    cuts = [0]
    for scene in plan.scenes[1:]:
        frame = int(round(scene.start * plan.fps))
        if 0 < frame < total and (frame - cuts[-1]) / plan.fps >= seconds:
            cuts.append(frame)
    cuts.append(total)
    return [Chunk(i, start, end - start) for i, (start, end) in enumerate(zip(cuts, cuts[1:], strict=False))]


CLAIM_STALE_S = 60.0   # a claim not touched for this long belongs to a worker that died
TOUCH_EVERY_S = 2.0


def _claim_path(folder: Path, chunk: Chunk) -> Path:
    return folder / f"{chunk.name}.claim"


def _claim(folder: Path, chunk: Chunk) -> bool:
    try:
        os.close(os.open(_claim_path(folder, chunk), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
    except FileExistsError:
        return False
    return True


def _release_if_stale(folder: Path, chunk: Chunk) -> None:
    claim = _claim_path(folder, chunk)
    try:
        if time.time() - claim.stat().st_mtime > CLAIM_STALE_S:
            claim.unlink(missing_ok=True)
    except FileNotFoundError:
        pass


def render_chunk(plan: RenderPlan, compositor: Compositor, folder: Path, chunk: Chunk, encoder: Encoder,
                 progress=lambda done: None) -> bool:
    """Render `chunk` into `folder` unless someone else has claimed it. True when this call rendered it."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / chunk.name
    if target.exists() or not _claim(folder, chunk):
        return False
    staged = folder / f".{chunk.name}.part.mp4"
    last_touch = time.monotonic()

    def beat(done: int) -> None:
        nonlocal last_touch
        if time.monotonic() - last_touch > TOUCH_EVERY_S:
            os.utime(_claim_path(folder, chunk))
            last_touch = time.monotonic()
        progress(done)

    try:
        encode_frames(plan, compositor, staged, encoder, first=chunk.first, count=chunk.count, progress=beat)
        os.replace(staged, target)
    except BaseException:
        # Give the chunk back so another worker (or a retry) can take it.
        staged.unlink(missing_ok=True)
        (folder / f"{chunk.name}.claim").unlink(missing_ok=True)
        raise
    return True


def render_all(plan: RenderPlan, compositor: Compositor, folder: Path, chunks: list[Chunk], encoder: Encoder,
               progress=lambda fraction: None, wait_timeout_s: float = 3600, poll_s: float = 0.25) -> list[Path]:
    """Render every unclaimed chunk here, then wait for the ones other workers are rendering."""
    total = sum(c.count for c in chunks)
    done_frames = 0
    for chunk in chunks:
        base = done_frames
        render_chunk(plan, compositor, folder, chunk, encoder,
                     progress=lambda n, b=base: progress((b + n) / total))
        done_frames += chunk.count
    deadline = time.monotonic() + wait_timeout_s
    while not all((folder / c.name).exists() for c in chunks):
        for chunk in chunks:
            if not (folder / chunk.name).exists():
                _release_if_stale(folder, chunk)
                render_chunk(plan, compositor, folder, chunk, encoder)
        if time.monotonic() > deadline:
            missing = [c.name for c in chunks if not (folder / c.name).exists()]
            raise RenderError(f"chunks {', '.join(missing)} were not rendered in time", layer="L6", retryable=True)
        time.sleep(poll_s)
    return [folder / c.name for c in chunks]


def join(paths: list[Path], out: Path, *, timeout_s: float = 600) -> None:
    """Join chunk files with the concat demuxer, copying the video stream (no re-encode)."""
    if len(paths) == 1:
        os.replace(paths[0], out)
        return
    listing = out.with_suffix(".txt")
    listing.write_text("".join(f"file '{p.resolve()}'\n" for p in paths))
    ffmpeg.run(["-y", "-f", "concat", "-safe", "0", "-i", listing, "-c", "copy", "-movflags", "+faststart", out],
               what="joining the chunks", layer="L6", timeout=timeout_s)
    listing.unlink(missing_ok=True)
