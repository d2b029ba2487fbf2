"""The offline music bed: a beat, a bass and a pad synthesised at the preset's tempo, in stereo at 48 kHz.

Nothing is sampled or shipped: every sound is made here from sines and noise, so the bed is the project's own
and free to post. A style sets the chord loop and the drum pattern; the loop is one four-bar phrase, drawn once
and repeated for the piece, with a riser into each cut (the scene boundaries L4 lands on beats) and a fade at
the end. A brand's own bed (voice.music) replaces it.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

RATE = 48000
BEATS_PER_BAR = 4
BARS = 4


@dataclass(frozen=True)
class Style:
    """A chord loop (one chord a bar, semitones above A) and where the drums hit within a bar of 16 steps."""

    chords: tuple[tuple[int, ...], ...]
    kick: tuple[int, ...]
    clap: tuple[int, ...]
    hat: tuple[int, ...]
    bass: tuple[int, ...]  # steps where the bass plays the chord's root


STYLES = {
    # Am F C G: a driving minor loop, four on the floor (the hype reels)
    "drive": Style(chords=((0, 3, 7), (-4, 0, 3), (3, 7, 10), (-2, 2, 5)),
                   kick=(0, 4, 8, 12), clap=(4, 12), hat=(2, 6, 10, 14), bass=(0, 3, 6, 8, 11, 14)),
    # Dm Bb F C: a half-time bounce with a syncopated kick (analysis, carousels)
    "bounce": Style(chords=((5, 8, 12), (1, 5, 8), (8, 12, 15), (3, 7, 10)),
                    kick=(0, 7, 10), clap=(8,), hat=(0, 2, 4, 6, 8, 10, 12, 14), bass=(0, 7, 10)),
}
A2 = 110.0


def _hz(semitones: float, base: float = A2) -> float:
    return base * 2 ** (semitones / 12)


def _decay(length: int, seconds: float) -> np.ndarray:
    return np.exp(-np.arange(length) / (seconds * RATE)).astype(np.float32)


def _kick(length: int) -> np.ndarray:
    t = np.arange(length) / RATE
    # A sine falling from 150 Hz to 45 Hz: the pitch sweep is what makes it a kick
    freq = 45 + 105 * np.exp(-t / 0.03)
    phase = 2 * np.pi * np.cumsum(freq) / RATE
    return (np.sin(phase) * _decay(length, 0.18)).astype(np.float32)


def _noise(length: int, rng: np.random.Generator) -> np.ndarray:
    return rng.uniform(-1, 1, length).astype(np.float32)


def _clap(length: int, rng: np.random.Generator) -> np.ndarray:
    noise = _noise(length, rng)
    bright = noise - np.concatenate([[0.0], noise[:-1]])  # a first difference: the noise without its lows
    return (0.6 * bright * _decay(length, 0.07) + 0.3 * noise * _decay(length, 0.02)).astype(np.float32)


def _hat(length: int, rng: np.random.Generator) -> np.ndarray:
    noise = _noise(length, rng)
    high = np.diff(noise, prepend=0)  # differenced: the noise's top half
    return (0.18 * high * _decay(length, 0.018)).astype(np.float32)


def _tone(freq: float, length: int, harmonics: int, detune: float = 0.0) -> np.ndarray:
    """A band-limited sawtooth: the first `harmonics` partials at 1/n."""
    t = np.arange(length) / RATE
    wave = np.zeros(length, dtype=np.float64)
    for n in range(1, harmonics + 1):
        if freq * n * (1 + detune) >= RATE / 2:
            break
        wave += np.sin(2 * np.pi * freq * n * (1 + detune) * t) / n
    return wave.astype(np.float32)


def _place(track: np.ndarray, sound: np.ndarray, at: int) -> None:
    end = min(len(track), at + len(sound))
    if at < end:
        track[at:end] += sound[: end - at]


@functools.lru_cache(maxsize=8)
def phrase(style: Style, tempo_bpm: float) -> np.ndarray:
    """One four-bar phrase of the loop, stereo (n, 2): the same for every piece of a preset, so drawn once a
    process (the caller tiles a copy)."""
    rng = np.random.default_rng(7)
    beat = 60.0 / tempo_bpm
    step = int(round(beat / 4 * RATE))
    bar = step * 16
    length = bar * BARS
    drums = np.zeros(length, dtype=np.float32)
    bass = np.zeros(length, dtype=np.float32)
    left = np.zeros(length, dtype=np.float32)
    right = np.zeros(length, dtype=np.float32)
    kick, clap, hat = _kick(int(0.4 * RATE)), _clap(int(0.25 * RATE), rng), _hat(int(0.06 * RATE), rng)
    attack = np.minimum(1.0, np.arange(bar) / (0.35 * bar)).astype(np.float32)
    release = np.minimum(1.0, (bar - np.arange(bar)) / (0.08 * bar)).astype(np.float32)
    for index, chord in enumerate(style.chords[:BARS]):
        start = index * bar
        for s in style.kick:
            _place(drums, 0.9 * kick, start + s * step)
        for s in style.clap:
            _place(drums, 0.45 * clap, start + s * step)
        for s in style.hat:
            _place(drums, hat, start + s * step)
        root = _hz(chord[0] - 12 if chord[0] > 2 else chord[0])
        note = _tone(root / 2, 2 * step, 6) * _decay(2 * step, 0.16)
        for s in style.bass:
            _place(bass, 0.5 * note, start + s * step)
        # The pad: the chord an octave up, detuned apart in the two channels for width, swelling over the bar.
        envelope = attack * release
        for semitone in chord:
            freq = _hz(semitone, 2 * A2)
            _place(left, 0.08 * _tone(freq, bar, 5, -0.004) * envelope, start)
            _place(right, 0.08 * _tone(freq, bar, 5, 0.004) * envelope, start)
    centre = drums + bass
    return np.stack([centre + left, centre + right], axis=1)


def riser(length: int) -> np.ndarray:
    """Noise rising into a cut over `length` samples (a swell that ends on the beat), stereo."""
    rng = np.random.default_rng(11)
    noise = _noise(length, rng)
    bright = noise - np.concatenate([[0.0], noise[:-1]])
    swell = (np.linspace(0, 1, length) ** 3).astype(np.float32)
    sound = 0.35 * bright * swell
    return np.stack([sound, sound], axis=1)


def bed(seconds: float, *, style: str, tempo_bpm: float, cuts: list[float] = ()) -> np.ndarray:
    """The bed for a piece `seconds` long, stereo float32 at RATE: the phrase repeated, a riser into each cut
    (seconds from the start), the last beat's worth faded out, and the whole held under -3 dBFS peak."""
    loop = phrase(STYLES[style], tempo_bpm)
    length = int(round(seconds * RATE))
    music = np.tile(loop, (int(np.ceil(length / len(loop))), 1))[:length].copy()
    beat = int(round(60.0 / tempo_bpm * RATE))
    for cut in cuts:
        at = int(round(cut * RATE))
        start = max(0, at - beat)
        if at <= 0 or at > length:
            continue
        music[start:at] += riser(beat)[beat - (at - start):]
    fade = min(length, 2 * beat)
    music[length - fade:] *= np.linspace(1, 0, fade, dtype=np.float32)[:, None]
    music = np.tanh(music)  # a soft clip: the summed hits never square off
    peak = float(np.abs(music).max()) or 1.0
    return (music * (0.7 / peak)).astype(np.float32)
