"""WAV reading, writing and mixing for narration (mono) and music beds (mono or stereo), float32 in [-1, 1]."""
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
    """Mono samples (n,) or interleaved channels (n, channels) as 16-bit PCM."""
    def write(tmp: Path) -> None:
        with wave.open(str(tmp), "wb") as wav:
            wav.setnchannels(1 if samples.ndim == 1 else samples.shape[1])
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
         window_s: float = 0.05, music_rate: int | None = None) -> np.ndarray:
    """The music bed (mono, or stereo (n, 2) at `music_rate`) with its level lowered to `under_speech` wherever
    the narration (at `rate`) speaks."""
    window = max(1, int(window_s * rate))
    count = len(speech) // window + 1
    padded = np.zeros(count * window, dtype=np.float32)
    padded[: len(speech)] = np.abs(speech)
    speaking = padded.reshape(count, window).max(axis=1) > 0.02
    gain = np.where(speaking, under_speech, 1.0).astype(np.float32)
    ramp = max(1, int(ramp_s / window_s))
    smooth = np.convolve(np.pad(gain, (ramp, ramp), mode="edge"), np.ones(ramp) / ramp, mode="same")[ramp:-ramp]
    envelope = np.repeat(smooth, window)
    envelope = resample(envelope, rate, music_rate or rate)[: len(music)]
    if len(envelope) < len(music):
        envelope = np.pad(envelope, (0, len(music) - len(envelope)), mode="edge")
    return (music * (envelope if music.ndim == 1 else envelope[:, None])).astype(np.float32)


def voice_compress(samples: np.ndarray, rate: int, *, threshold_db: float = -20.0, ratio: float = 3.0,
                   window_s: float = 0.02, release_s: float = 0.12, ceiling: float = 0.9) -> np.ndarray:
    """Narration levelled as a broadcast voice is: a compressor (its level over `threshold_db` reduced by `ratio`,
    following the speech's RMS in `window_s` windows, letting go over `release_s`), then made up to `ceiling`
    with a soft clip over the briefest peaks. Speech straight from Piper peaks some 21 dB over its loudness;
    levelled, about 17 (measured with FFmpeg's ebur128), which brings the hype reel's mix to -14.3 LUFS where
    loudnorm's limiter left it at -15.0."""
    if not len(samples):
        return samples
    window = max(1, int(window_s * rate))
    power = np.convolve(samples.astype(np.float64) ** 2, np.ones(window) / window, mode="same")
    level_db = 10 * np.log10(np.maximum(power, 1e-10))
    over = np.maximum(level_db - threshold_db, 0.0)
    wanted = -over * (1 - 1 / ratio)  # the gain in dB each sample asks for
    # Instant to reduce, slow to let go: one pass of a peak-hold smoother, in blocks of the window.
    blocks = wanted[: len(wanted) // window * window].reshape(-1, window).min(axis=1)
    held = np.empty_like(blocks)
    fall = window / (release_s * rate)
    current = 0.0
    for index, value in enumerate(blocks):
        current = value if value < current else current + (value - current) * min(1.0, fall)
        held[index] = current
    gain_db = np.interp(np.arange(len(samples)), np.arange(len(held)) * window + window / 2, held)
    levelled = samples * (10 ** (gain_db / 20))
    # Made up so that all but the briefest peaks (the loudest 0.2 % of samples) reach the ceiling's knee; those
    # few are rounded off by the soft clip.
    peak = float(np.percentile(np.abs(levelled), 99.8)) or 1.0
    made_up = levelled * (0.8 * ceiling / peak)
    # Soft clip: linear below 0.8 of the ceiling, a tanh knee above it, never past the ceiling.
    knee = 0.8 * ceiling
    magnitude = np.abs(made_up)
    soft = np.where(magnitude <= knee, magnitude,
                    knee + (ceiling - knee) * np.tanh((magnitude - knee) / (ceiling - knee)))
    return (np.sign(made_up) * soft).astype(np.float32)
