"""Only staff get into the studio: pages, plan endpoints, actions, media files and the socket."""
import os

import pytest
from django.test import Client

from jobs import services
from jobs.models import Job

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def job(tiny_pipeline, preset):
    return services.job_create(preset=preset, inputs={"sport": "nfl", "matchup_id": "nfl-1"})


def urls(job):
    base = f"/studio/jobs/{job.pk}"
    return {
        "pages": ["/studio/", f"{base}/"],
        "get_api": [f"{base}/plan", f"{base}/files/L3/note.txt", "/studio/matchups?preset=test-reel&sport=nfl"],
        "post_api": [f"{base}/plan", f"{base}/approve", f"{base}/skip-preview", f"{base}/reject", f"{base}/retry",
                     f"{base}/rerun"],
    }


def test_anonymous_users_are_turned_away_everywhere(job):
    client = Client()
    for url in urls(job)["pages"]:
        response = client.get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"], url
    for url in urls(job)["get_api"]:
        assert client.get(url).status_code == 403, url
    for url in urls(job)["post_api"]:
        assert client.post(url, "{}", content_type="application/json").status_code == 403, url


def test_non_staff_users_are_turned_away_everywhere(job, plain_user):
    client = Client()
    client.force_login(plain_user)
    for url in urls(job)["pages"] + urls(job)["get_api"]:
        assert client.get(url).status_code == 403, url
    for url in urls(job)["post_api"]:
        assert client.post(url, "{}", content_type="application/json").status_code == 403, url
    job.refresh_from_db()
    assert job.status == Job.Status.AWAITING_REVIEW


def test_staff_get_in(job, staff_user):
    client = Client()
    client.force_login(staff_user)
    for url in urls(job)["pages"] + urls(job)["get_api"]:
        assert client.get(url).status_code == 200, url


def test_posts_without_a_csrf_token_are_refused(job, staff_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff_user)
    for url in urls(job)["post_api"]:
        assert client.post(url, "{}", content_type="application/json").status_code == 403, url
    job.refresh_from_db()
    assert job.status == Job.Status.AWAITING_REVIEW


@pytest.mark.parametrize("path", [
    "../../../../etc/passwd", "L3/../../../../etc/passwd", "%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "..%2f..%2f..%2fetc%2fpasswd", "%2fetc%2fpasswd", "L3/%00note.txt", "L3", "nope.txt", "L3/link.txt",
])
def test_files_never_come_from_outside_the_job_folder(job, staff_user, path, tmp_path):
    outside = tmp_path / "secret.txt"
    outside.write_text("secret")
    os.symlink(outside, job.work_dir / "L3" / "link.txt")
    client = Client()
    client.force_login(staff_user)
    response = client.get(f"/studio/jobs/{job.pk}/files/{path}")
    assert response.status_code in (400, 404), path
    assert b"secret" not in b"".join(getattr(response, "streaming_content", [response.content]))


def test_absolute_paths_are_refused(job, staff_user):
    client = Client()
    client.force_login(staff_user)
    assert client.get(f"/studio/jobs/{job.pk}/files//etc/passwd").status_code == 404


def test_unknown_job_is_404_for_staff(staff_user):
    client = Client()
    client.force_login(staff_user)
    assert client.get("/studio/jobs/00000000-0000-0000-0000-000000000000/").status_code == 404
