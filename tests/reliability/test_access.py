"""Only staff get into the studio: pages, plan endpoints, actions, media files and the socket; and each desk role
may do exactly what its group allows, in the studio as in the admin."""
import io
import json
import os

import pytest
from django.test import Client

from jobs import services
from jobs.models import Job

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def job(storage_backend, tiny_pipeline, preset):
    """A job in review, its files on local disk or in the object store (every test here runs on both)."""
    return services.job_create(preset=preset, inputs={"sport": "nfl", "matchup_id": "nfl-1"})


def served(client, url: str):
    """The response to a GET, following the object store's signed link when the studio hands one out."""
    response = client.get(url)
    if response.status_code == 302 and "X-Amz-Signature=" in response["Location"]:
        import requests

        return requests.get(response["Location"], timeout=10)
    return response


def urls(job):
    base = f"/studio/jobs/{job.pk}"
    return {
        "pages": ["/studio/", f"{base}/"],
        "get_api": [f"{base}/plan", f"{base}/files/L3/note.txt", "/studio/matchups?preset=test-reel&sport=nfl"],
        "post_api": [f"{base}/plan", f"{base}/approve", f"{base}/skip-preview", f"{base}/reject", f"{base}/retry",
                     f"{base}/rerun"],
    }


def test_anonymous_users_are_turned_away_everywhere(job):
    """given: a job in review
    when: someone not logged in asks for any studio page, endpoint or file
    then: pages send them to log in and endpoints answer 403; no file is served"""
    client = Client()
    for url in urls(job)["pages"]:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/?next="), url
    for url in urls(job)["get_api"]:
        assert client.get(url).status_code == 403, url
    for url in urls(job)["post_api"]:
        assert client.post(url, "{}", content_type="application/json").status_code == 403, url


def test_non_staff_users_are_turned_away_everywhere(job, plain_user):
    """given: a job in review and a logged-in user who is not staff
    when: they ask for any studio page, endpoint or file
    then: every answer is 403, and the job is unchanged"""
    client = Client()
    client.force_login(plain_user)
    for url in urls(job)["pages"] + urls(job)["get_api"]:
        assert client.get(url).status_code == 403, url
    for url in urls(job)["post_api"]:
        assert client.post(url, "{}", content_type="application/json").status_code == 403, url
    job.refresh_from_db()
    assert job.status == Job.Status.AWAITING_REVIEW


def test_staff_get_in(job, staff_user):
    """given: a job in review and a staff user
    when: they ask for its pages, plan and files
    then: they get them"""
    client = Client()
    client.force_login(staff_user)
    for url in urls(job)["pages"] + urls(job)["get_api"]:
        assert served(client, url).status_code == 200, url


def test_posts_without_a_csrf_token_are_refused(job, staff_user):
    """given: a staff user whose client enforces CSRF
    when: they post to any action without the token
    then: every post is refused (403) and the job is unchanged"""
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
    """given: a job and a path that climbs out of its folder (.., encoded, a null byte, a link out) or names no
    file of it (a folder, a missing file)
    when: staff ask for it
    then: 400 or 404; nothing outside the job's folder is served"""
    outside = tmp_path / "secret.txt"
    outside.write_text("secret")
    os.symlink(outside, job.work_dir / "L3" / "link.txt")
    client = Client()
    client.force_login(staff_user)
    response = client.get(f"/studio/jobs/{job.pk}/files/{path}")
    assert response.status_code in (400, 404), path
    assert b"secret" not in b"".join(getattr(response, "streaming_content", [response.content]))


def test_absolute_paths_are_refused(job, staff_user):
    """given: a job
    when: staff ask for an absolute path as one of its files
    then: 404"""
    client = Client()
    client.force_login(staff_user)
    assert client.get(f"/studio/jobs/{job.pk}/files//etc/passwd").status_code == 404


def test_unknown_job_is_404_for_staff(staff_user):
    """given: no such job
    when: staff ask for its page
    then: 404"""
    client = Client()
    client.force_login(staff_user)
    assert client.get("/studio/jobs/00000000-0000-0000-0000-000000000000/").status_code == 404


# --- Who may do what: every desk role against every page, action, file and socket -----------------------

ROLES = ("reviewer", "designer", "desk admin", "no group")
# (what, method, url template, body, the roles allowed)
MATRIX = [
    ("job list", "get", "/studio/", None, {"reviewer", "designer", "desk admin"}),
    ("start a job", "post", "/studio/", {"preset": "test-reel", "sport": "nfl", "date": "2026-11-22"},
     {"reviewer", "designer", "desk admin"}),
    ("matchup picker", "get", "/studio/matchups?preset=test-reel&sport=nfl", None,
     {"reviewer", "designer", "desk admin"}),
    ("job page", "get", "{job}/", None, {"reviewer", "designer", "desk admin"}),
    ("plan", "get", "{job}/plan", None, {"reviewer", "designer", "desk admin"}),
    ("adjust", "post", "{job}/plan", {"adjustments": {"text_scale": 1.1}}, {"reviewer", "desk admin"}),
    ("approve", "post", "{job}/approve", {}, {"reviewer", "desk admin"}),
    ("skip preview", "post", "{job}/skip-preview", {}, {"desk admin"}),
    ("reject", "post", "{job}/reject", {"reason": "off brand"}, {"reviewer", "desk admin"}),
    ("retry", "post", "{job}/retry", {}, {"reviewer", "desk admin"}),
    ("re-run", "post", "{job}/rerun", {}, {"reviewer", "desk admin"}),
    ("job file", "get", "{job}/files/L3/note.txt", None, {"reviewer", "designer", "desk admin"}),
    ("frames", "get", "{job}/frames", None, {"reviewer", "designer", "desk admin"}),
    ("batch grid", "get", "/studio/batch/", None, {"reviewer", "designer", "desk admin"}),
    ("batch action", "post", "/studio/batch/action", {"action": "reject", "jobs": ["{id}"], "reason": "x"},
     {"reviewer", "desk admin"}),
    ("metrics", "get", "/studio/metrics/", None, {"reviewer", "designer", "desk admin"}),
    ("presets", "get", "/studio/presets/", None, {"reviewer", "designer", "desk admin"}),
    ("preset builder", "get", "/studio/presets/test-reel/", None, {"reviewer", "designer", "desk admin"}),
    ("edit preset", "post", "/studio/presets/test-reel/", "form", {"designer", "desk admin"}),
    ("thumbnails", "post", "/studio/presets/test-reel/thumbnails", {"config": {}}, {"designer", "desk admin"}),
    ("duplicate preset", "post", "/studio/presets/test-reel/duplicate", "form", {"designer", "desk admin"}),
    ("upload a logo", "post", "/studio/presets/test-reel/upload/logo", "form", {"designer", "desk admin"}),
    ("upload a font", "post", "/studio/presets/test-reel/upload/font", "form", {"designer", "desk admin"}),
    ("upload a reference image", "post", "/studio/presets/test-reel/upload/reference", "form",
     {"designer", "desk admin"}),
    ("save the shared draft", "post", "{job}/draft", {"changes": {"text_scale": 1.1}, "seen": 0},
     {"reviewer", "desk admin"}),
    ("roll back the draft", "post", "{job}/rollback", {"version": 1}, {"reviewer", "desk admin"}),
    ("comment", "post", "{job}/comments", {"at_s": 0.1, "text": "logo?"}, {"reviewer", "designer", "desk admin"}),
    ("read comments", "get", "{job}/comments", None, {"reviewer", "designer", "desk admin"}),
    ("admin: change a preset", "post", "/admin/presets/preset/{preset}/change/", "form", {"designer", "desk admin"}),
]


def member(role: str):
    from tests.conftest import desk_member

    return desk_member(role.replace(" ", "-"), *([] if role == "no group" else [role]))


@pytest.mark.parametrize(("what", "method", "url", "body", "allowed"), MATRIX, ids=[m[0] for m in MATRIX])
def test_each_desk_role_may_do_what_its_group_allows(tiny_pipeline, preset, what, method, url, body, allowed):
    from presets.models import Preset

    for role in ROLES:
        # given: a member of the role, logged in, and a job waiting for review (a failed one for a retry)
        client = Client()
        client.force_login(member(role))
        job = services.job_create(preset=preset, inputs={"sport": "nfl", "matchup_id": f"nfl-{role}"})
        if what == "retry":
            Job.objects.filter(pk=job.pk).update(status=Job.Status.FAILED, retryable=True, failed_layer="L3")
        before = Job.objects.get(pk=job.pk).status
        target = url.format(job=f"/studio/jobs/{job.pk}", id=job.pk, preset=Preset.objects.get(slug="test-reel").pk)
        # when
        if method == "get":
            response = client.get(target)
        elif body == "form":
            response = client.post(target, {"name": "x"})
        else:
            response = client.post(target, json.dumps(body).replace("{id}", str(job.pk)),
                                   content_type="application/json")
        # then: refused with 403 exactly when the role lacks the permission, and then nothing changed
        if role in allowed:
            assert response.status_code != 403, (role, what, response.content[:200])
        else:
            assert response.status_code == 403, (role, what, response.status_code)
            assert Job.objects.get(pk=job.pk).status == before, (role, what)


@pytest.mark.parametrize("role", ROLES)
def test_the_sockets_follow_the_same_rule(job, role):
    """given: a job and a user of each kind
    when: they open the job's socket and the studio's
    then: only those who may see jobs are let in"""
    from tests.previews.test_socket import connect

    user = member(role)
    for path in (f"/ws/jobs/{job.pk}/", "/ws/studio/"):
        connected, code = connect(path, user)
        assert connected is (role != "no group"), (role, path, code)


def test_setup_makes_the_desk_groups(db):
    """given: a fresh database
    when: `setup` runs, twice
    then: the three desk groups exist with the permissions README lists (a desk admin's include the others')"""
    from django.contrib.auth.models import Group
    from django.core.management import call_command

    call_command("setup", stdout=io.StringIO())
    call_command("setup", stdout=io.StringIO())  # idempotent
    groups = {g.name: {f"{p.content_type.app_label}.{p.codename}" for p in g.permissions.all()}
              for g in Group.objects.all()}
    assert set(groups) == {"reviewer", "designer", "desk admin"}
    assert "jobs.review_job" in groups["reviewer"] and "presets.change_preset" not in groups["reviewer"]
    assert "presets.upload_brand_files" in groups["designer"] and "jobs.review_job" not in groups["designer"]
    assert groups["reviewer"] | groups["designer"] <= groups["desk admin"]


def test_setup_prints_a_password_that_logs_in_and_keeps_one_file_per_database(db):
    """given: setup run on this (test) database, then the admin's password changed, then setup again
    then: the first run prints a password that logs in, kept in a file of this database's own (setting up a
    second database does not overwrite the embedded one's var/admin-password.txt); the second run does not
    print the stale one"""
    import re as regex

    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from jobs.management.commands.setup import admin_password_file

    kept = admin_password_file()
    assert kept.name != "admin-password.txt" and kept.parent.name == "var"
    kept.unlink(missing_ok=True)
    out = io.StringIO()
    call_command("setup", stdout=out)
    password = regex.search(r"with password '([^']+)'", out.getvalue()).group(1)
    user = get_user_model().objects.get(username="admin")
    assert user.check_password(password) and kept.read_text().strip() == password
    user.set_password("changed-by-the-desk-admin")
    user.save()
    out = io.StringIO()
    call_command("setup", stdout=out)
    assert password not in out.getvalue() and "changepassword admin" in out.getvalue()
    kept.unlink()


@pytest.mark.parametrize("role", ROLES)
def test_job_files_in_the_object_store_follow_the_same_rule(object_store, tiny_pipeline, preset, role):
    """given: a job whose files are in the object store
    when: a member of each role asks for one
    then: the roles that may see jobs get a signed link to exactly that file; the others a 403 and no link"""
    client = Client()
    client.force_login(member(role))
    job = services.job_create(preset=preset, inputs={"sport": "nfl", "matchup_id": "nfl-1"})
    response = client.get(f"/studio/jobs/{job.pk}/files/L3/note.txt")
    if role == "no group":
        assert response.status_code == 403 and "Location" not in response
    else:
        assert response.status_code == 302
        assert f"/jobs/{job.pk}/L3/note.txt?" in response["Location"]
        assert served(client, f"/studio/jobs/{job.pk}/files/L3/note.txt").status_code == 200
