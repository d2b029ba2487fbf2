"""Every message a person reads names a plan's parts as the review page labels them (pipeline/labels.py), never by
their ids (issue 28: "hook_headline was shrunk to 61 %", "caption_edits.2")."""
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.contracts import Adjustments
from pipeline.contracts.adjustments import describe_changes
from pipeline.labels import Labels
from tests.pipeline.test_layers import run_through_l5

ID = re.compile(r"\b[a-z]+_[a-z0-9_]+\b")


def test_a_reels_and_a_carousels_parts_are_named_as_the_page_names_them(tmp_path):
    _, _, reel = run_through_l5(tmp_path / "reel", matchup_id="nfl-20261122-dal-phi")
    labels = Labels(reel)
    named = [labels.scene(s.id) for s in reel.scenes]
    assert named[0] == "Hook" and {"Matchup", "Pick 1", "Pick 1, numbers", "Pick 2", "Call to action"} <= set(named)
    pick = next(s for s in reel.scenes if s.id == "prop_1")
    headline = next(layer for layer in pick.layers if getattr(layer, "role", "") == "headline")
    assert labels.layer(headline.id) == "Pick 1 headline"
    assert labels.field(f"text_edits.{headline.id}") == "Pick 1 headline (words)"
    assert labels.field("caption_edits.2") == "Caption line 3"
    assert labels.field("captions_off.prop_1") == "Captions during Pick 1"
    assert labels.field("text_scale") == "Text size"
    changes = describe_changes(Adjustments(), Adjustments(text_edits={headline.id: "TAKE IT"}, caption_edits={
        "0": "COWBOYS AT EAGLES", }, captions_off={"prop_1": True}, layer_scale={headline.id: 1.2}), labels)
    assert changes == ["Size of Pick 1 headline 100 % → 120 %", "Text of Pick 1 headline changed to “TAKE IT”",
                       "Caption line 1 changed to “COWBOYS AT EAGLES”", "Captions off during Pick 1"]
    assert not any(ID.search(change) for change in changes)
    _, _, carousel = run_through_l5(tmp_path / "carousel", "carousel_illustrated", matchup_id="nfl-20261122-dal-phi")
    slides = Labels(carousel)
    assert [slides.scene(s.id) for s in carousel.scenes][2] == "Slide 3 (Pick 1)"
    assert slides.field(f"alt_text.{carousel.scenes[2].id}") == "Alt text, slide 3"
    assert slides.say(f"the text of {headline.id} cannot be empty") == \
        f"the text of {slides.layer(headline.id)} cannot be empty"


@settings(max_examples=60, deadline=None)
@given(text=st.text(max_size=80))
def test_saying_a_message_replaces_only_ids(tmp_path_factory, text):
    """Any message: the words that are not ids come out as they went in, and no id of the plan is left."""
    global _PLAN
    if "_PLAN" not in globals():
        _PLAN = run_through_l5(tmp_path_factory.mktemp("plan"), matchup_id="nfl-20261122-dal-phi")[2]
    labels = Labels(_PLAN)
    ids = [i for i in labels.layers if "_" in i]
    said = labels.say(text)
    if not any(i in text for i in ids):
        assert said == text
    mixed = labels.say(f"{text} {ids[0]} and hook")
    assert mixed.endswith(f"{labels.layer(ids[0])} and hook")


def test_script_segments_are_called_as_people_call_them():
    from pipeline.labels import segment_label

    assert [segment_label(s) for s in ("hook", "matchup", "prop_2", "cta", "odd_one")] == [
        "Hook", "Matchup", "Pick 2", "Call to action", "Odd one"]
