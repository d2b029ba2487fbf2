"""The post copy: L3 writes it, the plan carries it, a reviewer edits it (numbers from the data only), and each
platform's text stays inside that platform's limits with the responsible-gambling line whole."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline import post
from pipeline.contracts import Adjustments
from pipeline.contracts.plan import PostCopy
from pipeline.plan import AdjustmentError, apply_adjustments
from tests.pipeline.test_layers import run_through_l5, shipped

COMPLIANCE = shipped("reel_hype").compliance.text


def test_the_plan_carries_the_post_and_a_carousel_describes_its_slides(tmp_path):
    _, _, reel = run_through_l5(tmp_path / "reel", matchup_id="nfl-20261122-dal-phi")
    assert reel.post.caption.endswith(COMPLIANCE) and "Saquon Barkley" in reel.post.caption
    assert "#PhiladelphiaEagles" in reel.post.hashtags and reel.post.alt_text == {}
    _, _, carousel = run_through_l5(tmp_path / "carousel", "carousel_illustrated", matchup_id="nfl-20261122-dal-phi")
    assert set(carousel.post.alt_text) == {scene.segment_id for scene in carousel.scenes}
    assert all(text.startswith("Slide ") for text in carousel.post.alt_text.values())
    # each sentence ends once: a call to action "Your read?" is not followed by a full stop
    _, _, other = run_through_l5(tmp_path / "other", "carousel_illustrated", matchup_id="nfl-20261122-buf-kc")
    texts = [*carousel.post.alt_text.values(), *other.post.alt_text.values()]
    assert any("?" in text for text in texts)
    assert not any(mark in text for text in texts for mark in ("?.", "!.", ".."))
    # names as the data spells them, a spread with its team's letters
    assert "CeeDee Lamb." in carousel.post.alt_text["prop_3"] and "PHI -6.5." in carousel.post.alt_text["matchup"]
    # the players tagged are the ones in the piece: the reel's two picks, not the whole slate of the game
    _, outputs, _ = run_through_l5(tmp_path / "reel2", matchup_id="nfl-20261122-dal-phi")
    picks = {s.headline for s in outputs["L3"].segments if s.kind.value == "prop"}
    assert picks == {"SAQUON BARKLEY", "A.J. BROWN"}
    assert {tag for tag in reel.post.hashtags if tag in ("#SaquonBarkley", "#AJBrown", "#CeeDeeLamb",
                                                         "#JalenHurts")} == {"#SaquonBarkley", "#AJBrown"}


def test_a_reviewer_edits_the_post_and_its_numbers_must_be_the_datas(tmp_path):
    base, _, plan = run_through_l5(tmp_path, matchup_id="nfl-20261122-dal-phi")
    edited = apply_adjustments(plan, Adjustments(post_caption="Saquon over 94.5. " + COMPLIANCE,
                                                 post_hashtags="Eagles, #NFL nfl"), base_dir=tmp_path)
    assert edited.post.caption.startswith("Saquon over 94.5") and edited.post.hashtags == ["#Eagles", "#NFL"]
    with pytest.raises(AdjustmentError) as refused:
        apply_adjustments(plan, Adjustments(post_caption="Saquon over 99.5 tonight"), base_dir=tmp_path)
    assert refused.value.field == "post_caption" and "99.5" in refused.value.message
    with pytest.raises(AdjustmentError) as refused:
        apply_adjustments(plan, Adjustments(post_hashtags="#ok not-a-tag"), base_dir=tmp_path)
    assert refused.value.field == "post_hashtags"
    with pytest.raises(AdjustmentError):
        apply_adjustments(plan, Adjustments(alt_text={"hook": "a picture"}), base_dir=tmp_path)  # a reel


@given(head=st.text(min_size=1, max_size=900), middle=st.text(max_size=1500),
       tags=st.lists(st.from_regex(r"#[A-Za-z0-9_é]{1,30}", fullmatch=True), max_size=30, unique=True))
@settings(max_examples=150, deadline=None)
def test_every_platforms_text_fits_and_keeps_the_responsible_gambling_line(head, middle, tags):
    caption = "\n\n".join(part for part in (head.strip(), middle.strip(), COMPLIANCE) if part)[:2200]
    if not caption.endswith(COMPLIANCE):
        return
    copy = PostCopy(caption=caption, hashtags=tags)
    for name, limits in post.PLATFORMS.items():
        words = post.for_platform(copy, name)
        assert len(words) <= limits.max_chars, name
        assert COMPLIANCE in words, name
        assert sum(word.startswith("#") for word in words.split()) <= limits.max_hashtags + caption.count("#")
