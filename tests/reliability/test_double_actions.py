"""5. Approve posted twice at once, replayed later, or racing skip-preview: exactly one render."""
import threading

import pytest
from django.db import connection
from django.test import Client

from jobs import services
from jobs.models import Job, PlanVersion, Render

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def in_review(tiny_pipeline, preset):
    job = services.job_create(preset=preset, inputs={"sport": "nfl", "matchup_id": "g"})
    job.refresh_from_db()
    assert job.status == Job.Status.AWAITING_REVIEW
    return job


def post_at_once(user, urls):
    """POST every url from its own thread, released together."""
    start = threading.Barrier(len(urls))
    results = [None] * len(urls)

    def post(index, url):
        client = Client()
        client.force_login(user)
        start.wait()
        try:
            results[index] = client.post(url, "{}", content_type="application/json").status_code
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(i, url)) for i, url in enumerate(urls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_approve_posted_twice_at_once_renders_once(in_review, staff_user):
    """given: a job in review
    when: Approve is posted twice at the same moment
    then: one approval (200) and one refusal (409); one approved plan version and one render"""
    url = f"/studio/jobs/{in_review.pk}/approve"
    assert sorted(post_at_once(staff_user, [url, url])) == [200, 409]
    assert Render.objects.filter(job=in_review).count() == 1
    assert PlanVersion.objects.filter(job=in_review, approved_at__isnull=False).count() == 1


def test_approve_replayed_later_is_refused(in_review, staff_user):
    """given: a job approved once
    when: the same Approve is posted again later
    then: it is refused in words (409) and nothing renders a second time"""
    client = Client()
    client.force_login(staff_user)
    url = f"/studio/jobs/{in_review.pk}/approve"
    assert client.post(url, "{}", content_type="application/json").status_code == 200
    replay = client.post(url, "{}", content_type="application/json")
    assert replay.status_code == 409 and "cannot become approved" in replay.json()["error"]
    assert Render.objects.filter(job=in_review).count() == 1


def test_approve_racing_skip_preview_renders_once(in_review, staff_user):
    """given: a job in review
    when: Approve and Skip preview are posted at the same moment
    then: one wins, the other is refused, and the job renders once and is done"""
    base = f"/studio/jobs/{in_review.pk}"
    results = post_at_once(staff_user, [f"{base}/approve", f"{base}/skip-preview"])
    assert sorted(results) == [200, 409]
    assert Render.objects.filter(job=in_review).count() == 1
    in_review.refresh_from_db()
    assert in_review.status == Job.Status.DONE
