"""The review page in browsers that lack part of what the full preview needs (the plans' progressive
enhancement): each mode is forced by removing the API in an init script, and the reviewer clicks through
to a decision."""
import base64
import io
import time

import pytest
from django.core.management import call_command

from jobs.models import Job, Render
from pipeline.contracts import RenderPlan
from pipeline.media import ffmpeg
from presets.models import Preset
from tests.browser.test_studio import job_in_review, short_reel

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NO_CANVAS = "HTMLCanvasElement.prototype.getContext = function () { return null; };"
NO_RECORDER = "Object.defineProperty(window, 'MediaRecorder', { value: undefined, configurable: true });"
NO_WEB_AUDIO = ("Object.defineProperty(window, 'AudioContext', { value: undefined, configurable: true });"
                "Object.defineProperty(window, 'webkitAudioContext', { value: undefined, configurable: true });")
IPHONE = ("Object.defineProperty(navigator, 'userAgent', { get: () => 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like "
          "Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1' });")


@pytest.fixture
def presets(db):
    call_command("load_presets", stdout=io.StringIO())
    return {p.slug: p for p in Preset.objects.all()}


def open_in(page, job, script: str | None = None) -> None:
    if script:
        page.add_init_script(script)
    page.goto(f"/studio/jobs/{job.pk}/")
    page.wait_for_function("window.studio && window.studio.ready === true", timeout=30000)
    assert page.errors == []


def wait_for_status(job, *statuses, timeout_s=90) -> Job:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.status in statuses:
            return job
        time.sleep(0.3)
    raise AssertionError(f"job is {job.status}, not {statuses}")


def test_without_a_canvas_the_page_says_why_and_approve_still_renders(staff_page, presets):
    page = staff_page
    job = job_in_review(presets["single_image_stat"])
    open_in(page, job, NO_CANVAS)
    assert page.evaluate("studio.mode") == "none"
    assert "cannot draw the preview" in page.inner_text("#capabilities")
    assert page.locator("#preview").is_hidden() and page.locator("#adjust-form").is_hidden()
    page.click("#approve")
    job = wait_for_status(job, Job.Status.DONE)
    version = job.plan_versions.get(approved_at__isnull=False)
    assert version.note == "approved as built" and Render.objects.get(job=job).status == Render.Status.DONE


def test_without_a_canvas_skip_preview_works(staff_page, presets):
    page = staff_page
    job = job_in_review(presets["single_image_stat"])
    open_in(page, job, NO_CANVAS)
    page.click("#skip-preview")
    job = wait_for_status(job, Job.Status.RENDERING, Job.Status.DONE)
    assert job.plan_versions.get(approved_at__isnull=False).note == "preview skipped"


def test_without_a_recorder_the_live_canvas_plays_and_record_is_not_offered(staff_page, presets):
    """A browser that cannot record (WebKit without its GStreamer encoders) still gets the live canvas with its
    audio; only Record is left out, and the page says why. (A reel: a still is reviewed as its image, with no
    player to record.)"""
    page = staff_page
    job = job_in_review(short_reel(presets))
    open_in(page, job, NO_RECORDER)
    assert page.evaluate("studio.mode") == "full"
    assert page.locator("#preview").is_visible() and page.locator("#record").is_hidden()
    assert "cannot record" in page.inner_text("#capabilities")
    page.click("#play")
    page.wait_for_function("studio.player.t > 0.2", timeout=10000)


@pytest.mark.parametrize("missing", [NO_WEB_AUDIO], ids=["no Web Audio"])
def test_partial_mode_shows_server_frames_that_follow_the_adjustments(staff_page, presets, missing):
    page = staff_page
    job = job_in_review(presets["single_image_stat"])
    open_in(page, job, missing)
    assert page.evaluate("studio.mode") == "partial"
    assert page.locator("#preview").is_hidden() and page.locator("#static-preview").is_visible()
    scenes = len(RenderPlan.model_validate(job.plan_versions.get(number=1).plan).scenes)
    assert page.locator("#static-preview img").count() == scenes
    before = page.get_attribute("#static-preview img", "src")
    page.locator("#text-scale").fill("0.8")
    page.wait_for_function("studio.staticDraws >= 2", timeout=20000)
    assert page.get_attribute("#static-preview img", "src") != before
    page.click("#approve")
    job = wait_for_status(job, Job.Status.RENDERING, Job.Status.DONE)
    assert job.plan_versions.get(approved_at__isnull=False).adjustments["text_scale"] == 0.8


def test_when_the_preview_files_fail_to_load_it_falls_back_and_reject_works(staff_page, presets):
    page = staff_page
    job = job_in_review(presets["single_image_stat"])
    page.route("**/files/**", lambda route: route.fulfill(status=503, body="down"))
    open_in(page, job)
    assert page.evaluate("studio.mode") == "partial" and "did not load" in page.inner_text("#capabilities")
    assert page.locator("#static-preview img").count() >= 1
    page.locator(".actions details summary").click()
    page.fill("#reject-form [name=reason]", "the picture is off brand")
    page.click("#reject-form button[type=submit]")
    job = wait_for_status(job, Job.Status.REJECTED)
    assert job.reject_reason == "the picture is off brand"


def fetch_bytes(page, url: str) -> bytes:
    data = page.evaluate("""async (url) => { const r = await fetch(url, { credentials: 'same-origin' });
        const b = new Uint8Array(await r.arrayBuffer()); let s = '';
        for (let i = 0; i < b.length; i += 8192) s += String.fromCharCode(...b.subarray(i, i + 8192));
        return btoa(s); }""", url)
    return base64.b64decode(data)


def test_ios_records_mp4_h264_without_audio_at_a_lower_bitrate(staff_page, presets, tmp_path):
    page = staff_page
    job = job_in_review(short_reel(presets))
    open_in(page, job, IPHONE)
    plan = page.evaluate("studio.capabilities.recording")
    assert plan["ios"] and plan["type"].startswith("video/mp4") and plan["audio"] is False
    assert plan["bitrate"] < 8_000_000
    page.click("#record")
    page.wait_for_function("studio.recording", timeout=60000)
    recording = page.evaluate("studio.recording")
    path = tmp_path / "recording.mp4"
    path.write_bytes(fetch_bytes(page, recording["url"]))
    info = ffmpeg.read_back(path)
    duration = RenderPlan.model_validate(job.plan_versions.get(number=1).plan).duration
    assert info.video_codec == "h264" and info.audio_codec is None and not info.errors
    assert info.duration == pytest.approx(duration, abs=0.6)
