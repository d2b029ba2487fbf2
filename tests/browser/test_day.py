"""A day at the desk, through the pages only, as a new member would do it (issue 28): start three presets from the
form, review the reel with keys and undo, comment, approve and follow the render, download everything, approve
the carousel and the still in the batch grid (with its undo window), choose between variants, and look at the
calendar; at a laptop's 1440x900 and a phone's 390x844. `make screenshots` keeps each step's picture for the
README (docs/day-*.png)."""
import datetime as dt
import io
import os
import time
import zipfile

import pytest
from django.core.management import call_command

from jobs.models import Job
from presets.models import Preset
from tests.browser.helpers import screenshot_path, wait_for_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = [pytest.param("laptop", 1440, 900, id="laptop"),
         # The phone's walk is the laptop's again at another size: in CI's PostgreSQL pass, which runs everything.
         pytest.param("phone", 390, 844, id="phone", marks=pytest.mark.skipif(
             os.environ.get("RUN_HEAVY") != "1",
             reason="the phone's walk: run with RUN_HEAVY=1 (CI's PostgreSQL pass)"))]
STEP_MS = 90000


@pytest.fixture
def presets(db):
    call_command("load_presets", stdout=io.StringIO())
    return {p.slug: p for p in Preset.objects.all()}


def start(page, preset: str, day: dt.date, *, batch=False, variants=1):
    """The start form, as a person fills it: preset, sport, date, the game from the picker."""
    page.goto("/studio/")
    page.select_option("#id_preset", preset)
    page.select_option("#id_sport", "nfl")
    page.fill("#id_date", day.isoformat())
    page.locator("#id_date").dispatch_event("change")
    game = f"nfl-{day:%Y%m%d}-buf-kc"
    page.wait_for_function(f"[...document.getElementById('id_matchup_id').options].some(o => o.value === '{game}')",
                           timeout=10000)
    page.select_option("#id_matchup_id", game)
    page.select_option("#id_variants", str(variants))
    if batch:
        page.check("#id_batch")
    page.click("#start-form button[type=submit]")
    page.wait_for_url("**/studio/variants/*/" if variants > 1 else "**/studio/jobs/*/", timeout=10000)
    if variants == 1:
        # The job's page follows it to review, loading again when it gets there; a person reads that before going
        # on (and a click elsewhere meanwhile wins over the page's own reload: job.js `studio.leaving`).
        page.wait_for_function("document.getElementById('job')?.dataset.status === 'awaiting_review' && "
                               "window.studio && window.studio.ready === true", timeout=STEP_MS)


def shot(page, viewport: str, step: str, tmp_path):
    page.screenshot(path=str(screenshot_path(f"day-{viewport}-{step}.png", tmp_path)))


@pytest.mark.parametrize(("viewport", "width", "height"), SIZES)
def test_a_day_at_the_desk(staff_page, presets, live_stack, tmp_path, viewport, width, height):
    page = staff_page
    page.set_viewport_size({"width": width, "height": height})
    day = dt.date.today() + dt.timedelta(days=7)  # games still to come: the form asks nothing more

    # Three presets from the form: the reel to review on its page, the carousel and the still for the batch grid.
    start(page, "reel_hype", day)
    reel = Job.objects.get(preset__slug="reel_hype")
    wait_for_page(page, "window.studio && window.studio.ready === true && document.getElementById('review')",
                  job=reel, logs=live_stack["logs"], timeout_ms=STEP_MS)
    start(page, "carousel_illustrated", day, batch=True)
    start(page, "single_image_stat", day, batch=True)
    deadline = time.monotonic() + STEP_MS / 1000
    while Job.objects.filter(status=Job.Status.AWAITING_REVIEW).count() < 3 and time.monotonic() < deadline:
        time.sleep(0.3)
    page.goto("/studio/")
    assert page.locator("#jobs tbody tr").count() == 3
    assert page.locator("#jobs tbody tr", has_text="Buffalo Bills @ Kansas City Chiefs").count() == 3
    shot(page, viewport, "1-studio", tmp_path)

    # The reel: watch with the keys, change a word and undo it, comment, approve, follow the render.
    page.goto(reel.get_absolute_url())
    page.wait_for_function("window.studio && window.studio.ready === true", timeout=20000)
    page.locator("h1").click()
    page.keyboard.press("Space")
    page.wait_for_function("studio.player.playing && studio.player.t > 0.3", timeout=10000)
    page.keyboard.press("Space")
    frame = page.evaluate("studio.player.frame")
    page.keyboard.press("ArrowRight")
    assert page.evaluate("studio.player.frame") == frame + 1
    field = page.locator("#text-edits input").first
    original = field.input_value()
    field.fill(original + " TONIGHT")
    page.locator("h1").click()
    page.keyboard.press("Control+z")
    assert field.input_value() == original
    page.fill("#comment-form textarea", "Lead with the spread, not the total")
    page.click("#comment-form button[type=submit]")
    page.wait_for_selector("#comments li:has-text('Lead with the spread')", timeout=10000)
    shot(page, viewport, "2-review", tmp_path)
    page.click("#approve")
    # The render panel goes to the top and moves with the work, step by step, until the video is there to play.
    page.wait_for_function("document.querySelector('.job-head').nextElementSibling.id === 'render-panel'",
                           timeout=STEP_MS)
    page.wait_for_function("document.getElementById('render-step').textContent.includes('%')", timeout=STEP_MS)
    shot(page, viewport, "3-render", tmp_path)
    wait_for_page(page, "document.getElementById('final-video') !== null", job=reel, logs=live_stack["logs"],
                  timeout_ms=STEP_MS * 2)
    page.wait_for_function("document.getElementById('final-video').readyState >= 1", timeout=20000)
    assert page.evaluate("document.querySelector('.job-head').nextElementSibling.id") == "render-panel"
    assert "What you approved is what was rendered" in page.inner_text("#parity")
    shot(page, viewport, "4-rendered", tmp_path)
    # Everything at once, named from the job.
    link = page.locator("#download-all")
    answer = page.request.get(link.get_attribute("href"))
    assert answer.ok and link.get_attribute("download").endswith("_buf-kc_reel_v2.zip")
    names = zipfile.ZipFile(io.BytesIO(answer.body())).namelist()
    assert any(name.endswith(".mp4") for name in names) and any(name.endswith("_post-instagram.txt") for name in names)

    # The batch grid: the carousel and the still, approved together after the undo window.
    page.goto("/studio/batch/")
    page.wait_for_function("window.batch.loaded === 2", timeout=30000)
    page.check("#select-all")
    page.click("#approve-selected")
    assert "Approving 2 jobs in" in page.inner_text("#batch-undo")
    shot(page, viewport, "5-batch", tmp_path)
    page.wait_for_function("window.batch.acted === 2", timeout=30000)
    page.wait_for_function("[...document.querySelectorAll('.tile')].every((t) => t.dataset.state === 'done')",
                           timeout=STEP_MS * 2)

    # Variants: two of a still, side by side; one chosen.
    start(page, "single_image_stat", day, variants=2)
    page.wait_for_function("window.variants.loaded === 2", timeout=STEP_MS)
    shot(page, viewport, "6-variants", tmp_path)
    page.locator(".variant [data-approve]").first.click()
    page.wait_for_function("[...document.querySelectorAll('.variant [data-result]')].some((r) => "
                           "r.textContent === 'Not chosen.')", timeout=30000)

    # The calendar: the day's slots, with what to look out for.
    page.goto("/studio/calendar/")
    assert page.locator("h1").inner_text().startswith("Calendar")
    shot(page, viewport, "7-calendar", tmp_path)
    assert page.errors == []
    if viewport == "phone":
        assert page.evaluate("document.documentElement.scrollWidth") <= width
