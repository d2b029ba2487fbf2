"""Encoding a plan's frames to H.264 and muxing its audio, each step through pipeline.media.ffmpeg.

Frames are made in a worker thread while the main thread feeds the previous one
to FFmpeg, so drawing and encoding overlap on the two cores.
"""
from __future__ import annotations

import fcntl
import json
import logging
import math
import re
import subprocess
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path

import cv2

from pipeline.contracts import RenderPlan
from pipeline.errors import FFmpegError, RenderError
from pipeline.log_context import ContextThreadPool
from pipeline.media import ffmpeg
from pipeline.proc import REAP_TIMEOUT_S, STDERR_KEEP, kill_group
from pipeline.render.compositor import Compositor
from pipeline.render.profiles import (
    AUDIO_ARGS,
    COLOUR_ARGS,
    CONTAINER_ARGS,
    KEYFRAME_S,
    MAX_B_FRAMES,
    Encoder,
    bitrate_problem,
)

logger = logging.getLogger("pipeline.render")
AHEAD = 3  # frames drawn ahead of the encoder
PIPE_BYTES = 8 * 1024 * 1024
F_SETPIPE_SZ = 1031  # fcntl's name for it (Linux)


def _widen_pipe(stream) -> None:
    """A pipe that holds whole frames: fewer switches between us and the encoder per frame."""
    try:
        fcntl.fcntl(stream.fileno(), F_SETPIPE_SZ, PIPE_BYTES)
    except OSError as exc:
        # Not Linux, or above the system's pipe-max-size: the default pipe works, a little slower.
        logger.debug("could not widen the encoder pipe: %s", exc)


def loudness(path: Path, *, timeout_s: float = 300) -> tuple[float, float]:
    """(integrated LUFS, true peak dBTP) of a file's audio, by FFmpeg's EBU R128 meter, as the platforms
    measure it."""
    done = ffmpeg.run(["-i", str(path), "-map", "0:a:0", "-af", "ebur128=peak=true", "-f", "null", "-"],
                      what=f"measuring the loudness of {path.name}", layer="L6", timeout=timeout_s)
    summary = done.stderr[done.stderr.rfind("Summary:"):]
    integrated = re.search(r"I:\s+(-?[\d.]+|-inf) LUFS", summary)
    peak = re.search(r"Peak:\s+(-?[\d.]+|-inf) dBFS", summary)
    if integrated is None or peak is None:
        raise RenderError(f"FFmpeg's loudness meter gave no summary for {path.name}", layer="L6", field=path.name)
    return float(integrated.group(1)), float(peak.group(1))


# How far the file may be from the plan's loudness (the mix is normalised to it; AAC adds a little).
LOUDNESS_TOLERANCE_LU = 1.0


def profile_problems(path: Path, plan: RenderPlan, encoder: Encoder | None = None) -> list[str]:
    """What in the file breaks the profile above, in words (empty: a platform takes it as made), read from the
    file's own boxes (pipeline/media/mp4.py)."""
    from pipeline.media import mp4

    problems = []
    found = mp4.tracks(path)
    video = next((t for t in found if t.handler == "vide"), None)
    if video is None:
        return ["no video track"]
    for track in found:
        if track.edit_list:
            problems.append(f"the {track.handler} track has an edit list")
    if video.colour != ("bt709", "bt709", "bt709", False):
        problems.append(f"the colour box says {video.colour}, expected BT.709 limited range")
    keyframes = video.keyframes or list(range(1, video.samples + 1))
    gaps = [b - a for a, b in zip([*keyframes, video.samples + 1], [*keyframes[1:], video.samples + 1],
                                  strict=False)]
    if keyframes[0] != 1 or max(gaps, default=0) > KEYFRAME_S * plan.fps:
        problems.append(f"keyframes {max(gaps, default=0) / plan.fps:.1f} s apart, at most {KEYFRAME_S} s")
    if len({delta for _, delta in video.durations}) > 1:
        problems.append(f"frame durations change ({sorted({d for _, d in video.durations})} in 1/"
                        f"{video.timescale} s)")
    if plan.audio:
        integrated, peak = loudness(path)
        if integrated > SILENT_LUFS and (abs(integrated - plan.loudness_lufs) > LOUDNESS_TOLERANCE_LU
                                         or peak > TRUE_PEAK_DBTP):
            problems.append(f"the sound is {integrated:.1f} LUFS with a true peak of {peak:.1f} dBTP; expected "
                            f"{plan.loudness_lufs:g} LUFS and at most {TRUE_PEAK_DBTP:g} dBTP")
    if encoder is not None:
        problem = bitrate_problem(video.bitrate / 1000, video.seconds, encoder, plan.width, plan.height, plan.fps)
        problems += [problem] if problem else []
    options = mp4.x264_options(path)
    if options.get("bframes", 0) > MAX_B_FRAMES or options.get("open_gop", 0):
        problems.append(f"x264 ran with {options}: at most {MAX_B_FRAMES} B-frames, closed GOPs")
    return problems


def encode_frames(plan: RenderPlan, compositor: Compositor, out: Path, encoder: Encoder, *, first: int = 0,
                  count: int | None = None, progress: Callable[[int], None] = lambda done: None,
                  timeout_s: float = 3600) -> int:
    """Encode frames [first, first + count) of the plan, video only, into `out`. Returns the frames written.
    The audio is mixed in once, when the chunks are joined (`mux`)."""
    total = plan.frame_count if count is None else count
    width, height = plan.width, plan.height
    # The frames are BT.709 already, and say so: left unspecified, FFmpeg would take them for BT.601 and
    # convert them on their way to the BT.709 the encoder is told to write.
    process = ffmpeg.popen_writer(["-y", "-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", f"{width}x{height}",
                                   "-r", str(plan.fps), *COLOUR_ARGS, "-i", "-", "-an",
                                   *encoder.video_args(width, height, plan.fps),
                                   "-t", f"{total / plan.fps:.6f}", *CONTAINER_ARGS, "-f", "mp4",
                                   str(out)])
    _widen_pipe(process.stdin)
    # A hung encoder stops reading, which would block the write below for ever: past the deadline the
    # encoder is killed, the write fails, and the failure says why.
    timed_out = threading.Event()

    def give_up() -> None:
        timed_out.set()
        kill_group(process)

    deadline = threading.Timer(timeout_s, give_up)
    deadline.daemon = True
    deadline.start()
    # The encoder's error output is read all along (keeping its tail): an encoder that writes a lot of it
    # would otherwise fill the pipe, stop, stop reading frames, and hang the render.
    tail = bytearray()

    def drain() -> None:
        for chunk in iter(lambda: process.stderr.read(65536), b""):
            tail.extend(chunk)
            del tail[:-STDERR_KEEP]

    reader = threading.Thread(target=drain, name="l6-encoder-stderr", daemon=True)
    reader.start()
    written = 0
    # x264 already keeps both cores busy: one OpenCV thread drawing beside it wastes least on switching.
    cv2.setNumThreads(1)
    pool = ContextThreadPool(max_workers=1, thread_name_prefix="l6-draw")
    in_flight: deque[Future] = deque()
    try:
        # A frame is drawn in the pool while the one before it is piped to the encoder.
        for index in range(first, first + total):
            in_flight.append(pool.submit(lambda i=index: compositor.frame_yuv420(i / plan.fps)))
            if len(in_flight) < AHEAD:
                continue
            process.stdin.write(in_flight.popleft().result())
            written += 1
            progress(written)
        while in_flight:
            process.stdin.write(in_flight.popleft().result())
            written += 1
            progress(written)
        process.stdin.close()  # end of frames
        try:
            process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired as exc:
            raise FFmpegError(f"the encoder did not finish within {timeout_s:.0f} s and was stopped", layer="L6",
                              provider="ffmpeg", retryable=True) from exc
        reader.join(timeout=10)
        stderr = tail.decode("utf-8", "replace")
        if timed_out.is_set():
            raise FFmpegError(f"the encoder did not finish within {timeout_s:.0f} s and was stopped", layer="L6",
                              provider="ffmpeg", retryable=True, stderr=stderr)
        if process.returncode != 0:
            raise FFmpegError(f"the encoder failed (exit code {process.returncode}): {stderr.strip()[-400:]}",
                              stderr=stderr, layer="L6", provider="ffmpeg")
    except BrokenPipeError as exc:
        process.wait(timeout=REAP_TIMEOUT_S)  # it stopped reading: it has exited or is being killed
        reader.join(timeout=10)
        stderr = tail.decode("utf-8", "replace")
        if timed_out.is_set():
            raise FFmpegError(f"the encoder did not finish within {timeout_s:.0f} s and was stopped", layer="L6",
                              provider="ffmpeg", retryable=True, stderr=stderr) from exc
        raise FFmpegError(f"the encoder stopped reading frames: {stderr.strip()[-400:] or 'no error output'}",
                          stderr=stderr, layer="L6", provider="ffmpeg") from exc
    finally:
        deadline.cancel()
        for future in in_flight:
            future.cancel()
        pool.shutdown(wait=True, cancel_futures=True)
        if process.poll() is None:
            kill_group(process)
        reader.join(timeout=10)
        for stream in (process.stdin, process.stderr):
            if stream and not stream.closed:
                try:
                    stream.close()
                except BrokenPipeError:
                    pass
    return written


TRUE_PEAK_DBTP = -1.0
# loudnorm limits the PCM's true peak to this; AAC encoding overshoots it by a few tenths of a dB (measured: -1
# became -0.6 on the hype reel), so the mix leaves a dB of room for the encoder and the file stays under -1.
MIX_PEAK_DBTP = -2.0
PEAK_MARGIN_DB = 0.15  # how close to -1 dBTP an encoded mix may come before it is encoded again quieter
PEAK_ENCODES = 4
LOUDNESS_RANGE_LU = 11.0
SILENT_LUFS = -70.0  # EBU R128's absolute gate: a mix quieter than this has nothing to normalise


def _measure_loudness(inputs: list[str], graph: str, plan: RenderPlan, timeout_s: float) -> dict | None:
    """loudnorm's first pass over the mix: its integrated loudness, true peak, range and threshold."""
    target = f"I={plan.loudness_lufs}:TP={MIX_PEAK_DBTP}:LRA={LOUDNESS_RANGE_LU}"
    done = ffmpeg.run(["-y", *inputs, "-filter_complex", f"{graph};[mixed]loudnorm={target}:print_format=json[aout]",
                       "-map", "[aout]", "-t", f"{plan.frame_count / plan.fps:.6f}", "-f", "null", "-"],
                      what="measuring the mix's loudness", layer="L6", timeout=timeout_s)
    start = done.stderr.rfind("{")
    try:
        measured = json.loads(done.stderr[start:done.stderr.rfind("}") + 1])
        level = float(measured["input_i"])
    except (ValueError, KeyError) as exc:
        raise RenderError(f"FFmpeg's loudness measure could not be read ({exc})", layer="L6",
                          field="audio") from exc
    return None if not math.isfinite(level) or level < SILENT_LUFS else measured


def mix_audio(plan: RenderPlan, base_dir: Path, out: Path, *, timeout_s: float = 600) -> None:
    """The plan's audio tracks mixed (gains, start offsets), normalised to the plan's loudness with a true peak of
    at most -1 dBTP (loudnorm in two passes: measured, then a linear gain to the target), and encoded to stereo
    AAC at 48 kHz, exactly the video's length. Encoding the narration is the slow part of joining a video (about
    40 ms per second of sound), so it is done once per mix and kept with the scene chunks."""
    inputs, filters, labels = [], [], []
    for index, track in enumerate(plan.audio):
        path = base_dir / track.file
        if not path.is_file():
            raise RenderError(f"audio track {track.file} is missing", layer="L6", field=track.file)
        inputs += ["-i", str(path)]
        delay = int(round(track.start * 1000))
        filters.append(f"[{index}:a]aresample=48000,volume={track.gain:.4f},adelay={delay}:all=1[a{index}]")
        labels.append(f"[a{index}]")
    graph = ";".join([*filters, f"{''.join(labels)}amix=inputs={len(labels)}:normalize=0:duration=longest,"
                                f"aformat=channel_layouts=stereo[mixed]"])
    measured = _measure_loudness(inputs, graph, plan, timeout_s)

    def encode(peak_dbtp: float) -> None:
        level = "anull" if measured is None else (
            f"loudnorm=I={plan.loudness_lufs}:TP={peak_dbtp:.2f}:LRA={LOUDNESS_RANGE_LU}:linear=true:"
            f"measured_I={measured['input_i']}:measured_TP={measured['input_tp']}:"
            f"measured_LRA={measured['input_lra']}:measured_thresh={measured['input_thresh']}:"
            f"offset={measured['target_offset']}")
        ffmpeg.run(["-y", *inputs, "-filter_complex", f"{graph};[mixed]{level},aresample=48000,apad[aout]",
                    "-map", "[aout]", *AUDIO_ARGS, "-t", f"{plan.frame_count / plan.fps:.6f}", "-f", "mp4",
                    str(out)], what="mixing the audio", layer="L6", timeout=timeout_s)

    encode(MIX_PEAK_DBTP)
    if measured is None:
        return
    # AAC can overshoot the PCM's true peak by more than the room left for it when the mix is bright (a music
    # bed's hats and risers): measured as the platforms measure it, such a file is encoded once more with
    # loudnorm holding the peaks that much lower (its limiter, not a lower level), so it keeps -1 dBTP and the
    # loudness.
    # Measured again after each encode: one correction is not always enough (a chunked render by two clusters
    # came out at -0.9 dBTP after its second encode), so up to PEAK_ENCODES in all, each lowering the limiter by
    # the overshoot the last one measured; the read-back refuses a file that still does not hold.
    limit = MIX_PEAK_DBTP
    for _ in range(PEAK_ENCODES - 1):
        _, peak = loudness(out, timeout_s=timeout_s)
        if peak <= TRUE_PEAK_DBTP - PEAK_MARGIN_DB:
            return
        limit -= peak - (TRUE_PEAK_DBTP - 2 * PEAK_MARGIN_DB)
        encode(limit)


def mux(plan: RenderPlan, video: Path, audio: Path | None, out: Path, *, timeout_s: float = 600) -> None:
    """The video joined from its chunks and the mixed audio in one file, both streams copied."""
    inputs = ["-i", str(audio), "-map", "0:v:0", "-map", "1:a:0"] if audio else ["-map", "0:v:0"]
    ffmpeg.run(["-y", "-i", str(video), *inputs, "-c", "copy", "-t", f"{plan.frame_count / plan.fps:.6f}",
                *CONTAINER_ARGS, "-f", "mp4", str(out)], what="muxing the audio", layer="L6", timeout=timeout_s)
