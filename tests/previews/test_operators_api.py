"""Batch actions and variants, through the studio's endpoints and services."""
import io
import json

import pytest
from django.core.management import call_command

from jobs import services
from jobs.models import Job, Render
from presets.models import Preset

pytestmark = pytest.mark.django_db(transaction=True)


def batch(client, **body):
    return client.post("/studio/batch/action", json.dumps(body), content_type="application/json")


def test_batch_approve_records_each_decision(tiny_pipeline, preset, staff_client, staff_user):
    jobs = [services.job_create(preset=preset, inputs={"sport": "nfl", "matchup_id": f"b{i}", "batch": True})
            for i in range(3)]
    assert staff_client.get("/studio/batch/").content.decode().count('class="tile"') == 3
    response = batch(staff_client, action="approve", jobs=[str(j.pk) for j in jobs[:2]])
    # each with where its job stands now, for its tile to follow it from
    assert response.json()["results"] == {str(jobs[0].pk): {"ok": True, "status": "done"},
                                          str(jobs[1].pk): {"ok": True, "status": "done"}}
    for job in jobs[:2]:
        job.refresh_from_db()
        assert job.status == Job.Status.DONE
        assert job.plan_versions.get(approved_at__isnull=False).approved_by == staff_user
    again = batch(staff_client, action="approve", jobs=[str(jobs[0].pk)]).json()["results"][str(jobs[0].pk)]
    assert again["ok"] is False and "cannot become approved" in again["error"]


def test_batch_reject_needs_a_reason_and_bad_requests_are_400(tiny_pipeline, preset, staff_client):
    job = services.job_create(preset=preset, inputs={"sport": "nfl", "matchup_id": "r1", "batch": True})
    result = batch(staff_client, action="reject", jobs=[str(job.pk)]).json()["results"][str(job.pk)]
    assert result["ok"] is False and "reason" in result["error"]
    assert batch(staff_client, action="explode", jobs=[str(job.pk)]).status_code == 400
    assert batch(staff_client, action="approve", jobs="all").status_code == 400
    missing = batch(staff_client, action="approve", jobs=["00000000-0000-0000-0000-000000000000"]).json()
    assert list(missing["results"].values())[0]["ok"] is False


def test_variants_differ_share_data_and_only_the_approved_one_renders(db, staff_user):
    call_command("load_presets", stdout=io.StringIO())
    still = Preset.objects.get(slug="single_image_stat")
    first = services.job_create(preset=still, inputs={"sport": "nfl", "matchup_id": "nfl-20261122-buf-kc"},
                                variants=3)
    group = list(Job.objects.filter(variant_group=first.variant_group).order_by("created_at"))
    assert [j.variant for j in group] == [0, 1, 2]
    assert all(j.status == Job.Status.AWAITING_REVIEW for j in group)
    # the data and the calendar are shared (reused from the first variant); copy and art are not
    for job in group[1:]:
        runs = dict(job.layer_runs.values_list("layer", "status"))
        assert runs["L1"] == "reused" and runs["L2"] == "reused" and runs["L3"] == "done" and runs["L5"] == "done"
    arts = {j.assets.get(kind="background").sha256 for j in group}
    copies = {j.layer_runs.get(layer="L3").output["segments"][0]["narration"] for j in group}
    assert len(arts) == 3 and len(copies) >= 2
    services.job_approve(job_id=group[1].pk, user=staff_user)
    statuses = [Job.objects.get(pk=j.pk).status for j in group]
    assert statuses == [Job.Status.REJECTED, Job.Status.DONE, Job.Status.REJECTED]
    assert Render.objects.filter(job__variant_group=first.variant_group).count() == 1


def test_asking_for_too_many_variants_is_refused(tiny_pipeline, preset):
    with pytest.raises(services.InvalidInput, match="1, 2 or 3"):
        services.job_create(preset=preset, inputs={"sport": "nfl", "matchup_id": "v"}, variants=5)
