"""What a brand would post, held over the shipped slate: the hype reel's hook on its first frame, its length, a new
picture or graphic at least every 4 s, its display face, its music, its transitions and its data graphics."""
import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.contracts.l3 import numbers_in
from pipeline.contracts.plan import ShapeLayer, TextLayer
from pipeline.layers.l1_data.fixture import FixtureData
from pipeline.layers.l3_ideas.sources import resolve
from tests.pipeline.test_layers import run_through_l5, shipped

SLATE = [matchup.id for matchup in
         FixtureData(options={}, ctx=None).slate(sport="nfl", date=dt.date(2026, 11, 22)).matchups]


def arrivals(plan) -> list[float]:
    """When something new comes on screen: a scene, a layer of it, an overlay layer."""
    times = {scene.start for scene in plan.scenes}
    times |= {layer.start for scene in plan.scenes for layer in scene.layers}
    times |= {layer.start for layer in plan.overlay if layer.type != "captions"}
    return sorted(times)


@pytest.mark.parametrize("matchup_id", SLATE)
def test_the_hype_reel_is_what_a_brand_posts(tmp_path, matchup_id):
    preset = shipped("reel_hype")
    _, outputs, plan = run_through_l5(tmp_path, matchup_id=matchup_id)
    # the hook's headline is on the first frame, whole (no entrance)
    hook = plan.scenes[0]
    headline = next(layer for layer in hook.layers if isinstance(layer, TextLayer) and layer.role == "headline")
    assert headline.start == 0 and headline.motion.enter == "none"
    # 15 to 30 s, and never more than 4 s without something new arriving
    assert 15 <= plan.duration <= 30, plan.duration
    times = [*arrivals(plan), plan.duration]
    gaps = [after - before for before, after in zip(times, times[1:], strict=False)]
    assert max(gaps) <= 4.0, (max(gaps), times)
    # the display face, the music bed, transitions, data graphics that grow
    assert {font.family for font in plan.fonts} >= {preset.brand.heading_font.family}
    assert "Bebas" in preset.brand.heading_font.family
    assert [track.role for track in plan.audio] == ["narration", "music"]
    assert all(scene.transition is not None for scene in plan.scenes[1:])
    grown = [layer for scene in plan.scenes for layer in scene.layers
             if isinstance(layer, ShapeLayer) and layer.motion.enter in ("grow_up", "grow_right")]
    assert len(grown) >= 3
    # each prop's last five games as bars, the line across them
    for scene in plan.scenes:
        if scene.id.startswith("prop_") and scene.id.endswith("_numbers"):
            bars = [layer for layer in scene.layers if layer.type == "shape" and layer.motion.enter == "grow_up"]
            assert len(bars) == 5 and any(layer.id.endswith("_line_mark") for layer in scene.layers)
    # every number shown is an L1 field's, at the value the data has
    for layer in plan.all_layers():
        if isinstance(layer, TextLayer) and layer.role not in ("compliance", "stamp"):
            assert set(numbers_in(layer.text)) <= {f.text.lstrip("+") for f in layer.sources}, layer.text
            for figure in layer.sources:
                assert resolve(outputs["L1"], figure.field) == figure.value, figure


@pytest.mark.parametrize("sport", ["nfl", "nba", "nhl", "mlb"])
def test_each_sport_has_its_own_ground_dark_enough_for_white_text(sport):
    """The arena look: the sport's own lines on the ground (the picture differs from the same light without them
    and from every other sport's), under stadium light, dark enough that the brand's white text reads on it
    without help (WCAG contrast of white on its median at least 4.5)."""
    import numpy as np

    from pipeline import design
    from pipeline.layers.l5_media import procedural

    ground = np.asarray(procedural.arena(540, 960, "#004C54", "#A5ACAF", "x", sport=sport), dtype=float)
    others = [np.asarray(procedural.arena(540, 960, "#004C54", "#A5ACAF", "x", sport=other), dtype=float)
              for other in ("nfl", "nba", "nhl", "mlb") if other != sport]
    assert all(np.abs(ground - other).mean() > 2.0 for other in others)
    median = float(np.median(design.luminance(ground)))
    assert design.ratio(1.0, median) >= 4.5, median
    # the lines are drawn on the ground: its lower half has thin bright strokes the stands do not
    lower = ground[600:, :, :].mean(axis=2)
    assert (lower > np.median(lower) + 25).mean() > 0.002


def test_the_shipped_sample_carries_each_props_last_five_games_consistent_with_their_average():
    """The fixture slate's last games are the games its last-five averages are the mean of."""
    slate = FixtureData(options={}, ctx=None).slate(sport="nfl", date=dt.date(2026, 11, 22))
    for matchup in slate.matchups:
        for prop in matchup.props:
            assert len(prop.last5) == 5
            assert abs(sum(prop.last5) / 5 - prop.last5_avg) < 0.051, (prop.player, prop.last5, prop.last5_avg)


@settings(max_examples=60, deadline=None)
@given(games=st.lists(st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-10, 10**6),
                                st.text(max_size=4), st.none()), max_size=8))
def test_an_upstreams_last_games_are_held_to_the_contract(games):
    """Whatever a provider sends as a player's last games: at most five numbers, none negative or not finite,
    or the prop is refused naming the field (never a bar drawn from NaN)."""
    from pydantic import ValidationError

    from pipeline.contracts.l1 import PlayerProp

    base = {"id": "p", "player": "A B", "team": "KC", "market": "points", "label": "Points", "line": 20.5,
            "over_odds": -110, "under_odds": -110}
    try:
        prop = PlayerProp.model_validate({**base, "last5": games})
    except ValidationError as exc:
        assert any(error["loc"][0] == "last5" for error in exc.errors())
        return
    assert len(prop.last5) <= 5
    assert all(isinstance(v, float) and v >= 0 and v == v and v not in (float("inf"),) for v in prop.last5)


@settings(max_examples=100, deadline=None)
@given(number=st.from_regex(r"\A\d{1,5}(\.\d{1,2})?\Z"), duration=st.floats(0.1, 3.0))
def test_a_counter_runs_up_to_its_number_and_never_past_it(number, duration):
    """From zero, never down, in the number's own decimals, never over it; the text as written once it is done."""
    from types import SimpleNamespace

    from pipeline.motion import count_text

    layer = SimpleNamespace(start=1.0, count=SimpleNamespace(number=number, duration=duration))
    shown = [count_text(layer, 1.0 + duration * i / 40) for i in range(40)]
    values = [float(text) for text in shown]
    assert values[0] == 0 and values == sorted(values) and values[-1] <= float(number)
    assert all(len(text.partition(".")[2]) == len(number.partition(".")[2]) for text in shown)
    assert count_text(layer, 1.0 + duration) is None and count_text(layer, 0.99) is None


def test_the_numbers_shots_count_their_figures_up():
    """Each game's figure and each side's win probability runs up as its bar grows; a count names a number the
    text shows."""
    import tempfile
    from pathlib import Path

    from pydantic import ValidationError

    from pipeline.contracts.plan import TextLayer

    with tempfile.TemporaryDirectory() as folder:
        _, _, plan = run_through_l5(Path(folder))
    counting = [layer for scene in plan.scenes for layer in scene.layers if getattr(layer, "count", None)]
    assert {layer.id.split("_")[0] for layer in counting} >= {"matchup", "prop"}
    assert all(layer.count.number in layer.text for layer in counting)
    data = counting[0].model_dump(mode="json")
    data["count"]["number"] = "999"
    with pytest.raises(ValidationError, match="counts 999"):
        TextLayer.model_validate(data)
