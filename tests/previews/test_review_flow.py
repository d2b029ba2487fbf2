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
    job = services.job_create(preset=preset, inputs={"sport": "nfl", "source": "goatedbets", "matchup_id": fake.GB_MATCHUP_ID})
    job.refresh_from_db()
    assert job.status == Job.Status.AWAITING_REVIEW, job.error_message
    return job


def approve(client, job, **body):
    return client.post(f"/studio/jobs/{job.pk}/approve", json.dumps(body), content_type="application/json")


def test_unchanged_odds_approve_straight_away(staff_client, odds_job):
    assert approve(staff_client, odds_job).status_code == 200
    assert Render.objects.filter(job=odds_job).count() == 1


def test_moved_odds_need_a_confirmation(staff_client, odds_job, upstream):
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
    moved = fake.goatedbets_props()
    moved["props"][0]["line"] = 300.5
    fake.serve_goatedbets(upstream, props=lambda: moved)
    assert staff_client.post(f"/studio/jobs/{odds_job.pk}/rerun").status_code == 200
    odds_job.refresh_from_db()
    assert odds_job.status == Job.Status.AWAITING_REVIEW
    l1 = odds_job.layer_runs.get(layer="L1", status="done")
    assert l1.output["matchup"]["props"][0]["line"] == 300.5
    assert odds_job.layer_runs.filter(status="superseded").count() == 5


def test_plan_versions_say_what_changed(tiny_pipeline, preset, staff_client):
    from jobs import services

    job = services.job_create(preset=preset, inputs={"sport": "nfl", "matchup_id": "v1"})
    assert approve(staff_client, job, adjustments={"text_scale": 1.2, "timing_offset": 0.5}).status_code == 200
    page = staff_client.get(f"/studio/jobs/{job.pk}/").content.decode()
    assert "All text size 100 % → 120 %" in page and "Text timing +0.00 s → +0.50 s" in page
    assert "{" not in page.split('id="versions"')[-1].split("</section>")[0]  # no dict reprs
