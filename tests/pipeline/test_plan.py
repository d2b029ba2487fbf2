"""apply_adjustments: one function, on the server; it re-wraps text, holds it to the design rules and can never
remove the compliance text."""
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline import design
from pipeline.contracts import Adjustments, RenderPlan
from pipeline.plan import AdjustmentError, apply_adjustments
from tests.pipeline.test_contracts import plan_data

BASE = Path(__file__).parent  # the test plan has no pictures: its backgrounds are plain colours


@pytest.fixture
def plan():
    return RenderPlan.model_validate(plan_data())


def layer(plan, layer_id):
    return next(item for item in plan.all_layers() if item.id == layer_id)


def test_bigger_text_rewraps_and_stays_in_its_box(plan):
    before = layer(plan, "h1")
    adjusted = apply_adjustments(plan, Adjustments(text_scale=1.6), base_dir=BASE)
    after = layer(adjusted, "h1")
    # as large as fits: bigger than before, but shrunk back from 1.6x until its ink is inside the box
    assert before.size < after.size < before.size * 1.6
    assert design.violations(adjusted, BASE) == []


def test_edit_relays_out_the_new_text(plan):
    edit = Adjustments(text_edits={"h1": "ALLEN OVER 275.5 YARDS TONIGHT"})
    after = layer(apply_adjustments(plan, edit, base_dir=BASE), "h1")
    assert " ".join(line.text for line in after.lines) == "ALLEN OVER 275.5 YARDS TONIGHT"


def test_an_edit_cannot_invent_a_number(plan):
    with pytest.raises(AdjustmentError, match="300.5") as info:
        apply_adjustments(plan, Adjustments(text_edits={"h1": "JOSH ALLEN OVER 300.5"}), base_dir=BASE)
    assert info.value.field == "text_edits.h1"


def test_timing_offset_moves_text_within_its_scene(plan):
    after = layer(apply_adjustments(plan, Adjustments(timing_offset=0.5), base_dir=BASE), "h1")
    assert after.start == pytest.approx(0.7)
    early = layer(apply_adjustments(plan, Adjustments(timing_offset=-2), base_dir=BASE), "h1")
    assert early.start == 0.0


def test_colours_must_come_from_the_palette(plan):
    yellow = Adjustments(colors={"h1": "#FFD400"})
    assert layer(apply_adjustments(plan, yellow, base_dir=BASE), "h1").color == "#FFD400"
    with pytest.raises(AdjustmentError, match="not a brand colour"):
        apply_adjustments(plan, Adjustments(colors={"h1": "#123456"}), base_dir=BASE)


@pytest.mark.parametrize("adjustments", [
    Adjustments(text_edits={"compliance": "Bet big!"}), Adjustments(colors={"compliance": "#FFD400"}),
    Adjustments(layer_scale={"compliance": 0.5}), Adjustments(text_edits={"nope": "x"})])
def test_compliance_and_unknown_layers_cannot_be_adjusted(plan, adjustments):
    with pytest.raises(AdjustmentError):
        apply_adjustments(plan, adjustments, base_dir=BASE)


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(scale=st.floats(0.5, 2.0), offset=st.floats(-2.0, 2.0),
       layer_scale=st.floats(0.5, 2.0), text=st.text(st.characters(categories=["L", "Zs"]), min_size=1, max_size=60))
def test_compliance_survives_every_adjustment(plan, scale, offset, layer_scale, text):
    adjustments = Adjustments(text_scale=scale, timing_offset=offset, layer_scale={"h1": layer_scale},
                              text_edits={"h1": text} if text.strip() else {})
    adjusted = apply_adjustments(plan, adjustments, base_dir=BASE)
    compliance = layer(adjusted, "compliance")
    original = layer(plan, "compliance")
    assert compliance.text == original.text and compliance.size >= original.size
    assert (compliance.start, compliance.end) == (0.0, plan.duration)
    assert compliance.lines == original.lines


@pytest.mark.django_db
@pytest.mark.parametrize("slug", ["reel_hype", "carousel_illustrated"])
def test_the_first_frame_carries_the_hook(tmp_path, slug):
    """given: a shipped preset's plan for the sample matchup
    then: its first headline has no entrance and is drawn on frame 0 (the autoplayed first impression and the
    platform's cover frame), while the later scenes' texts still come in"""
    import json

    import numpy as np
    from django.conf import settings as django_settings

    from pipeline.contracts import PresetConfig
    from pipeline.render.compositor import Compositor
    from presets.services import sample_plan

    config = json.loads((Path(django_settings.BASE_DIR) / "presets" / "data" / f"{slug}.json").read_text())["config"]
    built, folder = sample_plan(PresetConfig.model_validate(config), tmp_path)
    first = next(item for item in built.scenes[0].layers if item.type == "text" and item.role == "headline")
    assert first.start == 0 and first.motion.enter == "none"
    without = built.model_copy(deep=True)
    without.scenes[0].layers = [item for item in without.scenes[0].layers if item.id != first.id]
    box = first.box
    region = (slice(int(box.y), int(box.y + box.height)), slice(int(box.x), int(box.x + box.width)))
    drawn = Compositor(built, folder).frame(0.0)[region].astype(int)
    bare = Compositor(without, folder).frame(0.0)[region].astype(int)
    assert (np.abs(drawn - bare).max(axis=-1) > 64).mean() > 0.02, "frame 0 shows no headline"
    later = [item for scene in built.scenes[1:] for item in scene.layers if item.type == "text"]
    assert any(item.motion.enter != "none" for item in later) or not later


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(words=st.lists(st.sampled_from(["I", "WW", "ALLEN", "OVER", "MMMMMM", "275.5", "A", "TOUCHDOWNS"]),
                      min_size=1, max_size=40))
def test_the_fit_meter_figure_is_the_layouts_verdict(plan, words):
    """One rule on both sides: a wording the layout holds has room (0 or more) and is never called too long;
    one it refuses is refused as too long with a negative room (pipeline/design.py `room`), whatever the
    estimate from the average letter says."""
    # An edit cannot drop the number the headline shows (tested above): every wording keeps it.
    edit = Adjustments(text_edits={"h1": " ".join([*words, "275.5"])})
    try:
        adjusted = apply_adjustments(plan, edit, base_dir=BASE)
    except design.TextTooLong as refused:
        assert refused.field == "text_edits.h1" and refused.room <= -1
    else:
        after = layer(adjusted, "h1")
        assert after.room is not None and after.room >= 0
