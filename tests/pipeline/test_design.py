"""The design rules (pipeline/design.py) on plans built from the shipped presets: whatever a reviewer types,
however large, in whichever brand colour, an accepted plan fits, does not collide, keeps the safe zones clear
and reads; a refused one says why."""
import copy
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline import design
from pipeline.contracts import Adjustments, PresetConfig
from pipeline.contracts.plan import TextLayer
from pipeline.plan import AdjustmentError, apply_adjustments

ROOT = Path(__file__).resolve().parents[2]
PRESETS = ["reel_hype", "single_image_stat", "carousel_illustrated"]


def shipped(slug: str, **layout) -> PresetConfig:
    config = json.loads((ROOT / "presets" / "data" / f"{slug}.json").read_text())["config"]
    config = copy.deepcopy(config)
    config.setdefault("layout", {}).update(layout)
    return PresetConfig.model_validate(config)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Each shipped preset's plan for the sample matchup, built as a job builds it (offline providers)."""
    from presets.services import sample_plan

    plans = {slug: sample_plan(shipped(slug), tmp_path_factory.mktemp(slug)) for slug in PRESETS}
    plans["reel_refuse"] = sample_plan(shipped("reel_hype", legibility="refuse"), tmp_path_factory.mktemp("refuse"))
    plans["reel_panel"] = sample_plan(shipped("reel_hype", legibility="panel"), tmp_path_factory.mktemp("panel"))
    return plans


def editable(plan) -> list[TextLayer]:
    return [layer for layer in plan.all_layers() if isinstance(layer, TextLayer) and layer.editable]


def test_built_plans_keep_every_rule(built):
    for slug, (plan, work) in built.items():
        assert design.violations(plan, work) == [], slug
        zones = {zone.name for zone in plan.safe_zones}
        assert zones == ({"top", "bottom", "right"} if plan.kind == "reel" else set()), slug


def test_the_reel_keeps_text_and_logo_out_of_the_platform_zones(built):
    plan, _ = built["reel_hype"]
    bottom = next(zone.box for zone in plan.safe_zones if zone.name == "bottom")
    compliance = next(layer for layer in plan.overlay if layer.id == "compliance")
    # the compliance line sits just above the platform's own captions, where it can be read
    assert compliance.box.y + compliance.box.height <= bottom.y
    assert compliance.box.y + compliance.box.height > bottom.y - 0.1 * plan.height


def test_the_issue_example_is_shrunk_or_refused_never_off_the_frame(built):
    """single_image_stat, stat line edited to a sentence at text size 1.35: it ran off the image."""
    plan, work = built["single_image_stat"]
    stat = next(layer for layer in editable(plan) if layer.role == "stat")
    adjustments = Adjustments(text_scale=1.35,
                              text_edits={stat.id: "THE LINE MOVED TWICE BEFORE KICKOFF — HERE IS WHY"})
    try:
        adjusted = apply_adjustments(plan, adjustments, base_dir=work)
    except AdjustmentError as exc:
        assert exc.field == f"text_edits.{stat.id}" and "characters fit" in exc.message
    else:
        assert design.violations(adjusted, work) == []
        assert next(lay for lay in adjusted.all_layers() if lay.id == stat.id).size < stat.size * 1.35


def test_a_wording_too_long_even_at_the_floor_is_refused_with_the_room_left(built):
    plan, work = built["single_image_stat"]
    headline = next(layer for layer in editable(plan) if layer.role == "headline")
    with pytest.raises(AdjustmentError) as info:
        apply_adjustments(plan, Adjustments(text_edits={headline.id: "WHY " * 60}), base_dir=work)
    assert info.value.field == f"text_edits.{headline.id}"
    assert "at the smallest size (56 px) about" in info.value.message


@pytest.mark.parametrize("scale", [0.5, 2.0])
def test_scaling_all_text_is_accepted_and_shrunk_to_fit(built, scale):
    """At 2x, texts without a floor of their own (the odds stamp) used to be refused instead of shrunk back."""
    for slug, (plan, work) in built.items():
        adjusted = apply_adjustments(plan, Adjustments(text_scale=scale), base_dir=work)
        assert design.violations(adjusted, work) == [], slug


def darkest(plan) -> str:
    return min(plan.palette, key=lambda c: float(design.luminance(design.hex_rgb(c))))


def test_a_colour_that_does_not_read_gets_an_outline(built):
    plan, work = built["reel_hype"]
    headline = next(layer for layer in editable(plan) if layer.role == "headline")
    adjusted = apply_adjustments(plan, Adjustments(colors={headline.id: darkest(plan)}), base_dir=work)
    after = next(lay for lay in adjusted.all_layers() if lay.id == headline.id)
    assert after.color == darkest(plan) and after.stroke_color == "#FFFFFF" and after.stroke_width >= 2
    assert design.violations(adjusted, work) == []


def test_a_colour_that_does_not_read_gets_a_panel_with_the_panel_treatment(built):
    plan, work = built["reel_panel"]
    headline = next(layer for layer in editable(plan) if layer.role == "headline")
    adjusted = apply_adjustments(plan, Adjustments(colors={headline.id: darkest(plan)}), base_dir=work)
    assert f"{headline.id}_panel" in {layer.id for layer in adjusted.all_layers()}
    assert design.violations(adjusted, work) == []


def test_a_colour_that_does_not_read_is_refused_with_the_refuse_treatment(built):
    plan, work = built["reel_refuse"]
    headline = next(layer for layer in editable(plan) if layer.role == "headline")
    with pytest.raises(AdjustmentError) as info:
        apply_adjustments(plan, Adjustments(colors={headline.id: darkest(plan)}), base_dir=work)
    assert info.value.field == f"colors.{headline.id}" and "does not read" in info.value.message
    assert all(color in info.value.message for color in headline.readable_colors)


def wordings(layer: TextLayer):
    sourced = [figure.text for figure in layer.sources] or ["the"]
    words = st.text(st.characters(categories=["L", "M", "P", "Zs", "S"]), min_size=1, max_size=200)
    long_words = st.text(st.characters(categories=["Lu", "Ll"]), min_size=20, max_size=200)
    with_figures = st.lists(st.sampled_from(["OVER", "UNDER", "LOCK", "THE", "Allen", *sourced]),
                            min_size=1, max_size=40).map(" ".join)
    return st.one_of(words, long_words, with_figures)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(data=st.data())
def test_every_accepted_plan_keeps_the_rules_and_every_refusal_says_why(built, data):
    slug = data.draw(st.sampled_from(sorted(built)))
    plan, work = built[slug]
    target = data.draw(st.sampled_from(editable(plan)))
    text = data.draw(wordings(target))
    scale = data.draw(st.floats(0.5, 2.0))
    colour = data.draw(st.sampled_from(plan.palette))
    edits = {target.id: text} if text.strip() and len(text) <= 400 else {}
    adjustments = Adjustments(text_scale=scale, layer_scale={target.id: data.draw(st.floats(0.5, 2.0))},
                              text_edits=edits, colors={target.id: colour})
    try:
        adjusted = apply_adjustments(plan, adjustments, base_dir=work)
    except AdjustmentError as exc:
        assert exc.message and exc.field
    else:
        assert design.violations(adjusted, work) == []


# --- team colours


def test_every_team_of_the_four_leagues_has_two_distinct_colours_that_text_reads_on():
    from pipeline.contracts.base import _hex_color
    from pipeline.layers.l1_data.fixture import teams

    table = teams()
    assert {league: len(clubs) for league, clubs in table.items()} == {"nfl": 32, "nba": 30, "mlb": 30, "nhl": 32}
    for league, clubs in table.items():
        for abbreviation, (city, name, primary, secondary) in clubs.items():
            assert city and name and 2 <= len(abbreviation) <= 4, (league, abbreviation)
            assert _hex_color(primary) != _hex_color(secondary), (league, abbreviation)
            for colour in (primary, secondary):
                # the text colour the design guard gives text on this colour reaches the body-text ratio
                background = design.luminance(design.hex_rgb(colour))
                text = design.luminance(design.hex_rgb(design.outline_for(colour)))
                assert design.ratio(float(text), float(background)) >= design.BODY_RATIO, (league, abbreviation)
                assert design.readable(design.outline_for(colour), flat(colour), design.BODY_RATIO)


def flat(colour: str) -> str:
    """A backdrop key for a plain background of `colour` (no picture)."""
    import json as _json

    return _json.dumps({"rect": [0, 0, 64, 64], "size": [64, 64], "scenes": [{
        "background": {"color": colour}, "path": "", "mtime": 0.0, "scene": [0, 1], "range": [0, 1],
        "shapes": []}]}, sort_keys=True)


def test_a_team_from_any_league_gets_its_colours_not_grey():
    from pipeline.layers.l1_data.balldontlie import NEUTRAL
    from pipeline.layers.l1_data.fixture import team_colors

    for league, abbreviation in (("nfl", "PIT"), ("nba", "SAS"), ("mlb", "NYY"), ("nhl", "UTA")):
        colours = team_colors(league, abbreviation)
        assert colours and colours != NEUTRAL, (league, abbreviation)


def test_a_short_headline_scaled_past_the_largest_text_size_is_held_to_it(built):
    """The carousel's hook headline (104 px in the display face) cut to ":" and scaled by 2 twice asks
    for 416 px: the plan holds it at most at 400 (the contract's largest) and fits it, where the plan was refused with
    a ValidationError (found by hypothesis)."""
    plan, work = built["carousel_illustrated"]
    adjusted = apply_adjustments(plan, Adjustments(text_scale=2.0, layer_scale={"hook_headline": 2.0},
                                                   text_edits={"hook_headline": ":"}), base_dir=work)
    sized = next(layer for layer in adjusted.all_layers() if layer.id == "hook_headline")
    assert sized.size <= 400
    assert design.violations(adjusted, work) == []
