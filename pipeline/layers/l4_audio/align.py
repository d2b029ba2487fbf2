"""Word timings for speech that comes without them (OpenAI's speech endpoint): the script is spoken by
eSpeak NG, whose word starts are known, and that reference is aligned to the real narration by dynamic
time warping over their spectra (the method of the aeneas forced aligner). Each reference word start is
carried along the warping path into the narration's time.
"""
from __future__ import annotations

import numpy as np

from pipeline import audio
from pipeline.contracts.preset import VoiceSpec
from pipeline.layers.l4_audio import espeak_lib

HOP_S = 0.01
WINDOW_S = 0.025
BANDS = 24
SILENCE = 0.008  # peak level below which a 10 ms frame is a pause
SNAP_S = 0.25   # how far after a pause a word's start may move to the sound that follows


def _features(samples: np.ndarray, rate: int) -> np.ndarray:
    """Log energies in BANDS frequency bands per 10 ms frame, each band normalised over the clip."""
    hop, window = int(HOP_S * rate), int(WINDOW_S * rate)
    count = max(1, 1 + (len(samples) - window) // hop)
    padded = np.pad(samples, (0, max(0, window + hop * count - len(samples))))
    frames = np.lib.stride_tricks.sliding_window_view(padded, window)[::hop][:count] * np.hanning(window)
    spectrum = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    # Bands evenly spaced on a log frequency scale from 80 Hz to 8 kHz: where speech differs.
    freqs = np.fft.rfftfreq(window, 1 / rate)
    edges = np.geomspace(80, min(8000, rate / 2 - 1), BANDS + 1)
    bands = np.stack([spectrum[:, (freqs >= lo) & (freqs < hi)].sum(axis=1)
                      for lo, hi in zip(edges[:-1], edges[1:], strict=True)], axis=1)
    logs = np.log(bands + 1e-8)
    return (logs - logs.mean(axis=0)) / (logs.std(axis=0) + 1e-6)


def _path(reference: np.ndarray, target: np.ndarray) -> np.ndarray:
    """For each reference frame, the target frame DTW matches it to first."""
    cost = np.sqrt(((reference[:, None, :] - target[None, :, :]) ** 2).sum(axis=2))
    n, m = cost.shape
    total = np.full((n + 1, m + 1), np.inf)
    total[0, 0] = 0.0
    for i in range(1, n + 1):
        row = cost[i - 1]
        above = total[i - 1, 1:]
        diagonal = total[i - 1, :-1]
        best = np.minimum(above, diagonal) + row
        # Moves along the row (staying on one reference frame) are a running minimum: with S the running sum
        # of the row's costs, total[i, j] - S[j] = min(best[j-1] - S[j], total[i, j-1] - S[j-1]).
        running = np.cumsum(row)
        total[i, 1:] = np.minimum.accumulate(best - running) + running
    # Walk back from the end, recording the first target frame each reference frame meets.
    first = np.zeros(n, dtype=int)
    i, j = n, m
    while i > 0 and j > 0:
        first[i - 1] = j - 1
        moves = (total[i - 1, j - 1], total[i - 1, j], total[i, j - 1])
        step = int(np.argmin(moves))
        if step == 0:
            i, j = i - 1, j - 1
        elif step == 1:
            i -= 1
        else:
            j -= 1
    return first


def align(text: str, samples: np.ndarray, rate: int, voice: VoiceSpec) -> list[tuple[str, float, float]]:
    """(word, start, end) for each written word of `text` as heard in `samples` (trimmed speech)."""
    reference = espeak_lib.speak(text, voice="en-us", words_per_minute=voice.words_per_minute, pitch=voice.pitch)
    ref_start, ref_end = audio.speech_bounds(reference.samples, reference.rate)
    ref = audio.resample(reference.samples[ref_start:ref_end], reference.rate, rate)
    if not len(ref) or not len(samples):
        return []
    path = _path(_features(ref, rate), _features(samples, rate))
    offset = ref_start / reference.rate
    length = len(samples) / rate
    hop = int(HOP_S * rate)
    loud = np.array([np.abs(samples[i:i + hop]).max() > SILENCE for i in range(0, len(samples), hop)])
    starts = []
    for _, start, _ in reference.words:
        frame = min(len(path) - 1, max(0, int(round((start - offset) / HOP_S))))
        target = int(path[frame])
        # A pause gives the warping slack: a word mapped into silence starts where the sound comes back.
        ahead = np.flatnonzero(loud[target: target + int(SNAP_S / HOP_S)])
        if target < len(loud) and not loud[target] and len(ahead):
            target += int(ahead[0])
        starts.append(min(length, target * HOP_S))
    words = []
    for index, (word, _, _) in enumerate(reference.words):
        start = starts[index]
        end = max(start, starts[index + 1] if index + 1 < len(starts) else length)
        words.append((word, round(start, 4), round(end, 4)))
    return words
