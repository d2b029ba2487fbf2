"""WAV reading, writing and mixing for narration and music beds (mono, float32 in [-1, 1])."""
from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

from pipeline.errors import AudioGenerationError
from pipeline.files import atomic_write


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    try:
        with wave.open(str(path), "rb") as wav:
            channels, width, rate = wav.getnchannels(), wav.getsampwidth(), wav.getframerate()
            raw = wav.readframes(wav.getnframes())
    except (wave.Error, EOFError, OSError) as exc:
        raise AudioGenerationError(f"{path.name} is not a readable WAV file ({exc})", field=path.name) from exc
    if width != 2:
        raise AudioGenerationError(f"{path.name} has {8 * width}-bit samples; 16-bit PCM is expected",
                                   field=path.name)
    samples = np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1)
    return samples, rate


def pcm16(samples: np.ndarray) -> bytes:
    return (np.clip(samples, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()


def write_wav(path: Path, samples: np.ndarray, rate: int) -> Path:
    def write(tmp: Path) -> None:
        with wave.open(str(tmp), "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(rate)
            wav.writeframes(pcm16(samples))

    return atomic_write(path, write)


def resample(samples: np.ndarray, rate: int, target: int) -> np.ndarray:
    if rate == target or not len(samples):
        return samples
    count = int(round(len(samples) * target / rate))
    return np.interp(np.linspace(0, len(samples) - 1, count), np.arange(len(samples)), samples).astype(np.float32)


def speech_bounds(samples: np.ndarray, rate: int, threshold: float = 0.01, keep_s: float = 0.03) -> tuple[int, int]:
    """The sample range without leading and trailing near-silence, keeping a few milliseconds so words are
    not clipped; (0, 0) for silence."""
    loud = np.flatnonzero(np.abs(samples) > threshold)
    if not len(loud):
        return 0, 0
    keep = int(keep_s * rate)
    return max(0, int(loud[0]) - keep), min(len(samples), int(loud[-1]) + 1 + keep)


def trim_silence(samples: np.ndarray, rate: int, threshold: float = 0.01, keep_s: float = 0.03) -> np.ndarray:
    """Cut leading and trailing near-silence, keeping a few milliseconds so words are not clipped."""
    start, end = speech_bounds(samples, rate, threshold, keep_s)
    return samples[start:end]


def duck(music: np.ndarray, speech: np.ndarray, rate: int, *, under_speech: float, ramp_s: float = 0.15,
         window_s: float = 0.05) -> np.ndarray:
    """The music bed with its level lowered to `under_speech` wherever the narration speaks."""
    window = max(1, int(window_s * rate))
    count = len(speech) // window + 1
    padded = np.zeros(count * window, dtype=np.float32)
    padded[: len(speech)] = np.abs(speech)
    speaking = padded.reshape(count, window).max(axis=1) > 0.02
    gain = np.where(speaking, under_speech, 1.0).astype(np.float32)
    ramp = max(1, int(ramp_s / window_s))
    smooth = np.convolve(np.pad(gain, (ramp, ramp), mode="edge"), np.ones(ramp) / ramp, mode="same")[ramp:-ramp]
    envelope = np.repeat(smooth, window)[: len(music)]
    if len(envelope) < len(music):
        envelope = np.pad(envelope, (0, len(music) - len(envelope)), mode="edge")
    return (music * envelope).astype(np.float32)
