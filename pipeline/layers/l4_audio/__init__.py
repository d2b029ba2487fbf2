"""L4 audio + timing: narration for each segment joined into one track, timed from the audio itself.

Segment starts and ends are sample positions in the joined track divided by the
sample rate, so the timings are exact. The music (the brand's bed, or one made
offline by pipeline/music.py) is ducked under the speech and written as a track of
its own; with music, every segment ends on a beat so the cuts land on it.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pipeline import audio
from pipeline.context import LayerContext, RecordedAsset
from pipeline.contracts import AudioPackage, Script, SegmentTiming, WordTiming
from pipeline.contracts.l2 import CalendarPlan
from pipeline.errors import AudioGenerationError, ConfigurationError
from pipeline.files import sha256_file
from pipeline.log_context import ContextThreadPool
from pipeline.registry import LayerInput

LEAD_S = 0.12       # silence before each segment's speech
TAIL_S = 0.3        # and after it, so cuts do not clip the last word
MAX_PAD_S = 1.0     # at most this much extra silence to bring a segment towards its target length


@dataclass
class Speech:
    samples: np.ndarray
    rate: int
    words: list[tuple[str, float, float]] = field(default_factory=list)
    engine: str = ""  # which engine spoke it, as the narration's metadata names it


def _providers():
    from pipeline.layers.l4_audio import cloud, espeak, piper

    return {"piper": piper.synthesize, "espeak": espeak.synthesize, "openai_tts": cloud.openai_speech,
            "elevenlabs": cloud.elevenlabs}


def beat_s(voice) -> float | None:
    """The music's beat, when the piece has music: scene cuts are put on it (a brand's own bed is taken to be at
    the preset's tempo, which the designer sets to match it)."""
    return 60.0 / voice.tempo_bpm if voice.music or voice.bed != "off" else None


def lengths_explained(audio_package, calendar, voice) -> list[dict]:
    """Why each segment lasts what it does, by the rule `run` times it with: as long as its narration (with
    LEAD_S before and TAIL_S after), at least the length the preset sets (padding with up to MAX_PAD_S of
    silence), then on to the music's next beat. The preset editor shows these beside the lengths it sets (hook
    3 s came out 4.6 s, and nothing said why)."""
    from pipeline.labels import segment_label

    targets = {segment.id: segment.target_s for segment in calendar.segments}
    beat = beat_s(voice)
    rows = []
    for timing in audio_package.segments:
        wanted = targets.get(timing.segment_id, 0.0)
        out = timing.end - timing.start
        spoken = (timing.words[-1].end - timing.start + TAIL_S) if timing.words else None
        if spoken is not None and spoken > wanted + 0.05:
            why = f"its narration takes {spoken:.1f} s"
        elif spoken is not None and wanted > spoken + MAX_PAD_S + 0.05:
            why = f"its narration takes {spoken:.1f} s, and at most {MAX_PAD_S:.0f} s of silence is added to it"
        else:
            why = "as set"
        before_beat = max(spoken, min(wanted, spoken + MAX_PAD_S)) if spoken is not None else wanted
        if beat is not None and out - before_beat > 0.05:
            why = "ends on the music's next beat" if why == "as set" else why + ", then on to the music's next beat"
        rows.append({"segment": segment_label(timing.segment_id), "set_s": round(wanted, 2), "out_s": round(out, 2),
                     "why": why})
    return rows


def _made_bed(voice, ctx: LayerContext, narration: np.ndarray | None, seconds: float, rate: int,
              cuts: list[float]) -> Path:
    from pipeline import music

    made = music.bed(seconds, style=voice.bed, tempo_bpm=voice.tempo_bpm, cuts=cuts)
    if narration is not None:
        made = audio.duck(made, narration, rate, under_speech=voice.duck_gain, music_rate=music.RATE)
    path = ctx.layer_dir / "music.wav"
    audio.write_wav(path, made, music.RATE)
    return path


def _music_bed(inputs: LayerInput, ctx: LayerContext, narration: np.ndarray | None, seconds: float, rate: int,
               cuts: list[float]) -> Path | None:
    """The music under the narration, ducked under its speech; with no narration (a carousel's reel), the music
    alone."""
    voice = inputs.preset.voice
    if not voice.music:
        return None if voice.bed == "off" else _made_bed(voice, ctx, narration, seconds, rate, cuts)
    brand_dir = Path(ctx.options.get("BRAND_DIR", ctx.work_dir))
    source = (brand_dir / voice.music).resolve()
    if brand_dir.resolve() not in source.parents or not source.is_file():
        raise ConfigurationError(f"music bed {voice.music!r} is not in the brand folder", layer="L4",
                                 field="voice.music")
    from pipeline.media.ffmpeg import decode_audio

    music = decode_audio(source, rate=rate, layer="L4")
    if not len(music):
        raise AudioGenerationError(f"music bed {voice.music!r} has no sound", layer="L4", field="voice.music")
    length = int(round(seconds * rate))
    looped = np.tile(music, int(np.ceil(length / len(music))))[:length]
    ducked = audio.duck(looped, narration, rate, under_speech=voice.duck_gain) if narration is not None else looped
    path = ctx.layer_dir / "music.wav"
    audio.write_wav(path, ducked, rate)
    return path


def unspoken(inputs: LayerInput, ctx: LayerContext, script: Script) -> AudioPackage:
    """A carousel's or a still's timing, with no speech: nobody hears a slide, so none is synthesised. Each slide
    shows `format.slide_seconds` (in the carousel's reel, when the preset asks for one, over the music bed)."""
    from pipeline import music

    fmt = inputs.preset.format
    step = fmt.slide_seconds
    timings = [SegmentTiming(segment_id=segment.id, start=round(index * step, 6), end=round((index + 1) * step, 6))
               for index, segment in enumerate(script.segments)]
    seconds = timings[-1].end
    bed = None
    if fmt.kind == "carousel" and fmt.carousel_reel:
        bed = _music_bed(inputs, ctx, None, seconds, music.RATE, cuts=[timing.start for timing in timings[1:]])
    if bed is not None:
        ctx.record_asset(RecordedAsset(path=ctx.rel(bed), kind="music", sha256=sha256_file(bed), duration=seconds))
    ctx.progress(1.0, "slides timed (not narrated)")
    return AudioPackage(narration=None, sample_rate=music.RATE, duration=seconds, music=ctx.rel(bed) if bed else None,
                        music_gain=inputs.preset.voice.music_gain if bed else 0.0, segments=timings)


def run(inputs: LayerInput, ctx: LayerContext) -> AudioPackage:
    script: Script = inputs.upstream["L3"]
    calendar: CalendarPlan = inputs.upstream["L2"]
    if inputs.preset.format.kind != "reel":
        return unspoken(inputs, ctx, script)
    choice = inputs.preset.providers.audio
    try:
        synthesize = _providers()[choice.name]
    except KeyError:
        raise ConfigurationError(f"unknown audio provider {choice.name!r} (known: {', '.join(_providers())})",
                                 layer="L4", field="providers.audio.name") from None
    targets = {s.id: s.target_s for s in calendar.segments}
    done = 0

    def speak(segment) -> Speech:
        nonlocal done
        speech = synthesize(segment.narration, inputs.preset.voice, choice.options, ctx)
        done += 1
        ctx.progress(0.8 * done / len(script.segments), f"spoke {segment.id}")
        return speech

    # Segments are spoken at once: eSpeak and onnxruntime (Piper) both work outside the GIL.
    with ContextThreadPool(max_workers=min(4, os.cpu_count() or 2)) as pool:
        spoken = list(pool.map(speak, script.segments))
    rate = spoken[0].rate
    pieces, timings, cursor = [], [], 0
    beat = beat_s(inputs.preset.voice)
    for segment, speech in zip(script.segments, spoken, strict=True):
        samples = audio.resample(speech.samples, speech.rate, rate)
        if not len(samples):
            raise AudioGenerationError(f"segment {segment.id} came out silent", layer="L4", provider=choice.name,
                                       field=f"segments.{segment.id}.narration")
        lead, tail = int(LEAD_S * rate), int(TAIL_S * rate)
        natural = lead + len(samples) + tail
        wanted = int(targets.get(segment.id, 0) * rate)
        length = max(natural, min(wanted, natural + int(MAX_PAD_S * rate)))
        if beat is not None:
            # The segment ends on the next beat of the music, so the cut (and the next scene's entrances)
            # lands on it.
            end_s = np.ceil((cursor + length) / rate / beat - 1e-9) * beat
            length = int(round(end_s * rate)) - cursor
        piece = np.zeros(length, dtype=np.float32)
        piece[lead: lead + len(samples)] = samples
        start_s = cursor / rate
        words = [WordTiming(word=w, start=round(start_s + LEAD_S + a, 4), end=round(start_s + LEAD_S + b, 4))
                 for w, a, b in speech.words]
        timings.append(SegmentTiming(segment_id=segment.id, start=round(start_s, 6),
                                     end=round((cursor + length) / rate, 6), words=words))
        pieces.append(piece)
        cursor += length
    narration = audio.voice_compress(np.concatenate(pieces), rate)
    path = ctx.layer_dir / "narration.wav"
    audio.write_wav(path, narration, rate)
    engines = sorted({speech.engine or choice.name for speech in spoken})
    ctx.record_asset(RecordedAsset(path=ctx.rel(path), kind="narration", sha256=sha256_file(path),
                                   duration=len(narration) / rate,
                                   metadata={"sample_rate": rate, "voice": "; ".join(engines)}))
    music = _music_bed(inputs, ctx, narration, len(narration) / rate, rate,
                       cuts=[timing.start for timing in timings[1:]])
    if music is not None:
        ctx.record_asset(RecordedAsset(path=ctx.rel(music), kind="music", sha256=sha256_file(music),
                                       duration=len(narration) / rate))
    ctx.progress(1.0, "narration ready")
    return AudioPackage(narration=ctx.rel(path), sample_rate=rate, duration=round(len(narration) / rate, 6),
                        music=ctx.rel(music) if music else None,
                        music_gain=inputs.preset.voice.music_gain if music else 0.0, segments=timings)
