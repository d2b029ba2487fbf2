"""The render ahead: a plan waiting for review is rendered on idle workers, so approving it only joins."""
import json

import pytest

from jobs import services
from jobs.models import Job
from pipeline.render.chunks import cache_folder

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def real_render(settings):
    settings.PIPELINE = {**settings.PIPELINE, "FACTORY": "tests.pipelines.with_real_render", "RENDER_AHEAD": True}


def chunks_in(job) -> set[str]:
    return {path.name for path in cache_folder(job.work_dir).glob("*.mp4")}


def in_review(preset, matchup="g") -> Job:
    job = services.job_create(preset=preset, inputs={"sport": "nfl", "matchup_id": matchup})
    job.refresh_from_db()
    assert job.status == Job.Status.AWAITING_REVIEW, job.error_message
    return job


def video_of(job) -> dict:
    job.refresh_from_db()
    assert job.status == Job.Status.DONE, job.error_message
    output = job.layer_runs.get(layer="L6").output
    return next(f for f in output["files"] if f["kind"] == "video")


def test_a_plan_in_review_is_rendered_ahead_and_approving_it_only_joins(real_render, preset, staff_user):
    """given: a two-scene reel reaching review with idle workers
    when: the reviewer approves it as built
    then: both scene chunks were rendered while it waited, and the render reuses them both"""
    job = in_review(preset)
    assert len(chunks_in(job)) == 2
    assert job.ahead_done == job.ahead_wanted != ""
    services.job_approve(job_id=job.pk, user=staff_user)
    video = video_of(job)
    assert (video["scenes"], video["scenes_reused"]) == (2, 2)
    assert video["frames"] == 20


def test_the_render_ahead_gives_way_to_other_jobs_and_resumes_when_they_are_done(real_render, preset):
    """given: another job waiting for a worker when this one reaches review
    then: nothing is rendered ahead; once the other job is gone, the watchdog queues the render ahead"""
    other = services.job_create(preset=preset, inputs={"sport": "nfl", "matchup_id": "g"}, start=False)
    job = in_review(preset)
    assert chunks_in(job) == set() and job.ahead_done == ""
    assert services.render_ahead_idle() == []  # still busy
    services.job_cancel(job_id=other.pk)
    assert services.render_ahead_idle() == [str(job.pk)]
    job.refresh_from_db()
    assert len(chunks_in(job)) == 2 and job.ahead_done == job.ahead_wanted


def test_an_adjustment_is_rendered_ahead_scene_by_scene(real_render, preset, staff_user, staff_client):
    """given: a plan rendered ahead as built
    when: the reviewer edits the headline, which only the second scene shows, and approves that
    then: only the second scene is rendered again, ahead of approval, and the approved render reuses both"""
    job = in_review(preset)
    built = chunks_in(job)
    adjustments = {"text_edits": {"headline": "ALLEN: LOCK OF THE WEEK"}}
    response = staff_client.post(f"/studio/jobs/{job.pk}/plan", json.dumps({"adjustments": adjustments}),
                                 content_type="application/json")
    assert response.status_code == 200, response.content
    assert len(chunks_in(job) - built) == 1
    services.job_approve(job_id=job.pk, user=staff_user, adjustments=adjustments)
    assert video_of(job)["scenes_reused"] == 2


def test_a_rejected_job_is_not_rendered_ahead(real_render, preset, staff_user, settings):
    settings.PIPELINE = {**settings.PIPELINE, "RENDER_AHEAD": False}
    job = in_review(preset)
    settings.PIPELINE = {**settings.PIPELINE, "RENDER_AHEAD": True}
    services.job_reject(job_id=job.pk, user=staff_user, reason="wrong player")
    assert services.render_ahead_idle() == []
    assert services.render_ahead_run(job_id=job.pk) == 0
    assert chunks_in(job) == set()


def test_a_render_ahead_that_fails_is_not_tried_again_and_approval_names_the_problem(real_render, preset,
                                                                                    staff_user, settings):
    """given: a plan in review whose picture has gone from the job folder
    then: the render ahead stops with a warning and is not queued again; approving is refused, naming the file"""
    settings.PIPELINE = {**settings.PIPELINE, "RENDER_AHEAD": False}
    job = in_review(preset)
    (job.work_dir / "bg1.jpg").unlink()
    settings.PIPELINE = {**settings.PIPELINE, "RENDER_AHEAD": True}
    services.render_ahead_want(job.pk)
    job.refresh_from_db()
    assert job.ahead_done == job.ahead_wanted
    assert services.render_ahead_idle() == []
    with pytest.raises(services.InvalidInput) as refused:
        services.job_approve(job_id=job.pk, user=staff_user)
    assert "bg1.jpg" in str(refused.value.errors)
    job.refresh_from_db()
    assert job.status == Job.Status.AWAITING_REVIEW
