"""Every layer contract accepts a valid example and refuses invalid ones, naming the field."""
import copy
import hashlib

import pytest
from pydantic import ValidationError

from pipeline.contracts import (
    Adjustments,
    AudioPackage,
    CalendarPlan,
    DataPackage,
    DistributionResult,
    JobInputs,
    MediaPackage,
    PresetConfig,
    RenderPlan,
    RenderResult,
    Script,
)
from pipeline.errors import ContractError
from pipeline.text import font_ref, layout

TEAM_HOME = {"id": "kc", "name": "Chiefs", "city": "Kansas City", "abbreviation": "KC",
             "primary_color": "#E31837", "secondary_color": "#FFB81C"}
TEAM_AWAY = {"id": "buf", "name": "Bills", "city": "Buffalo", "abbreviation": "BUF",
             "primary_color": "#00338D", "secondary_color": "#C60C30"}
PROP = {"id": "p1", "player": "Josh Allen", "team": "BUF", "market": "passing_yards", "label": "Passing Yards",
        "line": 275.5, "over_odds": -115, "under_odds": -105}
DATA = {"source": "fixture", "fetched_at": "2026-11-21T12:00:00Z", "odds_as_of": "2026-11-21T12:00:00Z",
        "matchup": {"id": "nfl-1", "sport": "nfl", "game_time": "2026-11-22T21:25:00Z", "home": TEAM_HOME,
                    "away": TEAM_AWAY, "spread": -2.5, "total": 47.5, "props": [PROP]}}


def with_change(data, path, value):
    """A deep copy of `data` with the dotted `path` set to `value` (or deleted when value is ...)."""
    result = copy.deepcopy(data)
    target = result
    parts = path.split(".")
    for part in parts[:-1]:
        target = target[int(part)] if isinstance(target, list) else target[part]
    if value is ...:
        del target[parts[-1]]
    elif isinstance(target, list):
        target[int(parts[-1])] = value
    else:
        target[parts[-1]] = value
    return result


def assert_invalid(model, data, field, context=None):
    with pytest.raises(ValidationError) as info:
        model.model_validate(data, context=context)
    locations = [".".join(str(p) for p in err["loc"]) for err in info.value.errors()]
    assert any(field in loc for loc in locations), locations


# --- L1


def test_l1_valid():
    package = DataPackage.model_validate(DATA)
    assert package.matchup.title == "BUF @ KC"
    assert package.matchup.prop("p1").line == 275.5


@pytest.mark.parametrize(("path", "value", "field"), [
    ("matchup.props.0.line", 0, "line"),
    ("matchup.props.0.line", -3.5, "line"),
    ("matchup.props", [], "props"),
    ("matchup.sport", "cricket", "sport"),
    ("matchup.props.0.over_odds", 50, "over_odds"),
    ("matchup.home.primary_color", "red", "primary_color"),
    ("matchup.game_time", "2026-11-22T21:25:00", "game_time"),
    ("matchup.props.0.team", "NYJ", "matchup"),
    ("matchup.away", TEAM_HOME, "matchup"),
    ("matchup.props.0.player", ..., "player"),
])
def test_l1_invalid(path, value, field):
    assert_invalid(DataPackage, with_change(DATA, path, value), field)


def test_contract_error_names_the_field_in_words():
    with pytest.raises(ValidationError) as info:
        DataPackage.model_validate(with_change(DATA, "matchup.props.0.line", -1))
    error = ContractError.from_validation(info.value, what="the L1 data", layer="L1", provider="goatedbets")
    assert "matchup.props.0.line" in error.describe()
    assert "greater than 0" in error.describe()
    assert error.describe().startswith("L1 goatedbets:")


# --- L2

CALENDAR = {"kind": "reel", "publish_at": "2026-11-22T17:00:00Z", "segments": [
    {"id": "hook", "kind": "hook", "target_s": 3},
    {"id": "prop_1", "kind": "prop", "target_s": 5, "prop_id": "p1"},
]}


def test_l2_valid():
    assert len(CalendarPlan.model_validate(CALENDAR).segments) == 2


@pytest.mark.parametrize(("path", "value", "field"), [
    ("segments", [], "segments"),
    ("segments.1.prop_id", None, "segments.1"),
    ("segments.0.target_s", 0, "target_s"),
    ("segments.1.id", "hook", ""),
    ("kind", "podcast", "kind"),
])
def test_l2_invalid(path, value, field):
    assert_invalid(CalendarPlan, with_change(CALENDAR, path, value), field)


# --- L3

SCRIPT = {"title": "BUF @ KC props", "segments": [{
    "id": "prop_1", "kind": "prop", "prop_id": "p1", "narration": "Josh Allen over 275.5 passing yards.",
    "headline": "JOSH ALLEN", "stat": "O 275.5", "body": "Passing yards",
    "figures": [{"text": "275.5", "field": "matchup.props[0].line", "value": 275.5}]}]}


def test_l3_valid():
    assert Script.model_validate(SCRIPT).segments[0].figures[0].field == "matchup.props[0].line"


@pytest.mark.parametrize(("path", "value", "field"), [
    ("segments.0.stat", "O 300.5", "segments.0"),          # a number with no source
    ("segments.0.figures.0.field", "props[0]", "field"),   # not a path into the L1 data
    ("segments", [], "segments"),
    ("segments.0.narration", "", "narration"),
    ("segments.0.headline", "X" * 81, "headline"),
])
def test_l3_invalid(path, value, field):
    assert_invalid(Script, with_change(SCRIPT, path, value), field)


# --- L4

AUDIO = {"narration": "L4/narration.wav", "sample_rate": 22050, "duration": 8.0, "segments": [
    {"segment_id": "hook", "start": 0, "end": 3.0, "words": [{"word": "Big", "start": 0.1, "end": 0.3}]},
    {"segment_id": "prop_1", "start": 3.0, "end": 8.0}]}


def test_l4_valid(tmp_path):
    (tmp_path / "L4").mkdir()
    (tmp_path / "L4/narration.wav").write_bytes(b"RIFF")
    assert AudioPackage.model_validate(AUDIO, context={"base_dir": tmp_path}).duration == 8.0


@pytest.mark.parametrize(("path", "value", "field"), [
    ("segments.1.start", 2.0, ""),
    ("segments.0.end", 0, "end"),
    ("duration", 7.0, ""),
    ("narration", "../../etc/passwd", "narration"),
    ("narration", "/etc/passwd", "narration"),
    ("sample_rate", 100, "sample_rate"),
])
def test_l4_invalid(path, value, field):
    assert_invalid(AudioPackage, with_change(AUDIO, path, value), field)


def test_l4_missing_file_is_refused(tmp_path):
    assert_invalid(AudioPackage, AUDIO, "narration", context={"base_dir": tmp_path})


# --- L5

def media(tmp_path):
    (tmp_path / "L5").mkdir(exist_ok=True)
    (tmp_path / "L5/bg.png").write_bytes(b"png")
    return {"assets": [{"segment_id": "hook", "role": "background", "file": "L5/bg.png", "width": 1080,
                        "height": 1920, "sha256": hashlib.sha256(b"png").hexdigest()}]}


def test_l5_valid(tmp_path):
    package = MediaPackage.model_validate(media(tmp_path), context={"base_dir": tmp_path})
    assert package.for_segment("hook", "background").width == 1080


def test_l5_files_must_exist(tmp_path):
    data = media(tmp_path)
    (tmp_path / "L5/bg.png").unlink()
    assert_invalid(MediaPackage, data, "file", context={"base_dir": tmp_path})


@pytest.mark.parametrize(("path", "value", "field"), [
    ("assets", [], "assets"), ("assets.0.sha256", "abc", "sha256"), ("assets.0.width", 0, "width"),
    ("assets.0.role", "poster", "role")])
def test_l5_invalid(tmp_path, path, value, field):
    assert_invalid(MediaPackage, with_change(media(tmp_path), path, value), field)


# --- RenderPlan


def plan_data():
    font = font_ref("DejaVu Sans Bold", "DejaVuSans-Bold.ttf")
    box = {"x": 40, "y": 40, "width": 600, "height": 300}
    from pipeline.contracts.plan import Box

    def lines(text, size, b):
        return [line.model_dump() for line in layout(text, font_file=font.file, size=size, box=Box(**b))]

    comp_box = {"x": 40, "y": 1800, "width": 1000, "height": 60}
    compliance = "21+ · Gambling problem? Call 1-800-GAMBLER"
    return {
        "kind": "reel", "width": 1080, "height": 1920, "fps": 30, "duration": 6.0,
        "fonts": [font.model_dump()], "palette": ["#FFFFFF", "#FFD400"],
        "audio": [],
        "scenes": [
            {"id": "s1", "start": 0, "end": 3, "background": {"color": "#000000"}, "layers": [
                {"type": "text", "id": "h1", "role": "headline", "text": "JOSH ALLEN OVER 275.5", "font": font.family,
                 "size": 80, "base_size": 80, "color": "#FFFFFF", "box": box, "start": 0.2, "end": 3,
                 "sources": [{"text": "275.5", "field": "matchup.props[0].line", "value": 275.5}],
                 "lines": lines("JOSH ALLEN OVER 275.5", 80, box)},
                {"type": "shape", "id": "card", "box": {"x": 20, "y": 20, "width": 100, "height": 100},
                 "fill": "#FFD400", "start": 0, "end": 3}]},
            {"id": "s2", "start": 3, "end": 6, "background": {"color": "#111111"}, "layers": []}],
        "overlay": [{"type": "text", "id": "compliance", "role": "compliance", "text": compliance,
                     "font": font.family, "size": 30, "base_size": 30, "color": "#FFFFFF", "box": comp_box,
                     "start": 0, "end": 6, "editable": False, "lines": lines(compliance, 30, comp_box)}],
    }


def test_plan_valid():
    plan = RenderPlan.model_validate(plan_data())
    assert plan.frame_count == 180
    assert [layer.id for layer in plan.all_layers()] == ["h1", "card", "compliance"]


@pytest.mark.parametrize(("path", "value", "field"), [
    ("overlay", [], ""),                                   # the compliance text is required
    ("scenes.1.start", 2.0, ""),                           # overlapping scenes
    ("duration", 5.0, ""),                                 # scenes past the end
    ("scenes.0.layers.0.font", "Comic Sans", ""),          # a font the plan does not carry
    ("scenes.0.layers.0.lines", [], "lines"),
    ("scenes.0.layers.1.type", "video", "scenes.0.layers.1"),
    ("scenes.0.layers.0.end", 0.1, ""),
    ("width", 10, "width"),
])
def test_plan_invalid(path, value, field):
    assert_invalid(RenderPlan, with_change(plan_data(), path, value), field)


# --- Adjustments


def test_adjustments_valid():
    adj = Adjustments.model_validate({"text_scale": 1.2, "timing_offset": -0.5, "text_edits": {"h1": " New "},
                                      "colors": {"h1": "#ffd400"}})
    assert adj.text_edits == {"h1": "New"} and adj.colors == {"h1": "#FFD400"}
    assert Adjustments().is_empty()


@pytest.mark.parametrize(("data", "field"), [
    ({"text_scale": 5}, "text_scale"), ({"timing_offset": 9}, "timing_offset"),
    ({"text_edits": {"h1": "  "}}, "text_edits"), ({"colors": {"h1": "blue"}}, "colors"),
    ({"layer_scale": {"h1": 0.1}}, "layer_scale"), ({"delete_compliance": True}, "delete_compliance"),
])
def test_adjustments_invalid(data, field):
    assert_invalid(Adjustments, data, field)


# --- L6, L7, job inputs, preset config


def test_l6_valid_and_invalid():
    good = {"plan_version": 2, "files": [{"kind": "video", "file": "L6/final.mp4", "sha256": "a" * 64,
                                         "bytes": 10, "width": 1080, "height": 1920, "duration": 30.0,
                                         "frames": 900, "video_codec": "h264", "audio_codec": "aac"}]}
    assert RenderResult.model_validate(good).files[0].frames == 900
    assert_invalid(RenderResult, with_change(good, "files", []), "files")
    assert_invalid(RenderResult, with_change(good, "plan_version", 0), "plan_version")
    assert_invalid(RenderResult, with_change(good, "files.0.kind", "gif"), "kind")


def test_l7_valid_and_invalid():
    good = {"destination": "folder", "location": "/srv/out", "delivered": ["final.mp4"], "idempotency_key": "k"}
    assert DistributionResult.model_validate(good).destination == "folder"
    assert_invalid(DistributionResult, with_change(good, "delivered", []), "delivered")
    assert_invalid(DistributionResult, with_change(good, "destination", "ftp"), "destination")


def test_job_inputs():
    assert JobInputs.model_validate({"sport": "nba", "date": "2026-11-21"}).date.day == 21
    assert_invalid(JobInputs, {"sport": "nba"}, "")
    assert_invalid(JobInputs, {"sport": "curling", "matchup_id": "x"}, "sport")
    assert_invalid(JobInputs, {"sport": "nba", "date": "tomorrow"}, "date")


def test_preset_config():
    config = PresetConfig.model_validate({"format": {"kind": "reel", "width": 1080, "height": 1920}})
    assert config.preview.enabled and config.compliance.text.startswith("21+")
    assert_invalid(PresetConfig, {"format": {"kind": "reel", "width": 10, "height": 1920}}, "format.width")
    assert_invalid(PresetConfig, {"format": {"kind": "reel", "width": 1080, "height": 1920},
                                  "compliance": {"text": "Gamble responsibly please"}}, "compliance.text")
    assert_invalid(PresetConfig, {"format": {"kind": "reel", "width": 1080, "height": 1920},
                                  "brand": {"text_color": "#123456"}}, "brand")
    assert_invalid(PresetConfig, {"format": {"kind": "reel", "width": 1080, "height": 1920},
                                  "segments": {"hook": False, "matchup": False, "props": 0, "cta": False}},
                   "segments")


def test_adjustment_fields_round_trip_and_merge():
    """The shared draft's unit: fields() lists what differs from the plan as built; with_fields sets and clears."""
    adjusted = Adjustments(text_scale=1.2, text_edits={"s2-title": "New"}, colors={"s2-title": "#FFFFFF"})
    assert adjusted.fields() == {"text_scale": 1.2, "text_edits.s2-title": "New", "colors.s2-title": "#FFFFFF"}
    assert Adjustments().with_fields(adjusted.fields()) == adjusted
    cleared = adjusted.with_fields({"text_scale": None, "text_edits.s2-title": None})
    assert cleared.fields() == {"colors.s2-title": "#FFFFFF"}
    with pytest.raises(ValueError, match="not something a reviewer can adjust"):
        adjusted.with_fields({"overlay": 1})
    with pytest.raises(ValidationError):
        adjusted.with_fields({"text_scale": 9})


def test_changes_in_words_cover_every_kind_of_field():
    from pipeline.contracts.adjustments import describe_changes

    after = Adjustments(layer_scale={"a": 1.5}, caption_edits={"0": "Josh Allen"}, colors={"a": "#FFD400"})
    assert describe_changes(Adjustments(), after) == [
        "Size of a 100 % → 150 %", "Colour of a changed to #FFD400", "Caption line 1 changed to “Josh Allen”"]
