"""The operators' side in Chromium: preset builder thumbnails, the batch grid, choosing a variant, the dashboard."""
import io
import json
import logging
import time

import pytest
from django.core.management import call_command

from jobs import services
from jobs.models import Job, Render
from presets.models import Preset
from tests.browser.helpers import off_loop, screenshot_path, upcoming

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def presets(db):
    call_command("load_presets", stdout=io.StringIO())
    return {p.slug: p for p in Preset.objects.all()}


def test_preset_editor_forms_follow_the_config_and_redraw_thumbnails(staff_page, presets):
    """The editor's sections and the JSON stay in step; edits redraw the real renderer's thumbnails from the
    preset's kept sample (L1-L5 are not run again), and each bad field is named beside its control."""
    page = staff_page
    page.goto("/studio/presets/reel_hype/")
    page.wait_for_function("window.builder.refreshes >= 1", timeout=60000)
    first = page.eval_on_selector_all("#thumbs img", "imgs => imgs.map(i => i.src)")
    assert len(first) == 2 and all(src.startswith("data:image/jpeg") for src in first)
    assert page.input_value(".control[data-path='brand.headline_size'] [data-input]") == "128"
    # an edit in the form: the JSON follows, the thumbnails are drawn again
    timings = []
    for size, done in ((140, 2), (120, 3), (90, 4)):
        page.fill(".control[data-path='brand.headline_size'] [data-input]", str(size))
        page.wait_for_function(f"window.builder.refreshes >= {done}", timeout=30000)
        timings.append(page.evaluate("window.builder.redrawMs.at(-1)"))
    assert json.loads(page.input_value("#id_config"))["brand"]["headline_size"] == 90
    assert page.eval_on_selector_all("#thumbs img", "imgs => imgs.map(i => i.src)") != first
    # each part's length in the sample, beside the preset's, with why; and the thumbnails stay in view while the
    # form beside them scrolls
    assert page.locator("#lengths tbody tr").count() >= 4
    assert page.locator("#lengths tbody tr").first.locator("td").nth(0).inner_text() == "Hook"
    page.locator("#preset-form button[type=submit]").scroll_into_view_if_needed()
    box = page.evaluate("(() => { const r = document.getElementById('thumbs').getBoundingClientRect();"
                        " return [r.top, r.bottom, innerHeight, scrollY]; })()")
    assert box[3] > 200 and 0 <= box[0] < box[2], box
    logging.getLogger("tests.browser").warning("preset editor redraw after an edit: %s ms",
                                               [round(t) for t in timings])
    report("preset_editor", {"redraw_ms": [round(t) for t in timings]})
    # scenes: the hook moves after the matchup
    page.click(".control[data-path='segments.order'] li[data-part='hook'] button:has-text('↓')")
    assert json.loads(page.input_value("#id_config"))["segments"]["order"][:2] == ["matchup", "hook"]
    # the palette: a colour in use follows its swatch
    page.eval_on_selector(".control[data-path='brand.palette'] input[type=color][data-index='1']",
                          "el => { el.value = '#fafafa'; el.dispatchEvent(new Event('input', {bubbles: true})); }")
    config = json.loads(page.input_value("#id_config"))
    assert config["brand"]["palette"][1] == "#FAFAFA" and config["brand"]["text_color"] == "#FAFAFA"
    # a field error is shown beside its control
    page.fill(".control[data-path='format.width'] [data-input]", "10")
    page.wait_for_function("document.querySelector(\".control[data-path='format.width'] [data-errors]\")"
                           ".textContent.includes('format.width')", timeout=30000)
    page.fill(".control[data-path='format.width'] [data-input]", "1080")
    # the advanced view: JSON edited by hand shows in the form
    config = json.loads(page.input_value("#id_config"))
    config["brand"]["margin"] = 96
    page.click("details.advanced summary")
    page.fill("#id_config", json.dumps(config, indent=2))
    assert page.input_value(".control[data-path='brand.margin'] [data-input]") == "96"
    # and saving keeps it, validated on the server
    page.click("#preset-form button[type=submit]")
    page.wait_for_load_state("load")
    saved = Preset.objects.get(slug="reel_hype").config
    assert saved["brand"]["margin"] == 96 and saved["segments"]["order"][0] == "matchup"


def report(name: str, data: dict) -> None:
    from pathlib import Path

    folder = Path(__file__).resolve().parents[2] / "var" / "reliability"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.json").write_text(json.dumps(data))


def test_batch_grid_approves_several_at_once(staff_page, presets, staff_user, tmp_path):
    page = staff_page
    still = presets["single_image_stat"]
    jobs = [off_loop(services.job_create, preset=still, inputs={"sport": "nba", "batch": True, "matchup_id": m})
            for m in (upcoming("nba", "nyk-bos"), upcoming("nba", "lal-den"), upcoming("nba", "dal-okc"))]
    page.goto("/studio/batch/")
    page.wait_for_function("window.batch.loaded === 3", timeout=30000)
    assert page.locator(".tile img[src^='data:image/jpeg']").count() == 3
    page.hover(f".tile[data-job='{jobs[0].pk}']")
    page.wait_for_function(f"document.querySelector(\".tile[data-job='{jobs[0].pk}']\").dataset.playing !== undefined",
                           timeout=10000)
    # "a" on the wrong tile: the third, approved by mistake, is taken back within the undo window
    page.focus(f".tile[data-job='{jobs[2].pk}']")
    page.keyboard.press("a")
    assert "Approving 1 job in" in page.inner_text("#batch-undo")
    page.keyboard.press("u")
    assert page.locator("#batch-undo").is_hidden() and "Undone" in page.inner_text("#batch-status")
    assert Job.objects.get(pk=jobs[2].pk).status == Job.Status.AWAITING_REVIEW  # nothing reached the server
    # select two with the keyboard and approve them with "a"
    page.focus(f".tile[data-job='{jobs[0].pk}']")
    page.keyboard.press(" ")
    page.keyboard.press("ArrowRight")
    page.keyboard.press(" ")
    page.keyboard.press("a")
    assert "Approving 2 jobs in" in page.inner_text("#batch-undo")
    page.wait_for_function("window.batch.acted === 2", timeout=60000)
    statuses = {j.pk: Job.objects.get(pk=j.pk).status for j in jobs}
    assert statuses[jobs[2].pk] == Job.Status.AWAITING_REVIEW
    for job in jobs[:2]:
        version = job.plan_versions.get(approved_at__isnull=False)
        assert version.approved_by == staff_user and statuses[job.pk] in ("approved", "rendering", "done")
    # the tiles stay and follow their renders to the end, each with a link to its job
    for job in jobs[:2]:
        page.wait_for_function(f"document.querySelector(\".tile[data-job='{job.pk}']\").dataset.state === 'done'",
                               timeout=60000)
        assert page.locator(f".tile[data-job='{job.pk}'] [data-result] a").get_attribute("href") == (
            job.get_absolute_url())
    page.screenshot(path=str(screenshot_path("batch-review.png", tmp_path)))


def test_choosing_a_variant_renders_only_it(staff_page, presets):
    page = staff_page
    first = off_loop(services.job_create, preset=presets["single_image_stat"], variants=3,
                     inputs={"sport": "nfl", "matchup_id": upcoming()})
    group = list(Job.objects.filter(variant_group=first.variant_group).order_by("created_at"))
    assert len(group) == 3 and {j.status for j in group} == {Job.Status.AWAITING_REVIEW}
    page.goto(f"/studio/variants/{first.variant_group}/")
    page.wait_for_function("window.variants.loaded === 3", timeout=30000)
    srcs = page.eval_on_selector_all(".variant [data-frames] img", "imgs => imgs.map(i => i.src)")
    assert len(set(srcs)) == 3  # three different pictures
    page.click(f".variant[data-job='{group[1].pk}'] [data-approve]")
    # No reload: the cards follow the jobs' events (the others rejected, the chosen one rendering)
    page.wait_for_function("[...document.querySelectorAll('[data-approve]')].every((b) => b.hidden)", timeout=30000)
    page.wait_for_function(f"document.querySelector(\".variant[data-job='{group[0].pk}'] [data-result]\")"
                           ".textContent === 'Not chosen.'", timeout=30000)
    statuses = [Job.objects.get(pk=j.pk).status for j in group]
    assert statuses[0] == statuses[2] == Job.Status.REJECTED
    # The render row appears when a worker of the server's cluster takes L6, a moment after the approval.
    deadline = time.monotonic() + 60
    while not Render.objects.filter(job=group[1]).exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert Render.objects.filter(job__variant_group=first.variant_group).count() == 1
    assert Render.objects.get(job__variant_group=first.variant_group).job_id == group[1].pk


def test_reel_variants_play_side_by_side_and_follow_a_rerun_live(staff_page, presets, tmp_path):
    """Each reel variant plays on its card (the review page's canvas and player, one at a time), and a variant
    made again appears on the page when its plan is ready, without a reload."""
    page = staff_page
    first = off_loop(services.job_create, preset=presets["reel_hype"], variants=2,
                     inputs={"sport": "nfl", "matchup_id": upcoming()})
    group = list(Job.objects.filter(variant_group=first.variant_group).order_by("created_at"))
    page.goto(f"/studio/variants/{first.variant_group}/")
    page.wait_for_function("window.variants.loaded === 2", timeout=60000)
    one, two = (f".variant[data-job='{job.pk}']" for job in group)
    page.click(f"{one} [data-play]")
    page.wait_for_function(f"window.variants.players.get('{group[0].pk}').t > 0.5", timeout=15000)
    page.click(f"{two} [data-play]")
    page.wait_for_function(f"window.variants.players.get('{group[1].pk}').playing && "
                           f"!window.variants.players.get('{group[0].pk}').playing", timeout=15000)
    page.click(f"{two} [data-play]")
    page.screenshot(path=str(screenshot_path("variants.png", tmp_path)))
    # made again with fresh data: the card goes through the making and comes back ready, on its own
    page.evaluate("window.seen = []; new MutationObserver(() => window.seen.push(document.querySelector("
                  f"\"{one} [data-status]\").textContent)).observe(document.querySelector(\"{one} [data-status]\"),"
                  " { childList: true, characterData: true, subtree: true })")
    off_loop(services.job_rerun, job_id=group[0].pk)
    page.wait_for_function("window.seen.includes('Queued') && window.seen.at(-1) === 'Awaiting review'",
                           timeout=90000)
    assert not page.locator(f"{one} [data-approve]").is_hidden()
    assert page.errors == []


def test_metrics_dashboard_screenshot(staff_page, presets, staff_user, tmp_path):
    """The dashboard draws its six charts; `make screenshots` keeps the picture for the README."""
    page = staff_page
    still = presets["single_image_stat"]
    for index, matchup in enumerate(["nba-20261122-nyk-bos", "nba-20261122-lal-den", "nba-20261122-phx-gsw"]):
        job = off_loop(services.job_create, preset=still, inputs={"sport": "nba", "matchup_id": matchup})
        if index < 2:
            off_loop(services.job_approve, job_id=job.pk, user=staff_user,
                     adjustments={"text_scale": 1.1} if index else {})
        else:
            off_loop(services.job_reject, job_id=job.pk, user=staff_user, reason="wrong angle")
    from jobs.models import Render
    from jobs.services.engagement import engagement_record

    posts = list(Render.objects.filter(job__preset=still).values_list("analytics_id", flat=True))
    engagement_record(reports=[{"analytics_id": post, "platform": platform, "views": views, "likes": views // 20,
                                "shares": views // 90, "watch_time_s": views * 2.4}
                               for post, base in zip(posts, (5200, 3100), strict=True)
                               for platform, views in (("instagram", base), ("tiktok", base * 2))])
    page.set_viewport_size({"width": 1300, "height": 1000})
    page.goto("/studio/metrics/")
    assert page.locator("svg.chart").count() == 6
    assert "Single image — Stat" in page.text_content("#by-preset tbody tr:first-child")
    out = screenshot_path("metrics-dashboard.png", tmp_path)
    page.screenshot(path=str(out), full_page=True)
    assert out.stat().st_size > 10000
