"""The text sprites the review canvas composites (issue 25): L6's own pixels, named by what they depend on, and
the parity check's moments and scaling, the same on the page and the server."""
import io
import json

import numpy as np
import pytest
from django.core.cache import cache
from django.core.management import call_command
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from PIL import Image

from jobs.models import Job
from pipeline.contracts import RenderPlan
from pipeline.render import parity
from pipeline.render.compositor import Compositor, text_image
from presets.models import Preset

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def reel_job(db):
    from jobs import services

    call_command("load_presets", stdout=io.StringIO())
    job = services.job_create(preset=Preset.objects.get(slug="reel_hype"),
                              inputs={"sport": "nfl", "matchup_id": "nfl-20261122-dal-phi"})
    job.refresh_from_db()
    assert job.status == Job.Status.AWAITING_REVIEW, job.error_message
    return job


def plan_of(payload) -> RenderPlan:
    return RenderPlan.model_validate(payload["plan"])


def test_every_text_layer_comes_with_l6s_own_pixels(staff_client, reel_job):
    payload = staff_client.get(f"/studio/jobs/{reel_job.pk}/plan").json()
    plan = plan_of(payload)
    texts = {layer.id: layer for layer in plan.all_layers() if layer.type == "text"}
    assert set(payload["sprites"]) == set(texts)
    for layer_id, sprite in list(payload["sprites"].items())[:4]:
        answer = staff_client.get(sprite["url"])
        assert answer.status_code == 200 and answer["Content-Type"] == "image/png"
        assert "immutable" in answer["Cache-Control"]
        served = np.asarray(Image.open(io.BytesIO(b"".join(answer.streaming_content) if answer.streaming
                                                  else answer.content)).convert("RGBA"))
        drawn, x, y = text_image(texts[layer_id], plan)
        assert (x, y, drawn.width, drawn.height) == (sprite["x"], sprite["y"], sprite["width"], sprite["height"])
        assert np.array_equal(served, np.asarray(drawn))


def test_an_adjustment_renames_only_the_sprites_it_changes(staff_client, reel_job):
    before = staff_client.get(f"/studio/jobs/{reel_job.pk}/plan").json()
    plan = plan_of(before)
    layer = next(layer for layer in plan.all_layers() if layer.type == "text" and layer.editable)
    after = staff_client.post(f"/studio/jobs/{reel_job.pk}/plan", json.dumps(
        {"adjustments": {"colors": {layer.id: next(c for c in plan.palette if c != layer.color)}}}),
        content_type="application/json")
    assert after.status_code == 200, after.content
    changed = {key for key, sprite in after.json()["sprites"].items() if sprite["url"] != before["sprites"][key]["url"]}
    assert changed == {layer.id}


def test_a_sprite_the_cache_forgot_is_drawn_again_and_an_unknown_one_is_not_found(staff_client, client, reel_job):
    payload = staff_client.get(f"/studio/jobs/{reel_job.pk}/plan").json()
    url = next(iter(payload["sprites"].values()))["url"]
    cache.clear()
    assert staff_client.get(url).status_code == 200
    assert staff_client.get(url.rsplit("/", 1)[0] + "/" + "0" * 32 + ".png").status_code == 404
    assert client.get(url).status_code in (302, 401, 403)  # not for anyone who is not on the desk


@hsettings(max_examples=200, deadline=None)
@given(fps=st.sampled_from([12, 24, 25, 30, 50, 60]), frames=st.integers(2, 3000), data=st.data())
def test_the_page_and_the_server_pick_the_same_frame_for_a_snapshot(fps, frames, data):
    """The page draws frame floor(t * fps) of each snapshot time and sends it under t to three decimals; the
    server reads that key back to the same frame, whatever the frame rate and the moment."""
    frame = data.draw(st.integers(0, frames - 1))
    t = round((frame + 0.5) / fps, 4)  # as snapshot_times gives it
    page_frame = min(int(np.floor(t * fps + 1e-6)), frames - 1)
    duration = frames / fps
    plan = RenderPlan.model_construct(fps=fps, duration=duration)
    assert parity.snapshot_frame(plan, f"{t:.3f}") == page_frame == frame


@hsettings(max_examples=300, deadline=None)
@given(key=st.one_of(st.text(max_size=12), st.sampled_from(["inf", "-inf", "nan", "1e999", "-1", "1e308", " 2.5 "])))
def test_any_snapshot_key_a_page_sends_is_a_frame_or_left_out(key):
    """The keys of the snapshots come from the page (anyone's page): each is a frame of the piece or None, never
    an error (an infinite time once met int() and raised)."""
    plan = RenderPlan.model_construct(fps=30, duration=10.0)
    frame = parity.snapshot_frame(plan, key)
    assert frame is None or 0 <= frame < 300


def test_a_snapshot_shrunk_as_the_page_shrinks_it_scores_one(tmp_path):
    """The page's block average is PIL's reduce, so the same frame on both sides compares as identical (a bilinear
    shrink on one side and the browser's smoothing on the other read 0.983-0.993 for the same picture)."""
    from tests.pipeline.test_render import make_plan

    plan = make_plan(tmp_path, scenes=2, seconds=0.5)
    frame = Compositor(plan, tmp_path).frame(0.3)
    factor = max(1, frame.shape[1] // 90)
    h, w = -(-frame.shape[0] // factor), -(-frame.shape[1] // factor)
    padded = np.zeros((h * factor, w * factor, 3), np.float64)
    counts = np.zeros((h * factor, w * factor, 1), np.float64)
    padded[:frame.shape[0], :frame.shape[1]] = frame
    counts[:frame.shape[0], :frame.shape[1]] = 1
    sums = padded.reshape(h, factor, w, factor, 3).sum(axis=(1, 3))
    n = counts.reshape(h, factor, w, factor, 1).sum(axis=(1, 3))
    page = np.floor((sums + n / 2) / n).astype(np.uint8)  # canvas.js snapshot: round half up
    assert parity.compare(page, frame) == 1.0


def test_a_difference_nobody_sees_is_not_one_and_a_wrong_word_is(tmp_path):
    """parity.visible_difference: a frame one pixel off and through JPEG (SSIM well under 1) differs in nothing a
    person sees; a patch of wrong colour the size of a word does, boxed where it is."""
    from tests.pipeline.test_render import make_plan

    plan = make_plan(tmp_path, scenes=2, seconds=0.5)
    frame = Compositor(plan, tmp_path).frame(0.3)
    snapshot = np.asarray(Image.fromarray(frame).reduce(4))
    shifted = np.roll(frame, 1, axis=1)
    out = io.BytesIO()
    Image.fromarray(shifted).save(out, format="JPEG", quality=70)
    lossy = np.asarray(Image.open(io.BytesIO(out.getvalue())).convert("RGB"))
    assert parity.compare(snapshot, lossy) < 1.0
    assert parity.visible_difference(snapshot, lossy) is None
    wrong = frame.copy()
    wrong[400:440, 100:260] = (255, 0, 200)
    found = parity.visible_difference(snapshot, wrong)
    assert found is not None and found["frame"].startswith("data:image/jpeg;base64,")
    x0, y0, x1, y1 = found["box"]
    assert (23 <= x0 <= 26, 98 <= y0 <= 101, 64 <= x1 <= 68, 109 <= y1 <= 113) == (True,) * 4, found["box"]
