"""Approving with moved odds, and plan versions that say what changed."""
import io
import json

import pytest
from django.core.management import call_command

from jobs.models import Job, Render
from presets.models import Preset
from tests.fakes import upstream as fake

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def odds_job(db, upstream, settings):
    """A still made from a GoatedBets-style odds API, waiting for review."""
    from jobs import services

    call_command("load_presets", stdout=io.StringIO())
    fake.serve_goatedbets(upstream)
    settings.PROVIDER_SECRETS = {**settings.PROVIDER_SECRETS, "goatedbets": {"api_key": "k", "base_url": upstream.url}}
    preset = Preset.objects.get(slug="single_image_stat")
    job = services.job_create(preset=preset, inputs={"sport": "nfl", "source": "goatedbets",
                                                     "matchup_id": fake.GB_MATCHUP_ID})
    job.refresh_from_db()
    assert job.status == Job.Status.AWAITING_REVIEW, job.error_message
    return job


def approve(client, job, **body):
    # The fake's game (its published example, 22 November) has kicked off: these tests are about the odds, so
    # the reviewer says a post after the start is meant (the kick-off question: tests/jobs/test_pipeline_e2e.py).
    body = {"confirm_kickoff": True, **body}
    return client.post(f"/studio/jobs/{job.pk}/approve", json.dumps(body), content_type="application/json")


def test_unchanged_odds_approve_straight_away(staff_client, odds_job):
    """given: a job in review whose lines have not moved
    when: the reviewer approves, asking for the odds check
    then: it is approved at once"""
    assert approve(staff_client, odds_job).status_code == 200
    assert Render.objects.filter(job=odds_job).count() == 1


def test_moved_odds_need_a_confirmation(staff_client, odds_job, upstream):
    """given: a job in review whose spread moved at the source
    when: the reviewer approves
    then: the answer lists the old and new line (409) and nothing is approved; approving again with the
    confirmation approves it"""
    moved = fake.goatedbets_props()
    for prop in moved["props"]:
        prop["line"] += 10
    fake.serve_goatedbets(upstream, props=lambda: moved)
    # when: approving, the lines on screen are read again and have moved
    response = approve(staff_client, odds_job)
    # then: nothing is approved; the reviewer sees old and new
    assert response.status_code == 409
    changes = response.json()["odds_changed"]
    assert changes and all(c["new"] == c["old"] + 10 for c in changes if c["field"].endswith(".line"))
    odds_job.refresh_from_db()
    assert odds_job.status == Job.Status.AWAITING_REVIEW
    # and confirming approves it as shown
    assert approve(staff_client, odds_job, confirm_odds=True).status_code == 200
    assert Render.objects.filter(job=odds_job).count() == 1


def test_rerun_with_fresh_data_rebuilds_the_plan(staff_client, odds_job, upstream):
    """given: a job in review whose line moved
    when: the reviewer re-runs it with fresh data
    then: L1 is read again (nothing cached is reused) and a new plan with the new line waits for review"""
    moved = fake.goatedbets_props()
    moved["props"][0]["line"] = 300.5
    fake.serve_goatedbets(upstream, props=lambda: moved)
    assert staff_client.post(f"/studio/jobs/{odds_job.pk}/rerun").status_code == 200
    odds_job.refresh_from_db()
    assert odds_job.status == Job.Status.AWAITING_REVIEW
    l1 = odds_job.layer_runs.get(layer="L1", status="done")
    assert l1.output["matchup"]["props"][0]["line"] == 300.5
    assert odds_job.layer_runs.filter(status="superseded").count() == 5


def shown_figures(plan: dict) -> dict[str, float]:
    return {source["field"]: source["value"] for scene in plan["scenes"] for layer in scene["layers"]
            for source in layer.get("sources", [])}


def test_after_a_rerun_everything_works_on_the_fresh_plan(staff_client, odds_job, upstream):
    """Adjusting, the odds check, approval and the render all start from the plan built from fresh data,
    not from the job's first plan (whose odds are the stale ones)."""
    # given: the line on screen (James Cook's) moved and the reviewer re-ran the job with fresh data
    moved = fake.goatedbets_props()
    moved["props"][2]["line"] = 69.5
    fake.serve_goatedbets(upstream, props=lambda: moved)
    assert staff_client.post(f"/studio/jobs/{odds_job.pk}/rerun").status_code == 200
    # when: the reviewer adjusts the plan, then approves it
    adjusted = staff_client.post(f"/studio/jobs/{odds_job.pk}/plan",
                                 json.dumps({"adjustments": {"text_scale": 0.9}}), content_type="application/json")
    assert 69.5 in shown_figures(adjusted.json()["plan"]).values()
    response = approve(staff_client, odds_job, adjustments={"text_scale": 0.9})
    # then: no odds warning (the plan shows the fresh line) and the rendered plan carries the fresh figures
    assert response.status_code == 200, response.content
    render = Render.objects.get(job=odds_job)
    figures = shown_figures(render.plan_version.plan)
    fresh = odds_job.layer_runs.get(layer="L1", status="done").output["matchup"]
    assert figures and all(value == _resolve(fresh, field) for field, value in figures.items())
    assert 69.5 in figures.values() and 71.5 not in figures.values()


def _resolve(matchup: dict, field: str):
    from pipeline.contracts import DataPackage
    from pipeline.layers.l3_ideas.sources import resolve

    now = "2026-11-22T00:00:00Z"
    return resolve(DataPackage.model_validate({"source": "x", "fetched_at": now, "odds_as_of": now,
                                               "matchup": matchup}), field)


def test_plan_versions_say_what_changed(tiny_pipeline, preset, staff_client):
    """given: a job approved with a bigger text and a timing offset
    when: its page is opened
    then: the plan versions say what changed in words, with no raw dicts"""
    from jobs import services

    job = services.job_create(preset=preset, inputs={"sport": "nfl", "matchup_id": "v1"})
    assert approve(staff_client, job, adjustments={"text_scale": 1.2, "timing_offset": 0.5}).status_code == 200
    page = staff_client.get(f"/studio/jobs/{job.pk}/").content.decode()
    assert "All text size 100 % → 120 %" in page and "Text timing +0.00 s → +0.50 s" in page
    assert "{" not in page.split('id="versions"')[-1].split("</section>")[0]  # no dict reprs


def test_a_layer_that_does_not_run_says_so_and_why(staff_client, preset):
    """A done job without a destination showed L7 as "waiting" for ever."""
    from jobs import services

    job = services.job_create(preset=preset, inputs={"sport": "nfl", "date": "2026-11-22"}, start=False)
    page = staff_client.get(f"/studio/jobs/{job.pk}/").content.decode()
    l7 = page.split('data-layer="L7"')[1].split("</li>")[0]
    assert "layer-skipped" in page and "skipped" in l7 and "no destination" in l7 and "waiting" not in l7
