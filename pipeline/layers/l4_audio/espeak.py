"""Offline speech with eSpeak NG (Debian package espeak-ng, installed by `make`), with word timings.

The speech and the word timings come from one synthesis through eSpeak NG's library (espeak_lib.py): the
engine reports where each word starts as it speaks it.
"""
from __future__ import annotations

from pipeline import audio
from pipeline.context import LayerContext
from pipeline.contracts.preset import VoiceSpec
from pipeline.layers.l4_audio import espeak_lib


def shift_words(words, offset_s: float, length_s: float) -> list[tuple[str, float, float]]:
    """Word times after the audio's first `offset_s` seconds were cut, kept inside the audio's length."""
    return [(word, round(min(max(start - offset_s, 0.0), length_s), 4),
             round(min(max(end - offset_s, 0.0), length_s), 4)) for word, start, end in words]


def synthesize(text: str, voice: VoiceSpec, options: dict, ctx: LayerContext):
    from pipeline.layers.l4_audio import Speech

    spoken = espeak_lib.speak(text, voice=voice.voice, words_per_minute=voice.words_per_minute, pitch=voice.pitch)
    start, end = audio.speech_bounds(spoken.samples, spoken.rate)
    samples = spoken.samples[start:end]
    return Speech(samples=samples, rate=spoken.rate,
                  words=shift_words(spoken.words, start / spoken.rate, len(samples) / spoken.rate))
