"""Suggestions at review: each check finds what it looks for on real pictures and plans, stays quiet on the
shipped art, and its fix passes the design guard when applied."""
import json

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from PIL import Image, ImageFilter

from pipeline import suggestions
from pipeline.contracts import Adjustments, RenderPlan
from pipeline.contracts.plan import TextLayer
from pipeline.layers.l5_media import procedural
from pipeline.plan import apply_adjustments
from pipeline.text import font_ref, layout

FONT = font_ref("DejaVu Sans Bold", "DejaVuSans-Bold.ttf")
BOX = {"x": 100, "y": 500, "width": 880, "height": 260}


def text_layer(text: str, *, size=96, base_size=96, color="#FFFFFF", readable=None, layer_id="s1_headline"):
    from pipeline.contracts.plan import Box

    return {"type": "text", "id": layer_id, "role": "headline", "text": text, "font": FONT.family, "size": size,
            "base_size": base_size, "color": color, "box": BOX, "start": 0.2, "end": 2.0,
            "readable_colors": readable or [],
            "lines": [line.model_dump() for line in layout(text, font_file=FONT.file, size=size,
                                                            box=Box.model_validate(BOX))]}


COMPLIANCE = "21+ · Gambling problem? Call 1-800-GAMBLER"


def compliance() -> dict:
    from pipeline.contracts.plan import Box

    box = {"x": 60, "y": 1450, "width": 960, "height": 60}
    return {"type": "text", "id": "compliance", "role": "compliance", "text": COMPLIANCE, "font": FONT.family,
            "size": 30, "base_size": 30, "color": "#FFFFFF", "box": box, "start": 0, "end": 2.0, "editable": False,
            "lines": [line.model_dump() for line in layout(COMPLIANCE, font_file=FONT.file, size=30,
                                                            box=Box.model_validate(box))]}


def plan_with(layer: dict, background: str | None = None) -> RenderPlan:
    return RenderPlan.model_validate({
        "kind": "reel", "width": 1080, "height": 1920, "fps": 30, "duration": 2.0, "fonts": [FONT.model_dump()],
        "palette": ["#FFD400", "#FFFFFF", "#0B0F1A", "#19E68C"],
        "scenes": [{"id": "s1", "start": 0, "end": 2.0, "layers": [layer],
                    "background": {"asset": background} if background else {"color": "#102030"}}],
        "overlay": [compliance()]})


def save(image: Image.Image, folder, name="bg.jpg") -> str:
    image.save(folder / name, quality=90)
    return name


def test_a_shrunk_text_gets_a_shorter_wording_that_fits_at_its_size(tmp_path):
    """given a headline the guard shrank to 60 %, the fix is words that fit at full size, numbers kept, and the
    fix applied passes the design guard at that size."""
    long = "THE BILLS ARE REALLY GOING TO COVER THE 2.5 IN KANSAS CITY TONIGHT"
    plan = plan_with(text_layer(long, size=58))
    [found] = [s for s in suggestions.review_suggestions(plan, Adjustments(), base_dir=tmp_path, accent="#FFD400")
               if s.check == "fit"]
    assert found.layer == "s1_headline" and "60 %" in found.message
    wording = found.fix.changes["text_edits.s1_headline"]
    assert len(wording) < len(long) and "2.5" in wording
    assert suggestions.design.fits(wording, plan.scenes[0].layers[0].model_dump(mode="json"), FONT.file, 96)


def test_a_text_at_its_size_gets_no_fit_suggestion(tmp_path):
    plan = plan_with(text_layer("BILLS BY 3", size=96))
    assert not [s for s in suggestions.review_suggestions(plan, Adjustments(text_scale=1.0), base_dir=tmp_path,
                                                          accent="#FFD400") if s.check == "fit"]


def test_a_colour_that_needs_help_to_read_gets_the_one_that_reads(tmp_path):
    plan = plan_with(text_layer("BILLS BY 3", color="#FFD400", readable=["#FFFFFF", "#19E68C"]))
    [found] = [s for s in suggestions.review_suggestions(plan, Adjustments(), base_dir=tmp_path, accent="#19E68C")
               if s.check == "contrast"]
    assert found.fix.changes == {"colors.s1_headline": "#FFFFFF"}


def test_a_soft_picture_and_a_dark_one_get_another_image(tmp_path):
    art = procedural.energy(1080, 1920, "#00338D", "#C60C30", "s")
    soft = save(art.filter(ImageFilter.GaussianBlur(4)), tmp_path, "soft.jpg")
    found = suggestions.review_suggestions(plan_with(text_layer("X"), soft), Adjustments(), base_dir=tmp_path,
                                           accent="#FFD400")
    assert [(s.check, s.fix.regenerate) for s in found] == [("sharpness", "s1")]
    dark = save(Image.new("RGB", (1080, 1920), (3, 3, 5)), tmp_path, "dark.jpg")
    found = suggestions.review_suggestions(plan_with(text_layer("X"), dark), Adjustments(), base_dir=tmp_path,
                                           accent="#FFD400")
    assert {s.check for s in found} >= {"exposure"} and "too dark" in found[-1].message


@pytest.mark.parametrize("style", sorted(procedural.STYLES))
def test_the_shipped_art_raises_no_picture_suggestion(tmp_path, style):
    for colours in [("#00338D", "#C60C30"), ("#E31837", "#FFB81C"), ("#0B0F1A", "#FFFFFF")]:
        name = save(procedural.STYLES[style](1080, 1920, *colours, "s"), tmp_path)
        found = suggestions.review_suggestions(plan_with(text_layer("X"), name), Adjustments(), base_dir=tmp_path,
                                               accent="#FFD400")
        assert not [s for s in found if s.check in ("sharpness", "exposure")], (style, colours, found)


def test_an_accent_lost_in_its_picture_gets_a_colour_that_stands_out(tmp_path):
    yellow = save(procedural.energy(1080, 1920, "#E0B000", "#FFD400", "s"), tmp_path)
    plan = plan_with(text_layer("BILLS BY 3", color="#FFD400"), yellow)
    [found] = [s for s in suggestions.review_suggestions(plan, Adjustments(), base_dir=tmp_path, accent="#FFD400")
               if s.check == "harmony"]
    colour = found.fix.changes["colors.s1_headline"]
    assert colour != "#FFD400" and colour in plan.palette


def test_fixes_apply_through_the_one_function(tmp_path):
    """A suggestion's fix is ordinary adjustment fields: applied, it passes apply_adjustments."""
    long = "THE BILLS ARE REALLY GOING TO COVER IN KANSAS CITY TONIGHT FOR SURE"
    plan = plan_with({**text_layer(long, size=58), "editable": True})
    fix = next(s for s in suggestions.review_suggestions(plan, Adjustments(), base_dir=tmp_path, accent="#FFD400")
               if s.check == "fit").fix
    adjusted = apply_adjustments(plan, Adjustments().with_fields(fix.changes), base_dir=tmp_path)
    assert adjusted.scenes[0].layers[0].size == 96


def test_a_critique_becomes_suggestions_and_names_only_what_the_plan_has():
    plan = plan_with(text_layer("BILLS BY 3"))
    text = json.dumps({"critiques": [
        {"scene": "s1", "layer": "s1_headline", "problem": "The headline sits on the player's face.",
         "wording": "BILLS COVER"},
        {"scene": "nowhere", "layer": "ghost", "problem": "Something else.", "wording": "X"}]})
    first, second = suggestions.parse_critique("```json\n" + text + "\n```", plan)
    assert first.fix.changes == {"text_edits.s1_headline": "BILLS COVER"} and first.scene == "s1"
    assert second.layer is None and second.scene is None and second.fix is None


@hsettings(max_examples=80, deadline=None)
@given(text=st.text(max_size=200) | st.builds(json.dumps, st.recursive(
    st.none() | st.booleans() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(
        ["critiques", "scene", "layer", "problem", "wording"]) | st.text(max_size=5), inner, max_size=4),
    max_leaves=10)))
def test_any_model_answer_is_suggestions_or_a_value_error(text):
    plan = plan_with(text_layer("BILLS BY 3"))
    try:
        found = suggestions.parse_critique(text, plan)
    except ValueError:
        return
    assert all(s.check == "critique" and s.message for s in found)


def test_a_shorter_wording_is_a_phrase_never_a_fragment(tmp_path):
    """given: a headline shrunk to fit ("COWBOYS AT EAGLES: DON'T SLEEP ON THIS ONE")
    then: the one-click wording is a whole clause of it ("COWBOYS AT EAGLES"), never a run cut after a word that
    needs another ("COWBOYS AT")"""
    long = "COWBOYS AT EAGLES: DON'T SLEEP ON THIS ONE"
    layer = TextLayer.model_validate(text_layer(long, size=40, base_size=100))
    wording = suggestions.shorter_wording(layer, FONT.file, 100)
    assert wording == "COWBOYS AT EAGLES"


@hsettings(max_examples=80, deadline=None)
@given(words=st.lists(st.sampled_from(["COWBOYS", "AT", "EAGLES:", "DON'T", "SLEEP", "ON", "THIS", "ONE", "THE",
                                       "OVER", "94.5", "BARKLEY", "IS", "THE", "PLAY,", "LOCK", "IT", "IN"]),
                      min_size=2, max_size=12), size=st.integers(60, 200))
def test_no_shortening_ends_on_a_word_that_needs_another(words, size):
    text = " ".join(words)
    layer = TextLayer.model_validate(text_layer(text, size=40, base_size=size))
    wording = suggestions.shorter_wording(layer, FONT.file, size)
    if wording is not None:
        lean = " ".join(w for w in words if w.lower().strip(",.!?") not in suggestions.FILLER
                        or suggestions.numbers_in(w)).rstrip(",;:-–")
        last = wording.split()[-1].lower().strip(",.!?;:")
        clause_ends = {w.lower().strip(",.!?;:") for w in words if w.endswith((",", ";", ":"))}
        assert last not in suggestions.DANGLING or wording == lean or last in clause_ends, wording
        assert set(suggestions.numbers_in(text)) <= set(suggestions.numbers_in(wording))
