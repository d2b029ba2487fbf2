"""The review studio in Debian's Chromium, against the real server and worker processes."""
import base64
import datetime as dt
import io
import logging
import re
import time

import numpy as np
import pytest
from django.core.management import call_command
from PIL import Image

from jobs import services
from jobs.models import Job, Render
from pipeline.contracts import RenderPlan
from pipeline.media import ffmpeg
from pipeline.render.compositor import Compositor
from pipeline.render.quality import ssim
from presets.models import Preset
from tests.browser.helpers import off_loop, screenshot_path, upcoming, wait_for_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PARITY_BAR = 0.98


@pytest.fixture
def presets(db):
    call_command("load_presets", stdout=io.StringIO())
    return {p.slug: p for p in Preset.objects.all()}


def job_in_review(preset, matchup=None) -> Job:
    matchup = matchup or upcoming()
    job = off_loop(services.job_create, preset=preset,
                   inputs={"sport": matchup.split("-")[0], "matchup_id": matchup})
    job.refresh_from_db()
    assert job.status == Job.Status.AWAITING_REVIEW, job.error_message
    return job


def open_review(page, job):
    page.goto(f"/studio/jobs/{job.pk}/")
    page.wait_for_function("window.studio && window.studio.ready === true", timeout=20000)
    assert page.errors == []


def canvas_at(page, t: float) -> np.ndarray:
    data_url = page.evaluate("(t) => { studio.view.drawAt(t); return studio.view.canvas.toDataURL('image/png'); }", t)
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(data_url.split(",", 1)[1]))).convert("RGB"))


def page_plan(page) -> RenderPlan:
    return RenderPlan.model_validate(page.evaluate("studio.view.plan"))


def caption_moments(plan) -> set[float]:
    """Times in the middle of caption words and exactly at word boundaries, across the piece."""
    layer = next((item for item in plan.overlay if item.type == "captions"), None)
    if layer is None:
        return set()
    moments = set()
    for group in layer.groups[:: max(1, len(layer.groups) // 3)][:3]:
        word = group.words[min(1, len(group.words) - 1)]
        moments |= {word.start, round((word.start + word.end) / 2, 4)}
    return moments


def entrance_moments(plan) -> set[float]:
    """Halfway through each scene's first fading or sliding text: where a text drawn in two parts (outline, then
    fill, each faded) showed through itself."""
    moments = set()
    for scene in plan.scenes:
        layer = next((item for item in scene.layers if item.type == "text" and item.motion.enter_s > 0), None)
        if layer is not None:
            moments.add(round(layer.start + layer.motion.enter_s / 2, 4))
    return moments


def motion_moments(plan) -> set[float]:
    """Halfway through each scene's transition, each data graphic's growth and each counter: where the two
    renderers' blends, shifts, zooms, part-drawn bars and running numbers meet."""
    moments = {round(scene.start + scene.transition.duration / 2, 4) for scene in plan.scenes if scene.transition}
    moments |= {round(layer.start + layer.motion.enter_s / 2, 4) for scene in plan.scenes for layer in scene.layers
                if layer.motion.enter in ("grow_up", "grow_right")}
    moments |= {round(layer.start + layer.count.duration / 2, 4) for scene in plan.scenes for layer in scene.layers
                if getattr(layer, "count", None)}
    return moments


def assert_sprites(page, plan) -> None:
    """Every text layer is composited from the sprite L6's compositor drew for it, not set by the browser."""
    texts = {layer.id for layer in plan.all_layers() if layer.type == "text"}
    page.wait_for_function("Object.values(studio.view.payload.sprites).every(s => studio.view.sprites.has(s.url))",
                           timeout=10000)
    assert set(page.evaluate("Object.keys(studio.view.payload.sprites)")) == texts


def assert_parity(page, job, label: str) -> list[float]:
    plan = page_plan(page)
    assert_sprites(page, plan)
    compositor = Compositor(plan, job.work_dir)
    times = sorted({round(s.start + min(0.7, (s.end - s.start) / 2), 3) for s in plan.scenes} | {0.05}
                   | caption_moments(plan) | entrance_moments(plan) | motion_moments(plan))
    scores = []
    for t in times:
        score = ssim(canvas_at(page, t), compositor.frame(t))
        scores.append(score)
        assert score >= PARITY_BAR, f"{label}: canvas vs frame_at at {t}s: SSIM {score:.4f}"
    return scores


def test_studio_lists_jobs_and_starts_one(staff_page, presets):
    page = staff_page
    existing = job_in_review(presets["single_image_stat"])
    page.goto("/studio/")
    assert page.locator(f"tr[data-job='{existing.pk}']").count() == 1
    page.wait_for_function("document.getElementById('id_matchup_id').options.length > 1", timeout=10000)
    page.select_option("#id_preset", "reel_hype")
    page.select_option("#id_sport", "nba")
    day = dt.date.today() + dt.timedelta(days=7)  # a game still to come: the form asks nothing more
    page.fill("#id_date", day.isoformat())
    page.locator("#id_date").dispatch_event("change")
    page.wait_for_function(
        "[...document.getElementById('id_matchup_id').options].some(o => o.value.includes('nyk-bos'))", timeout=10000)
    page.select_option("#id_matchup_id", f"nba-{day:%Y%m%d}-nyk-bos")
    page.click("#start-form button[type=submit]")
    page.wait_for_url("**/studio/jobs/*/", timeout=10000)
    job = Job.objects.exclude(pk=existing.pk).get()
    assert job.inputs["matchup_id"] == f"nba-{day:%Y%m%d}-nyk-bos" and job.created_by is not None
    # the worker cluster runs it; layer progress arrives over the socket until the page shows the review
    page.wait_for_function("window.studio && window.studio.ready === true && document.getElementById('review')",
                           timeout=60000)
    job.refresh_from_db()
    assert job.status == Job.Status.AWAITING_REVIEW


def test_start_form_shows_field_errors(staff_page, presets):
    """A game that kicked off days ago: the picker marks it, the form refuses it in words and asks whether the
    desk means it; ticking the box starts it."""
    page = staff_page
    page.goto("/studio/")
    assert "Sample data in" in page.inner_text("#sample-notice")
    day = dt.date.today() - dt.timedelta(days=3)
    page.fill("#id_date", day.isoformat())
    page.locator("#id_date").dispatch_event("change")
    page.wait_for_function(
        "[...document.getElementById('id_matchup_id').options].some(o => o.value.includes('buf-kc'))", timeout=10000)
    assert page.locator(f"#id_matchup_id option[value='nfl-{day:%Y%m%d}-buf-kc']").inner_text().endswith(
        "kicked off")
    page.select_option("#id_matchup_id", f"nfl-{day:%Y%m%d}-buf-kc")
    page.click("#start-form button[type=submit]")
    assert "kicked off at" in page.inner_text(".has-error") and not Job.objects.exists()
    page.check("#id_after_kickoff")
    page.click("#start-form button[type=submit]")
    page.wait_for_url("**/studio/jobs/*/", timeout=10000)
    assert Job.objects.get().inputs["matchup_id"] == f"nfl-{day:%Y%m%d}-buf-kc"


def test_layer_progress_arrives_over_the_socket(staff_page, presets):
    page = staff_page
    job = off_loop(services.job_create, preset=presets["reel_hype"], start=False,
                   inputs={"sport": "nfl", "matchup_id": "nfl-20261122-dal-phi"})
    page.goto(f"/studio/jobs/{job.pk}/")
    page.wait_for_function("window.studio && window.studio.socketUp === true", timeout=10000)
    started = time.monotonic()
    off_loop(services.enqueue_layer, job.pk, "L1")  # outside a transaction: queued at once, run in this process
    # Read together, in the page, before the page reloads itself for the review (it does once L5 is done).
    page.wait_for_function("document.querySelector('li[data-layer=L5] [data-field=state]').textContent === 'done'"
                           " && studio.lastEvent?.seq > 5", timeout=30000)
    assert time.monotonic() - started < 30


@pytest.mark.parametrize("slug", ["reel_hype", "carousel_illustrated", "single_image_stat"])
def test_canvas_matches_frame_at_before_and_after_adjusting(staff_page, presets, slug):
    page = staff_page
    job = job_in_review(presets[slug])
    open_review(page, job)
    scores = assert_parity(page, job, "as built")
    # adjust: bigger text and a timing offset, through the page's own controls
    count = page.evaluate("studio.adjustCount || 0")
    page.locator("#text-scale").fill("1.3")
    page.wait_for_function(f"(studio.adjustCount || 0) > {count}", timeout=10000)
    assert page_plan(page).scenes[0].layers[0].size > RenderPlan.model_validate(
        job.plan_versions.get(number=1).plan).scenes[0].layers[0].size
    scores += assert_parity(page, job, "adjusted")
    logging.getLogger("tests.browser").info(
        "%s parity SSIM min %.4f, first frame %.0f ms, adjust redraw %.0f ms", slug, min(scores),
        page.evaluate("studio.metrics.firstFrameMs"), page.evaluate("studio.metrics.lastAdjustMs"))


def test_a_carousel_is_reviewed_as_slides_and_a_still_as_an_image_screenshot(staff_page, presets, tmp_path):
    """given: a carousel in review
    then: its slides side by side, the one picked shown large as L6 makes its slide, the arrow keys moving
    between them; no timeline, no Play, no sound, no recording, no text timing; a comment is made on the slide
    shown and named by it. A still: its one image, no strip."""
    from pipeline.render.parity import slide_times

    page = staff_page
    job = job_in_review(presets["carousel_illustrated"])
    plan = RenderPlan.model_validate(job.plan_versions.get(number=1).plan)
    assert not [track for track in plan.audio if track.role == "narration"]
    open_review(page, job)
    for absent in ("#play", "#scrubber", "#record", "#timing-offset", "#clock"):
        assert page.locator(absent).count() == 0, absent
    assert page.evaluate("studio.player.audio") is None
    slides = page.locator("#slides button.slide")
    assert slides.count() == len(plan.scenes) == len(slide_times(plan))
    assert page.inner_text("#slide-label") == f"Slide 1 of {len(plan.scenes)}"
    compositor = Compositor(plan, job.work_dir)
    shown = lambda: np.asarray(Image.open(io.BytesIO(base64.b64decode(page.evaluate(  # noqa: E731
        "studio.view.canvas.toDataURL('image/png')").split(",", 1)[1]))).convert("RGB"))
    assert ssim(shown(), compositor.frame(slide_times(plan)[0])) >= PARITY_BAR
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert page.evaluate("studio.slide") == 2 and page.inner_text("#slide-label").startswith("Slide 3 of")
    assert page.locator("#slides button[aria-current='true']").get_attribute("data-slide") == "2"
    assert ssim(shown(), compositor.frame(slide_times(plan)[2])) >= PARITY_BAR
    page.keyboard.press("ArrowLeft")
    assert page.evaluate("studio.slide") == 1
    slides.nth(4).click()
    assert page.evaluate("studio.slide") == 4
    # typing in a field does not move the slides
    page.locator("#post-copy summary").click()
    page.locator("#post-hashtags").press("ArrowLeft")
    assert page.evaluate("studio.slide") == 4
    page.fill("#comment-form textarea", "Tighten the headline here")
    page.click("#comment-form button[type=submit]")
    page.wait_for_function("document.querySelector('#comments li time')?.textContent === 'Slide 5'", timeout=10000)
    assert job.comments.get().at_s == pytest.approx(slide_times(plan)[4], abs=0.01)
    page.set_viewport_size({"width": 1440, "height": 900})
    page.screenshot(path=str(screenshot_path("review-carousel.png", tmp_path)))

    still = job_in_review(presets["single_image_stat"])
    open_review(page, still)
    assert page.locator("#slides").is_hidden() and page.locator("#slide-next").is_hidden()
    assert page.locator("#play").count() == 0 and page.evaluate("studio.player.audio") is None


def test_canvas_plays_with_the_audio_clock(staff_page, presets):
    page = staff_page
    open_review(page, job_in_review(presets["reel_hype"]))
    assert page.evaluate("studio.capabilities.mode") == "full"
    page.click("#play")
    page.wait_for_timeout(1200)
    state = page.evaluate("({t: studio.player.t, frame: studio.player.frame, audio: studio.player.audio.currentTime,"
                          " playing: studio.player.playing})")
    assert state["playing"] and state["t"] > 0.5 and state["frame"] > 10 and state["audio"] > 0.5
    page.click("#play")
    paused_at = page.evaluate("studio.player.frame")
    page.click("#step-forward")
    assert page.evaluate("studio.player.frame") == paused_at + 1


def test_the_review_page_answers_an_editors_keys_and_undoes_through_the_draft(staff_page, presets):
    """Space plays and pauses, → and ← step a frame, Shift+→ a second, J and L a second; Ctrl+Z undoes this
    reviewer's last change (typing in one field is one step) and the draft the server holds follows; Ctrl+Shift+Z
    redoes it. Keys typed in a field stay the field's."""
    page = staff_page
    job = job_in_review(presets["reel_hype"])
    open_review(page, job)
    fps = page_plan(page).fps
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("Space")
    page.wait_for_function("studio.player.playing && studio.player.t > 0.3", timeout=10000)
    page.keyboard.press("Space")
    assert page.evaluate("studio.player.playing") is False
    frame = page.evaluate("studio.player.frame")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowLeft")
    assert page.evaluate("studio.player.frame") == frame + 1
    page.keyboard.press("Shift+ArrowRight")
    assert page.evaluate("studio.player.frame") == frame + 1 + fps
    page.keyboard.press("j")
    assert page.evaluate("studio.player.frame") == frame + 1
    # a change typed in a field, then another, each one step back
    layer_id = page.locator("#text-edits input").first.get_attribute("data-layer")
    field = page.locator(f"input[data-layer='{layer_id}']")
    original = field.input_value()
    field.focus()
    field.press("End")
    field.press_sequentially("!!", delay=30)
    page.locator("#text-scale").fill("1.2")
    page.locator("body").click(position={"x": 5, "y": 5})
    assert page.locator("#undo").is_enabled()
    page.keyboard.press("Control+z")
    assert page.evaluate("studio.adjustments.text_scale") == 1
    page.keyboard.press("Control+z")
    assert field.input_value() == original and page.locator("#undo").is_disabled()
    page.keyboard.press("Control+Shift+z")
    assert field.input_value() == original + "!!"
    page.wait_for_function("document.getElementById('draft-notice').textContent.startsWith('Saved as draft')",
                           timeout=10000)
    draft = job.draft_revisions.order_by("-number").first().adjustments
    assert draft["text_edits"] == {layer_id: original + "!!"} and draft["text_scale"] == 1
    # typing in a field: Space is a space there, not play
    field.press("Space")
    assert page.evaluate("studio.player.playing") is False and len(field.input_value()) == len(original) + 3


def test_adjusting_redraws_the_canvas(staff_page, presets):
    page = staff_page
    job = job_in_review(presets["reel_hype"])
    open_review(page, job)
    prop = next(scene for scene in page_plan(page).scenes if scene.id == "prop_1")
    t = prop.start + 1.0
    page.evaluate("(t) => studio.player.seek(t)", t)
    before = canvas_at(page, t)
    layer_id = prop.layers[0].id
    page.locator(f"input[data-layer='{layer_id}']").fill("TAKE THE OVER")
    page.wait_for_function("(studio.adjustCount || 0) > 0", timeout=10000)
    after = canvas_at(page, t)
    assert ssim(before, after) < 0.99
    assert next(scene for scene in page_plan(page).scenes if scene.id == "prop_1").layers[0].text == "TAKE THE OVER"


def test_an_invalid_edit_shows_the_error(staff_page, presets):
    page = staff_page
    open_review(page, job_in_review(presets["reel_hype"]))
    layer_id = next(scene for scene in page_plan(page).scenes if scene.id == "prop_1").layers[0].id
    page.locator(f"input[data-layer='{layer_id}']").fill("OVER 999.5 GUARANTEED")
    page.wait_for_function("document.getElementById('adjust-errors').textContent.includes('999.5')", timeout=10000)


def test_approve_twice_queues_one_render_and_the_video_plays(staff_page, presets, live_stack):
    page = staff_page
    small = presets["reel_hype"]
    small.config["format"].update(width=360, height=640)
    small.config["segments"].update(props=1, hook=False)
    small.save()
    job = job_in_review(small)
    open_review(page, job)
    page.locator("#text-scale").fill("1.2")
    page.wait_for_function("(studio.adjustCount || 0) > 0", timeout=10000)
    # two approvals at once (a double click that beats the button's own guard)
    results = page.evaluate("""async () => {
        const url = document.getElementById('job').dataset.approveUrl;
        const { postJSON } = await import('/static/previews/api.js');
        const body = { adjustments: studio.adjustments, snapshots: {} };
        return (await Promise.all([postJSON(url, body), postJSON(url, body)])).map(r => r.status);
    }""")
    assert sorted(results) == [200, 409]
    wait_for_page(page, "document.getElementById('final-video')", job=job, logs=live_stack["logs"], timeout_ms=90000)
    job.refresh_from_db()
    assert job.status == Job.Status.DONE and Render.objects.filter(job=job).count() == 1
    assert job.plan_versions.filter(approved_at__isnull=False).count() == 1
    playing = page.evaluate("""async () => { const v = document.getElementById('final-video'); v.muted = true;
        await v.play(); await new Promise(r => setTimeout(r, 800)); return v.currentTime; }""")
    assert playing > 0.3


def test_approving_a_post_for_a_game_under_way_asks_first(staff_page, presets):
    """The sample's 22 November game has kicked off: Approve shows the question in words, and "Approve anyway"
    approves."""
    page = staff_page
    job = job_in_review(presets["single_image_stat"], matchup="nfl-20261122-buf-kc")
    open_review(page, job)
    page.click("#approve")
    page.wait_for_selector("#kickoff-confirm:not([hidden])", timeout=10000)
    assert "kicked off at" in page.inner_text("#kickoff-confirm") and page.evaluate("!studio.approved")
    page.click("#confirm-kickoff")
    page.wait_for_function("studio.approved > 0", timeout=20000)


def test_approval_sends_snapshots_and_the_render_reports_parity(staff_page, presets):
    page = staff_page
    still = presets["single_image_stat"]
    job = job_in_review(still)
    open_review(page, job)
    page.click("#approve")
    page.wait_for_function("document.getElementById('parity')", timeout=60000)
    render = Render.objects.get(job=job)
    assert len(render.parity) >= 1 and min(render.parity.values()) >= PARITY_BAR
    assert "What you approved is what was rendered" in page.inner_text("#parity")


def short_reel(presets) -> Preset:
    """The hype reel cut to its matchup and call to action: a recording of it is made in its own time."""
    small = presets["reel_hype"]
    small.config["segments"].update(props=0, hook=False)
    small.save()
    return small


def test_recording_yields_a_file_that_decodes_and_knows_its_length(staff_page, presets, tmp_path):
    """Chromium's MediaRecorder writes WebM without a duration; the download is remuxed on the server so
    that players can show its length and seek it."""
    page = staff_page
    job = job_in_review(short_reel(presets))
    open_review(page, job)
    page.click("#record")
    page.wait_for_function("studio.recording", timeout=60000)
    data = page.evaluate("""async () => { const r = await fetch(document.getElementById('recording-link').href);
        const b = new Uint8Array(await r.arrayBuffer()); let s = ''; for (const x of b) s += String.fromCharCode(x);
        return btoa(s); }""")
    path = tmp_path / "recording.webm"
    path.write_bytes(base64.b64decode(data))
    info = ffmpeg.read_back(path)
    assert info.video_codec in ("vp9", "vp8") and info.audio_codec == "opus"
    assert (info.width, info.height) == (1080, 1920)
    assert info.frames and info.frames > 10 and not info.errors
    plan = page_plan(page)
    assert info.duration == pytest.approx(plan.duration, abs=0.6)  # the header carries the length


def test_play_goes_on_without_an_audio_device(staff_page, presets):
    """given: a browser whose audio never starts (no output device: the context's resume never settles)
    when: Play is pressed
    then: the piece plays on the page's own clock, and the page says the sound could not start"""
    page = staff_page
    page.add_init_script("AudioContext.prototype.resume = function () { return new Promise(() => {}); };")
    job = job_in_review(presets["reel_hype"])
    open_review(page, job)
    page.click("#play")
    page.wait_for_function("studio.player.t > 0.5", timeout=10000)
    assert "could not start" in page.inner_text("#player-note")
    page.click("#play")  # pause
    assert page.evaluate("studio.player.playing") is False


def test_a_recording_of_nothing_says_so_and_offers_no_file(staff_page, presets):
    """given: a browser whose recorder stops cleanly having recorded nothing (WebKit without its encoders)
    when: Record is pressed
    then: the page says the recording failed and why, and offers no download"""
    page = staff_page
    page.add_init_script("""Object.defineProperty(MediaRecorder.prototype, "ondataavailable",
        { configurable: true, get() { return null; }, set(handler) {} });""")
    job = job_in_review(short_reel(presets))
    open_review(page, job)
    page.click("#record")
    page.wait_for_function("document.getElementById('recording-note').textContent.includes('Recording failed')",
                           timeout=60000)
    assert "recorded nothing" in page.inner_text("#recording-note")
    assert page.locator("#recording-link").is_hidden()
    assert not page.evaluate("Boolean(studio.recording)")


@pytest.mark.parametrize("width, height", [(1280, 800), (1440, 900)])
def test_the_review_page_fits_a_laptop_screen(staff_page, presets, width, height):
    """The canvas with its transport on one screen, and Approve on it too, before and after the adjust panel is
    scrolled (it scrolls beside the canvas; the decisions are held at its foot)."""
    page = staff_page
    page.set_viewport_size({"width": width, "height": height})
    job = job_in_review(presets["reel_hype"])
    open_review(page, job)

    def on_screen(selector):
        box = page.locator(selector).bounding_box()
        return box and box["x"] >= 0 and box["x"] + box["width"] <= width and box["y"] >= 0 \
            and box["y"] + box["height"] <= height

    for control in ("#preview", "#play", "#scrubber", "#approve"):
        assert on_screen(control), control
    page.evaluate("document.querySelector('.review .adjust').scrollTop = 10000")
    assert on_screen("#approve") and on_screen("#preview")


def test_the_review_page_on_a_phone_screenshot(staff_page, presets, tmp_path):
    """At 390x844: the whole canvas on the screen with its transport, and Approve held on the screen while the
    reviewer scrolls the panel; `make screenshots` keeps the picture (docs/review-phone.png)."""
    page = staff_page
    page.set_viewport_size({"width": 390, "height": 844})
    job = job_in_review(presets["reel_hype"])
    open_review(page, job)
    out = screenshot_path("review-phone.png", tmp_path)
    page.screenshot(path=str(out), full_page=False)
    assert out.stat().st_size > 10000
    canvas = page.locator("#preview").bounding_box()
    assert canvas["x"] >= 0 and canvas["x"] + canvas["width"] <= 390 and canvas["y"] + canvas["height"] <= 844
    assert abs(canvas["width"] / canvas["height"] - 1080 / 1920) < 0.01
    for control in ("#play", "#scrubber", "#approve"):
        box = page.locator(control).bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390 and box["y"] + box["height"] <= 844, control
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.evaluate("window.scrollTo(0, document.body.scrollHeight / 2)")
    box = page.locator("#approve").bounding_box()
    assert box["y"] >= 0 and box["y"] + box["height"] <= 844


def test_review_page_screenshot(staff_page, presets, tmp_path):
    """The review page in full; `make screenshots` keeps the picture for the README (docs/review-page.png)."""
    page = staff_page
    page.set_viewport_size({"width": 1440, "height": 1080})
    job = job_in_review(presets["reel_hype"])
    open_review(page, job)
    page.evaluate("(t) => studio.player.seek(t)", page_plan(page).scenes[2].start + 1.2)
    out = screenshot_path("review-page.png", tmp_path)
    page.screenshot(path=str(out), full_page=False)
    assert out.stat().st_size > 10000


def _meter_settles(page, meter):
    page.wait_for_function("(el) => !el.classList.contains('pending') && el.textContent", arg=meter.element_handle(),
                           timeout=10000)
    return meter.inner_text()


def test_the_adjust_panel_shows_fit_and_contrast_before_sending(staff_page, presets):
    """The fit meter shows the server's verdict on the wording typed: red exactly when the server refuses it
    (a long wording of narrow letters that the layout holds is not called too long, as the old estimate
    did), and a colour that does not read is flagged on the spot; the safe zones can be outlined on the canvas
    (never in snapshots)."""
    page = staff_page
    job = job_in_review(presets["reel_hype"])
    open_review(page, job)
    plan = page_plan(page)
    headline = next(layer for scene in plan.scenes for layer in scene.layers
                    if layer.type == "text" and layer.role == "headline" and layer.editable)
    meter = page.locator(f".fit-meter[data-layer='{headline.id}']")
    assert meter.inner_text() == f"{headline.room} characters left"
    field = page.locator(f"input[data-layer='{headline.id}']")
    field.fill("W" * (headline.max_chars + 3))
    assert _meter_settles(page, meter).endswith("characters too many") and "over" in meter.get_attribute("class")
    refusal = page.locator("#adjust-errors").inner_text()
    assert "does not fit" in refusal
    # The meter's figure is the refusal's own: "about N characters fit, and it has M".
    fitting, length = (int(n) for n in re.search(r"about (\d+) characters fit, and it has (\d+)", refusal).groups())
    assert meter.inner_text() == f"{max(1, length - fitting)} characters too many"
    # Narrow letters: more of them than the estimate for this wording, and the layout holds them.
    narrow = ("I " * headline.max_chars)[:headline.max_chars + 3].strip()
    held = off_loop(services.plan_preview, job=job, adjustments={"text_edits": {headline.id: narrow}})
    field.fill(narrow)
    verdict = _meter_settles(page, meter)
    assert verdict == f"{next(layer for layer in held.all_layers() if layer.id == headline.id).room} characters left"
    assert "over" not in meter.get_attribute("class") and page.locator("#adjust-errors").inner_text() == ""
    field.fill(headline.text)
    unreadable = next(c for c in plan.palette if c not in headline.readable_colors)
    page.locator(f"select[data-layer='{headline.id}']").select_option(unreadable)
    warning = page.locator(f".contrast-warning[data-layer='{headline.id}']")
    assert "outline" in warning.inner_text()
    # safe zones: drawn on the canvas when asked, left out of what is compared with the render
    t = plan.scenes[1].start + 1.0
    plain = canvas_at(page, t)
    page.check("#show-zones")
    outlined = canvas_at(page, t)
    assert ssim(plain, outlined) < 0.99
    snapshot = page.evaluate("(t) => studio.view.snapshot(t)", t)
    page.uncheck("#show-zones")
    assert snapshot == page.evaluate("(t) => studio.view.snapshot(t)", t)


def test_captions_in_the_preview_stay_with_the_audio_and_can_be_corrected(staff_page, presets):
    """The canvas draws the captions from the plan in step with the narration (the audio is the clock):
    measured while it plays, how far the drawn frame is from the audio being heard. A caption's wording can
    be corrected in the adjust panel, and the canvas shows the correction."""
    page = staff_page
    small = presets["reel_hype"]
    small.config["segments"].update(props=1, hook=False)
    small.save()
    job = job_in_review(small)
    open_review(page, job)
    page.click("#play")
    drift = page.evaluate("""async () => {
        const p = studio.player, samples = [];
        for (let i = 0; i < 40 && p.playing; i++) {
            await new Promise(r => requestAnimationFrame(r));
            const stamp = p.audio.getOutputTimestamp();
            // the audio heard now (the output's own timestamp), against the frame on the canvas
            const heard = (stamp.contextTime ?? p.audio.currentTime) - p.startedAt;
            if (heard > 0) samples.push(Math.abs(p.frame / p.plan.fps - heard));
            await new Promise(r => setTimeout(r, 100));
        }
        return samples;
    }""")
    page.click("#play")
    assert len(drift) >= 20
    worst = max(drift) * 1000
    logging.getLogger("tests.browser").warning("preview audio vs canvas over %s samples: max %.0f ms, median %.0f ms",
                                               len(drift), worst, float(np.median(drift)) * 1000)
    report_figure("preview_sync", {"samples": len(drift), "max_ms": round(worst, 1),
                                   "median_ms": round(float(np.median(drift)) * 1000, 1)})
    assert worst <= 100
    # correct a caption's wording: the plan that comes back carries it, and the canvas draws it
    plan = page_plan(page)
    captions = next(layer for layer in plan.overlay if layer.type == "captions")
    group = captions.groups[1]
    page.click("#caption-edits summary")
    page.locator("input[data-caption='1']").fill("JAYSON " + " ".join(w.text for w in group.words[1:]))
    page.wait_for_function("(studio.adjustCount || 0) > 0", timeout=10000)
    corrected = next(layer for layer in page_plan(page).overlay if layer.type == "captions").groups[1]
    assert corrected.words[0].text == "JAYSON"
    t = (group.words[0].start + group.words[0].end) / 2
    compositor = Compositor(page_plan(page), job.work_dir)
    assert ssim(canvas_at(page, t), compositor.frame(t)) >= PARITY_BAR
    # turn captions off while the scene of a later group shows: the plan marks its groups hidden, the canvas
    # draws that moment without them, as L6 does, and the switch on the next page load says so
    later = captions.groups[-2]
    scene = next(s for s in plan.scenes if s.start <= later.start < s.end)
    moment = (later.words[0].start + later.words[0].end) / 2
    before = canvas_at(page, moment)
    count = page.evaluate("studio.adjustCount")
    page.uncheck(f"input[data-captions-scene='{scene.id}']")
    page.wait_for_function(f"studio.adjustCount > {count}", timeout=10000)
    hidden = page_plan(page)
    assert not next(layer for layer in hidden.overlay if layer.type == "captions").groups[-2].shown
    after = canvas_at(page, moment)
    assert ssim(after, Compositor(hidden, job.work_dir).frame(moment)) >= PARITY_BAR
    assert ssim(before, after) < 0.995


def report_figure(name: str, data: dict) -> None:
    import json
    from pathlib import Path

    folder = Path(__file__).resolve().parents[2] / "var" / "reliability"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.json").write_text(json.dumps(data))


def test_the_review_page_works_under_its_content_security_policy(browser, live_stack, staff_user, client, presets):
    """given: the studio's own CSP, not bypassed (the other browser tests bypass it for wait_for_function's eval)
    then: the review page loads its scripts, fonts, pictures, audio and socket, draws, and the browser reports
    no violation of the policy"""
    from django.conf import settings

    job = job_in_review(presets["reel_hype"])
    client.force_login(staff_user)
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, base_url=live_stack["url"])
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "url": live_stack["url"],
                          "value": client.cookies[settings.SESSION_COOKIE_NAME].value}])
    page = context.new_page()
    console = []
    page.on("console", lambda message: console.append(message.text))
    try:
        response = page.goto(f"/studio/jobs/{job.pk}/")
        assert "script-src 'self'" in response.headers["content-security-policy"]
        deadline = time.monotonic() + 30
        while not page.evaluate("Boolean(window.studio && window.studio.ready === true)"):
            assert time.monotonic() < deadline, "the review page did not get ready under its CSP"
            time.sleep(0.2)
        drawn = canvas_at(page, 1.0)
        assert drawn.std() > 10  # a picture with text on it, not a blank canvas
        assert page.evaluate("document.fonts.check('64px \"DejaVu Sans Bold\"') || document.fonts.size > 0")
        violations = [line for line in console if "Content Security Policy" in line]
        assert violations == []
    finally:
        context.close()
