"""Cloud speech over HTTP: an OpenAI-compatible speech endpoint, and ElevenLabs (with word timings)."""
from __future__ import annotations

import base64
import io
import wave

import numpy as np

from pipeline import audio
from pipeline.context import LayerContext
from pipeline.contracts.preset import VoiceSpec
from pipeline.errors import AudioGenerationError
from pipeline.http import provider_client
from pipeline.layers.l4_audio import align
from pipeline.wire import Wire, parse_answer

ELEVEN_RATE = 22050


class WireAlignment(Wire):
    characters: list[str] = []
    character_start_times_seconds: list[float] = []
    character_end_times_seconds: list[float] = []


class WireTimestamps(Wire):
    """ElevenLabs' text-to-speech with-timestamps answer (its API reference: audio_base64, alignment)."""

    audio_base64: str
    alignment: WireAlignment | None = None


def _client(provider: str, options: dict, ctx: LayerContext, headers: dict):
    return provider_client(provider, layer="L4", ctx=ctx, options=options, headers=headers)


def openai_speech(text: str, voice: VoiceSpec, options: dict, ctx: LayerContext):
    from pipeline.layers.l4_audio import Speech

    client = _client("openai", options, ctx, {"Authorization": f"Bearer {ctx.secret('openai')}"})
    response = client.request("POST", "/v1/audio/speech", json={
        "model": options.get("model", "gpt-4o-mini-tts"), "voice": options.get("voice", "alloy"), "input": text,
        "response_format": "wav", "speed": round(voice.words_per_minute / 175, 2)})
    try:
        with wave.open(io.BytesIO(response.content), "rb") as wav:
            rate, width, channels = wav.getframerate(), wav.getsampwidth(), wav.getnchannels()
            raw = wav.readframes(wav.getnframes())
    except (wave.Error, EOFError) as exc:
        raise AudioGenerationError(f"openai answered audio that is not WAV ({exc})", layer="L4", provider="openai",
                                   retryable=True) from exc
    if width != 2:
        raise AudioGenerationError("openai answered audio that is not 16-bit", layer="L4", provider="openai")
    samples = np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1)
    samples = audio.trim_silence(samples, rate)
    # OpenAI's speech comes without word timings: they are found by aligning the script to it (align.py).
    return Speech(samples=samples, rate=rate, words=align.align(text, samples, rate, voice))


def words_from_characters(chars: list[str], starts: list[float], ends: list[float]) -> list[tuple[str, float, float]]:
    """Group ElevenLabs' per-character alignment into words with start and end times."""
    words, current, first, last = [], "", 0.0, 0.0
    for char, start, end in zip(chars, starts, ends, strict=True):
        if char.isspace():
            if current:
                words.append((current, first, last))
            current = ""
            continue
        if not current:
            first = start
        current += char
        last = end
    if current:
        words.append((current, first, last))
    return words


def elevenlabs(text: str, voice: VoiceSpec, options: dict, ctx: LayerContext):
    from pipeline.layers.l4_audio import Speech

    voice_id = options.get("voice_id", "21m00Tcm4TlvDq8ikWAM")
    client = _client("elevenlabs", options, ctx, {"xi-api-key": ctx.secret("elevenlabs")})
    path = f"/v1/text-to-speech/{voice_id}/with-timestamps"
    answer = parse_answer(WireTimestamps, client.post(path, params={"output_format": f"pcm_{ELEVEN_RATE}"}, json={
        "text": text, "model_id": options.get("model", "eleven_multilingual_v2")}), f"the answer of POST {path}",
        provider="elevenlabs", layer="L4")
    alignment = answer.alignment or WireAlignment()
    try:
        pcm = base64.b64decode(answer.audio_base64, validate=True)
        words = words_from_characters(alignment.characters, alignment.character_start_times_seconds,
                                      alignment.character_end_times_seconds)
    except ValueError as exc:
        raise AudioGenerationError(f"elevenlabs answered without usable audio_base64/alignment ({exc})",
                                   layer="L4", provider="elevenlabs", field="audio_base64") from exc
    samples = np.frombuffer(pcm[: len(pcm) // 2 * 2], dtype="<i2").astype(np.float32) / 32768.0
    # Word times are relative to the untrimmed audio, so the silence is kept as it is.
    return Speech(samples=samples, rate=ELEVEN_RATE, words=words)
