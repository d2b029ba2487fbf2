"""Every FFmpeg call goes through here: the binary imageio-ffmpeg ships, a timeout, stderr kept.

`BINARY` can be pointed elsewhere (settings.FFMPEG_BINARY, or tests with a fake FFmpeg).
"""
from __future__ import annotations

import functools
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pipeline import proc
from pipeline.errors import FFmpegError

BINARY: str | None = None
DEFAULT_TIMEOUT_S = 600


@functools.cache
def _shipped() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def binary() -> str:
    return BINARY or _shipped()


def configure(path: str | None) -> None:
    global BINARY
    BINARY = path or None


def _error(layer: str):
    def make(message: str, stderr: str = "", retryable: bool = False) -> FFmpegError:
        return FFmpegError(message, stderr=stderr, layer=layer, provider="ffmpeg", retryable=retryable)

    return make


def run(args: list, *, what: str = "ffmpeg", layer: str = "L6", timeout: float = DEFAULT_TIMEOUT_S,
        input: bytes | None = None, capture_stdout: bool = False,
        keep_stderr: int = proc.STDERR_KEEP) -> proc.Completed:
    return proc.run([binary(), "-hide_banner", "-nostdin", *args], timeout=timeout, what=what,
                    error=_error(layer), input=input, capture_stdout=capture_stdout, keep_stderr=keep_stderr)


def popen_writer(args: list) -> subprocess.Popen:
    """An FFmpeg that reads raw frames on stdin (L6's encoder). The caller must close and reap it."""
    return subprocess.Popen([binary(), "-hide_banner", "-loglevel", "error", *args],
                            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)


def decode_audio(path: Path, *, rate: int, layer: str = "L4", timeout: float = 120) -> np.ndarray:
    """Any audio file FFmpeg reads, as mono float32 at `rate`."""
    done = run(["-i", path, "-vn", "-ac", "1", "-ar", rate, "-f", "s16le", "-"], what=f"decoding {Path(path).name}",
               layer=layer, timeout=timeout, capture_stdout=True)
    return np.frombuffer(done.stdout, dtype="<i2").astype(np.float32) / 32768.0


@dataclass
class MediaInfo:
    duration: float | None = None
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    video_codec: str | None = None
    pix_fmt: str | None = None
    audio_codec: str | None = None
    audio_rate: int | None = None
    audio_layout: str | None = None
    frames: int | None = None
    errors: list[str] = field(default_factory=list)
    # The MD5 of every video packet, in order, as stored in the file (with `read_back(..., packets=True)`).
    packets: list[str] | None = None


_DURATION = re.compile(r"Duration: (\d+):(\d+):(\d+(?:\.\d+)?)")
_VIDEO = re.compile(r"Stream #\S+.*?: Video: (\w+)[^,]*,\s*(\w+)[^,]*(?:\([^)]*\))?.*?, (\d{2,5})x(\d{2,5})")
_FPS = re.compile(r"(\d+(?:\.\d+)?) fps")
_AUDIO = re.compile(r"Stream #\S+.*?: Audio: (\w+)[^,]*, (\d+) Hz, ([\w.()]+)")
_FRAME = re.compile(r"frame=\s*(\d+)")
READ_BACK_STDERR = 1_000_000


def read_back(path: Path, *, layer: str = "L6", timeout: float = 300, decode_video: bool = True,
              packets: bool = False) -> MediaInfo:
    """Read the whole file once: its streams, size, codecs, duration, frame count and any decode errors.

    The audio is always decoded. The video is decoded unless `decode_video` is off; with `packets`, every
    video packet's bytes are hashed as they are stored (L6 checks a video joined from scene chunks that way,
    every byte against the chunks', instead of decoding every frame).
    """
    # One progress line, the last (its frame count is the figure): a progress line every half second would
    # push the streams' description out of the stderr tail that is kept, on a slow machine or a long file.
    args = ["-v", "info", "-stats", "-stats_period", "86400", "-i", path]
    args += ["-map", "0:v:0?", "-map", "0:a:0?"] if decode_video else ["-map", "0:a:0?"]
    args += ["-f", "null", "-"]
    if packets:
        args += ["-map", "0:v:0", "-c", "copy", "-f", "framemd5", "pipe:1"]
    # All of the error output: the streams are described at its start, however long the rest is.
    done = run(args, what=f"reading back {Path(path).name}", layer=layer, timeout=timeout,
               capture_stdout=packets, keep_stderr=READ_BACK_STDERR)
    text = done.stderr
    info = MediaInfo()
    # The file's own streams, not the decoded ones FFmpeg describes for its null output.
    described = text.split("Output #0")[0]
    if match := _DURATION.search(described):
        hours, minutes, seconds = match.groups()
        info.duration = int(hours) * 3600 + int(minutes) * 60 + float(seconds)
    for line in described.splitlines():
        if (match := _VIDEO.search(line)) and info.video_codec is None:
            info.video_codec, info.pix_fmt = match.group(1), match.group(2)
            info.width, info.height = int(match.group(3)), int(match.group(4))
            if fps := _FPS.search(line):
                info.fps = float(fps.group(1))
        if (match := _AUDIO.search(line)) and info.audio_codec is None:
            info.audio_codec, info.audio_rate, info.audio_layout = match.group(1), int(match.group(2)), match.group(3)
    info.errors = [line.strip() for line in text.splitlines() if "error" in line.lower() and "Stream" not in line]
    if packets:
        # framemd5 lines: stream, dts, pts, duration, size, hash[, side data]
        info.packets = [line.split(",")[5].strip() for line in done.stdout.decode("ascii", "replace").splitlines()
                        if line and not line.startswith("#")]
    if decode_video:
        frames = _FRAME.findall(text)
        info.frames = int(frames[-1]) if frames else None
    else:
        info.frames = len(info.packets or [])
    return info


def decode_frame(path: Path, index: int, fps: float, size: tuple[int, int], *, layer: str = "L6") -> np.ndarray:
    """Frame number `index` of a video as RGB (height, width, 3), decoded exactly (not the nearest keyframe)."""
    width, height = size
    # As an HD player decodes it: BT.709 limited range (what L6 writes and tags; pipeline/render/video.py).
    done = run(["-i", path, "-vf", f"select=eq(n\\,{int(index)}),scale=in_color_matrix=bt709:in_range=tv,format=rgb24",
                "-fps_mode", "passthrough", "-frames:v", "1",
                "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], what=f"decoding frame {index} of {Path(path).name}",
               layer=layer, timeout=120, capture_stdout=True)
    expected = width * height * 3
    if len(done.stdout) < expected:
        raise FFmpegError(f"{Path(path).name} has no frame {index}", layer=layer, provider="ffmpeg")
    return np.frombuffer(done.stdout[:expected], dtype=np.uint8).reshape(height, width, 3)
