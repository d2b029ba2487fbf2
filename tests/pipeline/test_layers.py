"""The real layers, run without a database: real speech, real images, a valid plan."""
import datetime as dt

import numpy as np
import pytest
from django.core.cache import cache
from PIL import Image

from pipeline import audio
from pipeline.context import LayerContext
from pipeline.contracts import JobInputs, PresetConfig
from pipeline.contracts.l3 import numbers_in
from pipeline.errors import DataError, ScriptError
from pipeline.layers import l1_data, l2_calendar, l3_ideas, l4_audio, l5_media
from pipeline.layers.l3_ideas.sources import check_sources, resolve
from pipeline.plan import build_plan
from pipeline.registry import LayerInput
from presets.management.commands.load_presets import DATA_DIR


def shipped(slug: str) -> PresetConfig:
    import json

    return PresetConfig.model_validate(json.loads((DATA_DIR / f"{slug}.json").read_text())["config"])


def run_through_l5(tmp_path, slug="reel_hype", preset: PresetConfig | None = None, brand_dir=None, **job):
    preset = preset or shipped(slug)
    inputs = JobInputs.model_validate({"sport": "nfl", "date": "2026-11-22", **job})
    outputs = {}

    def run(module, name, needs):
        ctx = LayerContext(job_id="t", layer=name, work_dir=tmp_path, cache=cache,
                           options={"BRAND_DIR": brand_dir} if brand_dir else {})
        outputs[name] = module.run(LayerInput(job=inputs, preset=preset,
                                              upstream={n: outputs[n] for n in needs}), ctx)
        return ctx

    run(l1_data, "L1", ())
    run(l2_calendar, "L2", ("L1",))
    run(l3_ideas, "L3", ("L1", "L2"))
    run(l4_audio, "L4", ("L2", "L3"))
    ctx = run(l5_media, "L5", ("L1", "L3"))
    plan = build_plan(LayerInput(job=inputs, preset=preset, upstream=outputs), ctx)
    return preset, outputs, plan


def test_fixture_slate_is_realistic():
    from pipeline.layers.l1_data.fixture import FixtureData

    nfl = FixtureData(options={}, ctx=None).slate(sport="nfl", date=dt.date(2026, 11, 22))
    nba = FixtureData(options={}, ctx=None).slate(sport="nba", date=dt.date(2026, 11, 22))
    assert len(nfl.matchups) + len(nba.matchups) >= 8
    for matchup in [*nfl.matchups, *nba.matchups]:
        assert len(matchup.props) >= 3 and matchup.total and matchup.home.primary_color.startswith("#")


def test_unknown_fixture_matchup_is_a_data_error():
    from pipeline.layers.l1_data.fixture import FixtureData

    with pytest.raises(DataError, match="no game NYG @ KC"):
        FixtureData(options={}, ctx=None).matchup("nfl-20261122-nyg-kc")


def test_reel_through_l5(tmp_path):
    preset, outputs, plan = run_through_l5(tmp_path)
    script, speech, media = outputs["L3"], outputs["L4"], outputs["L5"]
    # L2: hook, matchup, two props, CTA (a hype reel of 15 to 30 s)
    assert [s.kind.value for s in outputs["L2"].segments] == ["hook", "matchup", "prop", "prop", "cta"]
    assert 15 <= speech.duration <= 30
    # L3: every number on screen or spoken is traced to the data
    check_sources(script, outputs["L1"])
    for segment in script.segments:
        for figure in segment.figures:
            assert resolve(outputs["L1"], figure.field) == figure.value
    # L4: real speech, timed to the sample, segments back to back
    samples, rate = audio.read_wav(tmp_path / speech.narration)
    assert len(samples) / rate == pytest.approx(speech.duration, abs=1e-4)
    assert float(np.abs(samples).max()) > 0.1
    for before, after in zip(speech.segments, speech.segments[1:], strict=False):
        assert after.start == pytest.approx(before.end, abs=1e-6)
    for timing in speech.segments:
        piece = samples[int(timing.start * rate): int(timing.end * rate)]
        assert np.sqrt(np.mean(piece ** 2)) > 0.01, f"{timing.segment_id} is silent"
    # L5: one real picture per segment at the preset's size, and each team's crest at the size the plan shows it
    for asset in media.assets:
        with Image.open(tmp_path / asset.file) as image:
            assert image.size == ((210, 210) if asset.role == "badge" else (1080, 1920))
    assert sorted(asset.team for asset in media.assets if asset.role == "badge") == ["DAL", "PHI"]
    # the plan: scenes follow the speech, the compliance text is there
    # (a prop's or the matchup's numbers get a shot of their own: scenes of one segment share its id)
    assert list(dict.fromkeys(s.segment_id for s in plan.scenes)) == [s.id for s in script.segments]
    assert {s.id for s in plan.scenes} >= {s.id for s in script.segments}
    assert plan.duration == speech.duration
    assert any(getattr(layer, "role", None) == "compliance" for layer in plan.overlay)
    shown = [layer for layer in plan.all_layers() if layer.type == "text" and layer.role in ("stat", "body")]
    for layer in shown:
        assert {f.text.lstrip("+") for f in layer.sources} >= set(numbers_in(layer.text))


def test_copy_varies_between_matchups_and_is_stable(tmp_path):
    first = run_through_l5(tmp_path / "a", matchup_id="nfl-20261122-buf-kc")[1]["L3"]
    again = run_through_l5(tmp_path / "b", matchup_id="nfl-20261122-buf-kc")[1]["L3"]
    other = run_through_l5(tmp_path / "c", matchup_id="nfl-20261122-dal-phi")[1]["L3"]
    assert first == again
    assert [s.narration for s in first.segments] != [s.narration for s in other.segments]


@pytest.mark.parametrize(("slug", "size", "scenes"), [("carousel_illustrated", (1080, 1350), 7),
                                                       ("single_image_stat", (1080, 1080), 1)])
def test_other_presets_build_plans(tmp_path, slug, size, scenes):
    _, _, plan = run_through_l5(tmp_path, slug)
    assert (plan.width, plan.height) == size and len(plan.scenes) == scenes


def test_a_script_that_cites_a_wrong_value_is_refused(tmp_path):
    _, outputs, _ = run_through_l5(tmp_path)
    script = outputs["L3"].model_copy(deep=True)
    script.segments[2].figures[0].value += 10
    with pytest.raises(ScriptError, match="but the data says"):
        check_sources(script, outputs["L1"])


def test_music_bed_is_ducked_under_speech(tmp_path):
    preset = shipped("reel_hype").model_copy(deep=True)
    brand = tmp_path / "brand"
    brand.mkdir()
    t = np.arange(40 * 22050) / 22050
    audio.write_wav(brand / "bed.wav", 0.5 * np.sin(2 * np.pi * 330 * t), 22050)
    preset.voice.music = "bed.wav"
    inputs = JobInputs.model_validate({"sport": "nfl", "matchup_id": "nfl-20261122-buf-kc"})
    outputs = {}
    for name, module, needs in (("L1", l1_data, ()), ("L2", l2_calendar, ("L1",)), ("L3", l3_ideas, ("L1", "L2")),
                                ("L4", l4_audio, ("L2", "L3"))):
        ctx = LayerContext(job_id="t", layer=name, work_dir=tmp_path, cache=cache, options={"BRAND_DIR": brand})
        outputs[name] = module.run(LayerInput(job=inputs, preset=preset, upstream={n: outputs[n] for n in needs}), ctx)
    package = outputs["L4"]
    assert package.music == "L4/music.wav" and package.music_gain == preset.voice.music_gain
    music, rate = audio.read_wav(tmp_path / package.music)
    speech, _ = audio.read_wav(tmp_path / package.narration)
    assert len(music) == len(speech)
    window = int(0.05 * rate)
    levels = np.sqrt(np.mean(music[: len(music) // window * window].reshape(-1, window) ** 2, axis=1))
    talking = np.abs(speech[: len(speech) // window * window].reshape(-1, window)).max(axis=1) > 0.02
    assert levels[talking].mean() < 0.6 * levels[~talking].mean()


def test_the_offline_bed_is_music_under_the_voice_with_cuts_on_its_beats(tmp_path):
    """given: the shipped hype reel (no brand bed: the bed is made offline, 'drive' at its tempo)
    then: a stereo 48 kHz bed as long as the narration whose two channels differ (a pad spread wide), with a beat
    at the preset's tempo (the level's autocorrelation peaks at one beat), ducked under the speech, and every
    segment boundary on a beat"""
    import wave

    from pipeline import music

    preset = shipped("reel_hype")
    tempo = preset.voice.tempo_bpm
    _, outputs, _ = run_through_l5(tmp_path, preset=preset)
    package = outputs["L4"]
    assert package.music == "L4/music.wav"
    with wave.open(str(tmp_path / package.music), "rb") as wav:
        assert (wav.getnchannels(), wav.getframerate()) == (2, music.RATE)
        bed = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").reshape(-1, 2) / 32768.0
    assert abs(len(bed) / music.RATE - package.duration) < 0.01
    assert np.abs(bed[:, 0] - bed[:, 1]).mean() > 0.005
    beat = 60.0 / tempo
    for timing in package.segments:
        assert abs(timing.start / beat - round(timing.start / beat)) < 1e-3, timing.start
    hop = int(0.01 * music.RATE)
    level = np.sqrt(np.mean(bed[: len(bed) // hop * hop, 0].reshape(-1, hop) ** 2, axis=1))
    level = level - level.mean()
    lags = np.arange(int(0.6 * beat / 0.01), int(1.6 * beat / 0.01))
    correlation = [float(np.dot(level[:-lag], level[lag:])) for lag in lags]
    assert abs(lags[int(np.argmax(correlation))] * 0.01 - beat) <= 0.02
    speech, rate = audio.read_wav(tmp_path / package.narration)
    window = int(0.05 * rate)
    talking = np.abs(speech[: len(speech) // window * window].reshape(-1, window)).max(axis=1) > 0.02
    mono = bed.mean(axis=1)
    step = int(0.05 * music.RATE)
    levels = np.sqrt(np.mean(mono[: len(mono) // step * step].reshape(-1, step) ** 2, axis=1))
    count = min(len(levels), len(talking))
    assert levels[:count][talking[:count]].mean() < 0.6 * levels[:count][~talking[:count]].mean()
