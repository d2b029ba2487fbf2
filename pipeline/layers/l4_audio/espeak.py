"""Offline speech with eSpeak NG (Debian package espeak-ng, installed by `make`)."""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from pipeline import audio, proc
from pipeline.context import LayerContext
from pipeline.contracts.preset import VoiceSpec
from pipeline.errors import AudioGenerationError, ConfigurationError

TIMEOUT_S = 60


def _binary() -> str:
    found = shutil.which("espeak-ng") or shutil.which("espeak")
    if not found:
        raise ConfigurationError("eSpeak NG is not installed", layer="L4", provider="espeak",
                                 hint="run `make run` as root, or `apt-get install espeak-ng`")
    return found


def synthesize(text: str, voice: VoiceSpec, options: dict, ctx: LayerContext):
    from pipeline.layers.l4_audio import Speech

    with tempfile.TemporaryDirectory(dir=ctx.layer_dir) as tmp:
        out = Path(tmp) / "speech.wav"
        proc.run([_binary(), "-v", voice.voice, "-s", voice.words_per_minute, "-p", voice.pitch, "-w", out,
                  "--", text], timeout=TIMEOUT_S, what="espeak-ng",
                 error=lambda message, stderr="", retryable=False: AudioGenerationError(
                     message, layer="L4", provider="espeak", retryable=retryable))
        samples, rate = audio.read_wav(out)
    return Speech(samples=audio.trim_silence(samples, rate), rate=rate)
