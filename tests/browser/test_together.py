"""Two reviewers on one job, in two browsers: presence, the shared draft, comments and rollback, live."""
import io
import logging

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client

from jobs.models import Job
from presets.models import Preset
from tests.browser.conftest import _wait_for_idle_workers
from tests.browser.helpers import screenshot_path
from tests.browser.test_studio import job_in_review, open_review
from tests.conftest import desk_member

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
LIVE_MS = 10000


@pytest.fixture
def two_reviewers(browser, live_stack, db):
    """Alice's and Bob's pages, each in its own browser context with its own session."""
    pages = []
    for name in ("alice", "bob"):
        client = Client()
        client.force_login(desk_member(name, "reviewer"))
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, base_url=live_stack["url"],
                                      bypass_csp=True)  # wait_for_function's eval; the CSP has its own test
        context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "url": live_stack["url"],
                              "value": client.cookies[settings.SESSION_COOKIE_NAME].value}])
        page = context.new_page()
        page.errors = []
        page.on("pageerror", lambda error, page=page: page.errors.append(str(error)))
        pages.append(page)
    yield pages
    for page in pages:
        if page.errors:
            logging.getLogger("tests.browser").warning("browser errors: %s", page.errors)
        page.context.close()
    _wait_for_idle_workers()


def set_slider(page, selector: str, value: float) -> None:
    page.evaluate("([s, v]) => { const el = document.querySelector(s); el.value = v;"
                  " el.dispatchEvent(new Event('input', { bubbles: true })); }", [selector, value])


def test_two_reviewers_see_each_other_and_each_others_changes(two_reviewers, tmp_path):
    """given alice and bob on one job's page,
    when alice sizes the text and bob edits the headline, alice comments and bob resolves, bob rolls back,
    then each page shows the other's presence, draft, comment and rollback without a reload, and approving
    renders exactly one plan version: the draft both saw."""
    call_command("load_presets", stdout=io.StringIO())
    job = job_in_review(Preset.objects.get(slug="reel_hype"))
    alice, bob = two_reviewers
    open_review(alice, job)
    open_review(bob, job)

    # Presence.
    alice.wait_for_selector("#presence .viewer:text('bob')", timeout=LIVE_MS)
    bob.wait_for_selector("#presence .viewer:text('alice')", timeout=LIVE_MS)

    # Alice's size reaches Bob's controls and canvas.
    before = bob.evaluate("studio.view.plan.scenes[0].layers.find((l) => l.type === 'text').size")
    set_slider(alice, "#text-scale", 1.3)
    bob.wait_for_function("studio.adjustments.text_scale === 1.3", timeout=LIVE_MS)
    bob.wait_for_function(f"studio.view.plan.scenes[0].layers.find((l) => l.type === 'text').size > {before}",
                          timeout=LIVE_MS)
    assert bob.input_value("#text-scale") == "1.3"
    assert "alice" in bob.text_content("#draft-notice")

    # Bob's wording reaches Alice's edit field.
    field = bob.locator("#text-edits input[data-layer]").first
    layer_id = field.get_attribute("data-layer")
    field.fill("Bills by three")
    alice.wait_for_function(f"studio.adjustments.text_edits['{layer_id}'] === 'Bills by three'", timeout=LIVE_MS)
    assert alice.input_value(f"#text-edits input[data-layer='{layer_id}']") == "Bills by three"
    assert alice.evaluate("studio.adjustments.text_scale") == 1.3  # the fields merged: nothing was lost

    # A comment pinned to a moment and a layer, resolved by the other.
    alice.evaluate("studio.player.seek(2.5)")
    alice.select_option("#comment-form select[name=layer]", layer_id)
    alice.fill("#comment-form textarea", "stat: wrong line")
    alice.click("#comment-form button[type=submit]")
    bob.wait_for_selector("#comments li:has-text('stat: wrong line')", timeout=LIVE_MS)
    assert bob.locator("#comment-marks button").count() == 1
    assert "00:02.5" in bob.text_content("#comments li")
    bob.click("#comments li button:text('Resolve')")
    alice.wait_for_selector("#comments li.resolved", timeout=LIVE_MS)
    assert alice.locator("#comment-marks button").count() == 0

    # A colour that does not read there: the contrast warning is on both pages (Alice's from Bob's save)...
    unreadable = bob.evaluate(f"""(() => {{
        const layer = studio.view.plan.scenes.flatMap((s) => s.layers).find((l) => l.id === '{layer_id}');
        return studio.view.plan.palette.find((c) => !layer.readable_colors.includes(c)); }})()""")
    bob.select_option(f"select[data-layer='{layer_id}']", unreadable)
    warning = f".contrast-warning[data-layer='{layer_id}']"
    alice.wait_for_function(f"studio.adjustments.colors['{layer_id}'] === '{unreadable}'", timeout=LIVE_MS)
    for page in (alice, bob):
        assert page.locator(warning).is_visible()

    # Rollback to the plan as built, from Bob's page: both pages go back.
    bob.click("[data-rollback-version='1']")
    for page in (alice, bob):
        page.wait_for_function("studio.adjustments.text_scale === 1 && !Object.keys(studio.adjustments.text_edits)"
                               ".length", timeout=LIVE_MS)
        # ...and goes with the rollback that restored a colour that reads (it stayed up before)
        page.wait_for_function(f"document.querySelector(\"{warning}\").hidden", timeout=LIVE_MS)
    alice.wait_for_selector("#drafts li:has-text('rolled back to plan version 1')", timeout=LIVE_MS)
    assert alice.input_value(f"#text-edits input[data-layer='{layer_id}']") != "Bills by three"

    # Approval renders one version: the draft both saw.
    set_slider(alice, "#text-scale", 1.1)
    alice.click("#approve")
    alice.wait_for_function("studio.approved > 0", timeout=LIVE_MS)
    job.refresh_from_db()
    version = job.plan_versions.get(number=alice.evaluate("studio.approved"))
    assert version.adjustments["text_scale"] == 1.1 and version.approved_by.username == "alice"
    assert job.plan_versions.filter(approved_at__isnull=False).count() == 1
    assert job.draft_revisions.order_by("-number").first().adjustments == version.adjustments
    assert job.status in (Job.Status.APPROVED, Job.Status.RENDERING, Job.Status.DONE)
    assert alice.errors == [] and bob.errors == []
    alice.screenshot(path=str(screenshot_path("review-together.png", tmp_path)), full_page=True)


def test_a_suggestion_is_applied_with_one_click(staff_page):
    """given a reviewer's headline too long for its box, the page suggests a shorter wording; one click puts it
    in the edit field, the draft and the canvas."""
    call_command("load_presets", stdout=io.StringIO())
    job = job_in_review(Preset.objects.get(slug="reel_hype"))
    page = staff_page
    open_review(page, job)
    page.wait_for_function("document.getElementById('suggestions-state').textContent !== 'checking…'",
                           timeout=LIVE_MS)
    field = page.locator("#text-edits input[data-layer$='_headline']").first
    layer_id = field.get_attribute("data-layer")
    field.fill("THE BILLS ARE REALLY GOING TO WIN THIS ONE FOR SURE TONIGHT AT HOME IN THE COLD")
    fix = page.locator(f"#suggestion-list li[data-suggestion='fit:{layer_id}'] button")
    fix.wait_for(timeout=LIVE_MS)
    fix.click()
    page.wait_for_function(f"studio.view.plan.scenes.some((s) => s.layers.some((l) => l.id === '{layer_id}' &&"
                           f" l.text.length < 60))", timeout=LIVE_MS)
    wording = page.evaluate(f"studio.adjustments.text_edits['{layer_id}']")
    assert page.input_value(f"#text-edits input[data-layer='{layer_id}']") == wording and len(wording) < 60
    page.wait_for_function("studio.draft.seen > 1 && !studio.draft.pending.size", timeout=LIVE_MS)
    job.refresh_from_db()
    assert job.draft_revisions.order_by("-number").first().adjustments["text_edits"][layer_id] == wording
    assert page.errors == []


def test_two_reviewers_write_the_post_together_and_approval_freezes_it(two_reviewers):
    """given alice and bob on a carousel's page,
    when alice rewrites the caption's hook and bob sets the hashtags and a slide's alt text,
    then each sees the other's words, the counts per platform follow, a number not in the data is refused in
    words, and approval freezes the post copy both saw with the plan."""
    call_command("load_presets", stdout=io.StringIO())
    job = job_in_review(Preset.objects.get(slug="carousel_illustrated"))
    built = job.plan_versions.get(number=1).plan["post"]
    alice, bob = two_reviewers
    open_review(alice, job)
    open_review(bob, job)
    for page in (alice, bob):
        page.click("#post-copy summary")  # folded, so Approve stays near the canvas
    assert alice.input_value("#post-caption") == built["caption"]
    assert bob.input_value("#post-hashtags") == " ".join(built["hashtags"])
    assert alice.locator("#alt-texts textarea").count() == len(built["alt_text"]) > 1
    x_row = "#post-platforms li[data-platform='x']"
    assert "of 280 characters" in alice.text_content(x_row)

    caption = "Bills at Chiefs: the three picks we like.\n\n" + built["caption"].split("\n\n", 1)[1]
    alice.fill("#post-caption", caption)
    bob.wait_for_function("(c) => studio.adjustments.post_caption === c", arg=caption, timeout=LIVE_MS)
    bob.wait_for_function("(c) => document.getElementById('post-caption').value === c", arg=caption,
                          timeout=LIVE_MS)

    bob.fill("#post-hashtags", "#BillsMafia #ChiefsKingdom")
    alt = bob.locator("#alt-texts textarea").nth(1)
    scene = alt.get_attribute("data-scene")
    alt.fill("The Bills quarterback's card in team colors, with his line and his last five games")
    alice.wait_for_function(f"studio.adjustments.alt_text?.['{scene}']?.startsWith('The Bills')", timeout=LIVE_MS)
    alice.wait_for_selector("#post-platforms li[data-platform='instagram']:has-text('2 of 30 hashtags')",
                            timeout=LIVE_MS)
    assert alice.input_value("#post-hashtags") == "#BillsMafia #ChiefsKingdom"

    # A number the data does not have is refused, in words, and nothing else is lost.
    alice.fill("#post-caption", caption + "\n\nWe'd take the over at 999.5.")
    alice.wait_for_selector("#adjust-errors:has-text('999.5')", timeout=LIVE_MS)
    alice.fill("#post-caption", caption)
    alice.wait_for_function("document.getElementById('adjust-errors').textContent === ''", timeout=LIVE_MS)
    alice.wait_for_function("studio.draft.seen > 1 && !studio.draft.pending.size", timeout=LIVE_MS)

    alice.click("#approve")
    alice.wait_for_function("studio.approved > 0", timeout=LIVE_MS)
    post = job.plan_versions.get(number=alice.evaluate("studio.approved")).plan["post"]
    assert post["caption"] == caption
    assert post["hashtags"] == ["#BillsMafia", "#ChiefsKingdom"]
    assert post["alt_text"][scene].startswith("The Bills quarterback's card")
    assert alice.errors == [] and bob.errors == []
