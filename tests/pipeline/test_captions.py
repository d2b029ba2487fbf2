"""Captions: word timings from every voice, a caption layer in the plan, SRT/WebVTT, corrections, and the
highlight in the final MP4 changing on the frame of its word."""
import copy
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline import audio, captions, design
from pipeline.contracts import Adjustments, PresetConfig
from pipeline.contracts.plan import CaptionLayer
from pipeline.contracts.preset import VoiceSpec
from pipeline.layers.l4_audio import align, espeak, espeak_lib
from pipeline.plan import AdjustmentError, apply_adjustments

ROOT = Path(__file__).resolve().parents[2]
HOP = 0.01


def onsets(samples: np.ndarray, rate: int) -> list[float]:
    """Where sound starts after a pause: 10 ms frames rising above a level after at least 80 ms below it."""
    hop = int(HOP * rate)
    energy = np.array([np.sqrt(np.mean(samples[i:i + hop] ** 2)) for i in range(0, len(samples) - hop, hop)])
    loud = energy > 0.02
    found, quiet = [], 8
    for index, on in enumerate(loud):
        if on and quiet >= 8:
            found.append(index * HOP)
        quiet = 0 if on else quiet + 1
    return found


def test_the_offline_voice_times_each_word_where_it_is_heard():
    """eSpeak NG's own word events: each word's start within 80 ms of the sound it makes (words spoken with
    pauses between them, so that each start is an onset in the audio)."""
    text = "Allen. Over. Yards. Tonight. Lock. Cook."
    speech = espeak.synthesize(text, VoiceSpec(), {}, None)
    heard = onsets(speech.samples, speech.rate)
    assert [w[0] for w in speech.words] == text.split()
    for word, start, _ in speech.words:
        # the sound nearest the word's start (a stop inside a word, like To-night, makes an onset of its own)
        nearest = min(heard, key=lambda onset: abs(onset - start))
        assert abs(start - nearest) <= 0.08, (word, start, nearest)


def test_word_timings_are_not_an_even_split():
    speech = espeak.synthesize("Go Cincinnati Bengals over forty seven and a half", VoiceSpec(), {}, None)
    lengths = [end - start for _, start, end in speech.words]
    assert max(lengths) > 2 * min(lengths)


def test_speech_without_timings_is_aligned_to_its_script():
    """A narration from another voice and speed (as OpenAI's would be): the script spoken by the offline voice
    is aligned to it; each word lands within 80 ms of where that narration's own engine put it."""
    text = "Josh Allen over 262.5 passing yards. He's averaging 268.2 over his last five."
    narration = espeak_lib.speak(text, voice="en-gb", words_per_minute=150, pitch=35)
    start, end = audio.speech_bounds(narration.samples, narration.rate)
    truth = [max(0.0, word_start - start / narration.rate) for _, word_start, _ in narration.words]
    words = align.align(text, narration.samples[start:end], narration.rate, VoiceSpec())
    assert [w[0] for w in words] == text.split()
    for (word, got, _), expected in zip(words, truth, strict=True):
        assert abs(got - expected) <= 0.08, (word, got, expected)


def shipped(slug: str, **captions_style) -> PresetConfig:
    config = copy.deepcopy(json.loads((ROOT / "presets" / "data" / f"{slug}.json").read_text())["config"])
    config.setdefault("captions", {}).update(captions_style)
    return PresetConfig.model_validate(config)


@pytest.fixture(scope="module")
def reel(tmp_path_factory):
    from presets.services import sample_plan

    return sample_plan(shipped("reel_hype"), tmp_path_factory.mktemp("reel"))


def caption_layer(plan) -> CaptionLayer | None:
    return next((layer for layer in plan.overlay if isinstance(layer, CaptionLayer)), None)


def test_reels_carry_captions_inside_the_safe_area_by_default(reel):
    plan, work = reel
    layer = caption_layer(plan)
    assert layer is not None and layer.highlight == "box"
    words = [w for g in layer.groups for w in g.words]
    assert len(words) > 40 and all(w.text == w.text.upper() for w in words)
    for group in layer.groups:
        assert len(group.words) <= 4 and group.start < group.end
        assert [w.start for w in group.words] == sorted(w.start for w in group.words)
    starts = [g.start for g in layer.groups]
    assert starts == sorted(starts) and all(a.end <= b.start + 1e-6 for a, b in zip(layer.groups, layer.groups[1:],
                                                                                  strict=False))
    assert design.violations(plan, work) == []


def test_a_preset_can_turn_captions_off_and_stills_have_none(tmp_path):
    from presets.services import sample_plan

    plan, _ = sample_plan(shipped("reel_hype", enabled=False), tmp_path / "off")
    assert caption_layer(plan) is None
    still, _ = sample_plan(shipped("single_image_stat"), tmp_path / "still")
    assert caption_layer(still) is None


def test_srt_and_webvtt_are_readable_and_keep_every_word(reel, tmp_path):
    """Read by the parsers receivers use (srt, webvtt-py): sentence case; each cue at least 5/6 s and at most 20
    characters a second where the speech allows (groups merged, never dropped); every spoken word, in order."""
    import srt as srt_parser
    import webvtt

    plan, _ = reel
    layer = caption_layer(plan)
    parsed = list(srt_parser.parse(captions.srt(captions.cues(layer))))
    (tmp_path / "c.vtt").write_text(captions.webvtt(captions.cues(layer)))
    vtt = webvtt.read(str(tmp_path / "c.vtt"))
    assert [c.content for c in parsed] == [c.text for c in vtt]
    spoken = " ".join(group.said for group in layer.groups).lower().split()
    assert " ".join(c.content for c in parsed).lower().split() == spoken
    assert not any(c.content.isupper() and sum(ch.isalpha() for ch in c.content) > 4 for c in parsed)
    readable = [c for c in parsed if (c.end - c.start).total_seconds() >= 5 / 6 - 1e-3
                and len(c.content) / (c.end - c.start).total_seconds() <= 20.01]
    assert len(readable) >= len(parsed) - 1, [(c.content, (c.end - c.start).total_seconds()) for c in parsed]
    starts = [c.start for c in parsed]
    assert starts == sorted(starts) and all(a.end <= b.start for a, b in zip(parsed, parsed[1:], strict=False))


def test_a_reviewer_corrects_a_caption_and_its_timing_follows_the_narration(reel):
    plan, work = reel
    layer = caption_layer(plan)
    index = next(i for i, g in enumerate(layer.groups) if len(g.words) >= 2)
    group = layer.groups[index]
    wording = " ".join(["Jayson"] + [w.text for w in group.words[1:]])
    adjusted = caption_layer(apply_adjustments(plan, Adjustments(caption_edits={str(index): wording}),
                                               base_dir=work))
    after = adjusted.groups[index]
    assert after.words[0].text == "JAYSON"
    assert [(w.start, w.end) for w in after.words] == [(w.start, w.end) for w in group.words]
    # another number of words: the group's time is shared by length, start and end unchanged
    fewer = caption_layer(apply_adjustments(plan, Adjustments(caption_edits={str(index): "Tatum"}),
                                            base_dir=work)).groups[index]
    assert fewer.words[0].start == group.start and fewer.words[-1].end == pytest.approx(group.end, abs=1e-3)
    with pytest.raises(AdjustmentError, match="999"):
        apply_adjustments(plan, Adjustments(caption_edits={str(index): "over 999 yards"}), base_dir=work)
    with pytest.raises(AdjustmentError, match="two lines"):
        apply_adjustments(plan, Adjustments(caption_edits={str(index): "W" * 100}), base_dir=work)
    with pytest.raises(AdjustmentError, match="no caption group"):
        apply_adjustments(plan, Adjustments(caption_edits={"9999": "x"}), base_dir=work)


def test_the_highlight_changes_on_the_frame_of_its_word_in_the_final_mp4(tmp_path):
    """Render a small captioned reel, decode the frames either side of word boundaries: the highlighted word
    (where the highlight colour is) changes exactly when its word starts, to the frame."""
    from pipeline.context import LayerContext
    from pipeline.layers.l6_assembly import render_video
    from pipeline.media import ffmpeg
    from pipeline.render.compositor import Compositor
    from pipeline.render.profiles import Encoder
    from presets.services import sample_plan

    config = shipped("reel_hype", size=56)
    config = config.model_copy(update={"format": config.format.model_copy(update={"width": 540, "height": 960})})
    config = config.model_copy(update={"segments": config.segments.model_copy(update={"props": 1, "hook": False,
                                                                                       "cta": False})})
    plan, work = sample_plan(config, tmp_path)
    layer = caption_layer(plan)
    out = work / "L6" / "captioned.mp4"
    out.parent.mkdir(parents=True, exist_ok=True)
    render_video(plan, Compositor(plan, work), LayerContext(job_id="t", layer="L6", work_dir=work), out, Encoder())
    fps = plan.fps
    yellow = np.array(design.hex_rgb(layer.highlight_color))
    checked = 0
    for group in layer.groups[:6]:
        for before, after in zip(group.words, group.words[1:], strict=False):
            boundary = int(np.ceil(after.start * fps - 1e-9))
            if boundary / fps >= group.end or (boundary - 1) / fps < before.start:
                continue
            for frame, word in ((boundary - 1, before), (boundary, after)):
                pixels = ffmpeg.decode_frame(out, frame, fps, (plan.width, plan.height)).astype(int)
                x0, y0, x1, y1 = (int(v) for v in design.box_rect(layer.box.model_dump()))
                region = pixels[y0:y1, x0:x1]
                mask = (np.abs(region - yellow).sum(axis=2) < 60)
                assert mask.sum() > 50, (frame, word.text)
                centre = x0 + np.nonzero(mask)[1].mean()
                assert word.x - 2 <= centre <= word.x + word.width + 2, (frame, word.text, centre)
            checked += 1
    assert checked >= 4


@pytest.mark.parametrize("starts", [
    [0.0] * 9,                                  # an aligner that put every word at the start
    [0.5, 0.5, 0.5, 0.6, 0.6, 0.6, 0.7, 0.7, 0.7],
    [3.0, 2.0, 1.0, 0.5, 4.0, 4.0, 9.0, 9.5, 12.0],  # out of order, and past the end of a 10 s piece
])
def test_caption_groups_never_overlap_and_always_last_a_moment(starts):
    """Word times from an aligner can be degenerate; the groups made from them still take turns."""
    words = [(f"W{i}", start, start + 0.2) for i, start in enumerate(starts)]
    groups = captions.group_words(words, max_words=3, max_chars=24)
    timed = captions.timed_groups(groups, duration=10.0)
    assert timed
    for (start, end, group_words), following in zip(timed, [*timed[1:], None], strict=True):
        assert end - start >= captions.MIN_GROUP_S - 1e-9 and end <= 10.0
        assert following is None or following[0] >= end - 1e-9
        assert all(start <= w_start <= w_end <= end for _, w_start, w_end in group_words)


WORDS = st.lists(st.tuples(st.sampled_from(["THE", "EAGLES", "ARE", "OVER", "94.5", "RUSHING", "YARDS", "A.J.",
                                            "BROWN,", "IS", "IT.", "HE'S", "AVERAGING", "112.2", "YES!", "IN",
                                            "RECEPTIONS.", "TO", "WIN?", "SUPERCALIFRAGILISTIC"]),
                           st.floats(0.05, 0.6)), min_size=1, max_size=40)


@settings(max_examples=200, deadline=None)
@given(spoken=WORDS, max_words=st.integers(2, 6), max_chars=st.integers(12, 30))
def test_captions_are_cut_phrase_by_phrase_never_a_lone_word(spoken, max_words, max_chars):
    """Any narration: the cards keep every word in order, each fits the preset's words and characters (a word
    longer than a line alone on its card), a sentence's end ends a card (a comma may stay inside one after a
    one-word clause: "BROWN, OVER 5.5"), and a card of one word is a one-word sentence, a word too long to
    share, or one that fits with neither neighbour."""
    words, clock = [], 0.0
    for text, length in spoken:
        words.append((text, clock, clock + length))
        clock += length + 0.05
    cards = captions.group_words(words, max_words=max_words, max_chars=max_chars)
    assert [w for card in cards for w in card] == words
    for index, card in enumerate(cards):
        text = " ".join(w[0] for w in card)
        assert len(card) <= max_words and (len(text) <= max_chars or len(card) == 1), text
        for word in card[:-1]:
            assert not (captions._ends_sentence(word[0]) and word[0].endswith((".", "!", "?"))), text
        if len(card) == 1 and not card[0][0].endswith((".", "!", "?")) and len(card[0][0]) <= max_chars:
            before = cards[index - 1] if index else None
            after = cards[index + 1] if index + 1 < len(cards) else None
            joins = [pair for pair in ((before, card), (card, after)) if None not in pair
                     and captions._fits(pair[0] + pair[1], max_words, max_chars)
                     and not captions._ends_sentence(pair[0][-1][0])]
            assert not joins, (text, [" ".join(w[0] for w in c) for c in cards])


@pytest.mark.parametrize("text, max_chars", [("ANALYSIS, NOT A GUARANTEE.", 24),
                                              ("BROWN, OVER 94.5 RUSHING YARDS.", 16)])
def test_a_one_word_clause_takes_the_first_words_of_the_next_when_the_whole_does_not_fit(text, max_chars):
    """The shipped hype reel said "ANALYSIS," on a card of its own: the next clause did not fit beside it whole,
    so it stood alone. It now takes that clause's first words."""
    words = [(word, i * 0.4, i * 0.4 + 0.3) for i, word in enumerate(text.split())]
    cards = captions.group_words(words, max_words=4, max_chars=max_chars)
    assert [w for card in cards for w in card] == words
    assert all(len(card) >= 2 for card in cards), [" ".join(w[0] for w in c) for c in cards]


def test_the_highlight_follows_the_brands_accent_unless_the_preset_sets_one(tmp_path):
    """A brand whose accent is green gets a green highlight (it was yellow whatever the palette); a preset that
    names a highlight colour keeps it."""
    from tests.pipeline.test_layers import run_through_l5

    config = shipped("reel_hype").model_dump(mode="json")
    config["brand"]["accent_color"] = "#19E68C"
    _, _, plan = run_through_l5(tmp_path / "a", preset=PresetConfig.model_validate(config))
    assert caption_layer(plan).highlight_color == "#19E68C"
    config["captions"] = {**config.get("captions", {}), "highlight_color": "#FF3B5C"}
    _, _, plan = run_through_l5(tmp_path / "b", preset=PresetConfig.model_validate(config))
    assert caption_layer(plan).highlight_color == "#FF3B5C"


def test_captions_turned_off_for_a_scene_leave_its_frames_and_keep_the_caption_files(reel):
    """Captions off while a prop scene shows (they would repeat its numbers): L6's frames in that scene are the
    frames of the same plan with no captions at all; other scenes keep theirs; the caption files still carry the
    whole speech."""
    from pipeline.render.compositor import Compositor

    plan, work = reel
    layer = caption_layer(plan)
    scene = next(s for s in plan.scenes[1:] if any(s.start <= g.start < s.end for g in layer.groups))
    off = apply_adjustments(plan, Adjustments(captions_off={scene.id: True}), base_dir=work)
    hidden = caption_layer(off)
    inside = [g for g in hidden.groups if scene.start <= g.start < scene.end]
    assert inside and not any(g.shown for g in inside)
    assert all(g.shown for g in hidden.groups if not scene.start <= g.start < scene.end)
    assert captions.cues(hidden) == captions.cues(layer)
    bare = plan.model_copy(update={"overlay": [x for x in plan.overlay if not isinstance(x, CaptionLayer)]})
    during = (inside[0].words[0].start + inside[0].words[0].end) / 2
    assert np.array_equal(Compositor(off, work).frame(during), Compositor(bare, work).frame(during))
    assert not np.array_equal(Compositor(plan, work).frame(during), Compositor(bare, work).frame(during))
    elsewhere = next(g for g in hidden.groups if g.shown)
    moment = (elsewhere.words[0].start + elsewhere.words[0].end) / 2
    assert np.array_equal(Compositor(off, work).frame(moment), Compositor(plan, work).frame(moment))
    with pytest.raises(AdjustmentError, match="no scene 'nowhere'"):
        apply_adjustments(plan, Adjustments(captions_off={"nowhere": True}), base_dir=work)
    assert Adjustments(captions_off={scene.id: False}).is_empty()
    from pipeline.contracts.adjustments import describe_changes

    turned = Adjustments(captions_off={scene.id: True})
    assert describe_changes(Adjustments(), turned) == [f"Captions off during {scene.id}"]
    assert describe_changes(turned, Adjustments()) == [f"Captions back on during {scene.id}"]
    assert turned.fields() == {f"captions_off.{scene.id}": True}
    assert Adjustments().with_fields({f"captions_off.{scene.id}": True}) == turned


@settings(max_examples=12, deadline=None)
@given(picked=st.lists(st.integers(0, 30), max_size=6))
def test_any_scenes_with_captions_off_hide_exactly_the_groups_spoken_in_them(reel, picked):
    plan, work = reel
    ids = [plan.scenes[i % len(plan.scenes)].id for i in picked]
    layer = caption_layer(apply_adjustments(plan, Adjustments(captions_off=dict.fromkeys(ids, True)),
                                            base_dir=work))
    ranges = [(s.start, s.end) for s in plan.scenes if s.id in ids]
    assert [g.shown for g in layer.groups] == [not any(a <= g.start < b for a, b in ranges) for g in layer.groups]
