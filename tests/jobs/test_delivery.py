"""Delivery at the calendar slot: L7 waits for the job's publish_at on a django-q2 schedule of its own."""
import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.models import Schedule
from django_q.scheduler import scheduler

from jobs import services
from jobs.models import Job

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def delivering(settings, preset, destination):
    destination("folder")
    settings.PIPELINE = {**settings.PIPELINE, "FACTORY": "tests.pipelines.with_delivery"}
    preset.config = {**preset.config, "providers": {"distribution": {"name": "folder"}}}
    preset.save()
    return preset


def in_review(preset) -> Job:
    job = services.job_create(preset=preset, inputs={"sport": "nfl", "matchup_id": "g"})
    job.refresh_from_db()
    assert job.status == Job.Status.AWAITING_REVIEW, job.error_message
    return job


def schedule_of(job):
    return Schedule.objects.filter(name=f"deliver {job.pk}").first()


def test_a_rendered_job_waits_for_its_slot_and_is_delivered_by_its_schedule(delivering, staff_user, settings):
    """given: a job whose calendar slot (from L2) is two hours ahead
    when: it is approved and rendered
    then: it waits `scheduled` with a one-off django-q2 schedule at the slot; when the scheduler finds it due,
    L7 delivers the files and the schedule is gone"""
    job = in_review(delivering)
    l2_slot = job.layer_runs.get(layer="L2").output["publish_at"]
    assert job.publish_at.isoformat().replace("+00:00", "Z")[:19] == l2_slot[:19]
    services.job_approve(job_id=job.pk, user=staff_user)
    job.refresh_from_db()
    assert job.status == Job.Status.SCHEDULED
    schedule = schedule_of(job)
    assert schedule.func == "jobs.tasks.deliver" and schedule.next_run == job.publish_at
    assert schedule.schedule_type == Schedule.ONCE
    assert not (settings.PIPELINE["EXPORT_DIR"] / str(job.pk)).exists()

    Schedule.objects.filter(pk=schedule.pk).update(next_run=timezone.now() - timedelta(seconds=1))  # the slot came
    scheduler(broker=get_broker())  # what the cluster's scheduler runs every 30 s
    job.refresh_from_db()
    assert job.status == Job.Status.DONE, job.error_message
    assert (settings.PIPELINE["EXPORT_DIR"] / str(job.pk) / "v2" / "metadata.json").is_file()
    assert schedule_of(job) is None


def test_the_job_page_moves_the_slot_and_delivers_now(delivering, staff_user, settings):
    """given: a scheduled job
    when: the reviewer moves its slot on the page, then presses "deliver now"
    then: the schedule follows the new time; deliver now runs L7 at once and drops the schedule"""
    job = in_review(delivering)
    services.job_approve(job_id=job.pk, user=staff_user)
    client = Client()
    client.force_login(staff_user)
    later = (timezone.now() + timedelta(days=1)).replace(microsecond=0)
    response = client.post(f"/studio/jobs/{job.pk}/delivery", json.dumps({"publish_at": later.isoformat()}),
                           content_type="application/json")
    assert response.status_code == 200, response.content
    job.refresh_from_db()
    assert job.publish_at == later and schedule_of(job).next_run == later
    page = client.get(f"/studio/jobs/{job.pk}/").content.decode()
    assert "Scheduled for delivery" in page and "Deliver now" in page

    response = client.post(f"/studio/jobs/{job.pk}/delivery", json.dumps({"now": True}),
                           content_type="application/json")
    assert response.status_code == 200, response.content
    job.refresh_from_db()
    assert job.status == Job.Status.DONE and schedule_of(job) is None


@pytest.mark.parametrize("publish_at", ["yesterday", "2020-01-01T10:00:00+00:00", "2030-01-01T10:00:00", "",
                                        None, 12, ["2030-01-01T10:00:00Z"], "2030-13-01T10:00:00Z"])
def test_a_bad_slot_is_a_field_error_and_changes_nothing(delivering, staff_user, publish_at):
    job = in_review(delivering)
    before = job.publish_at
    client = Client()
    client.force_login(staff_user)
    response = client.post(f"/studio/jobs/{job.pk}/delivery", json.dumps({"publish_at": publish_at}),
                           content_type="application/json")
    assert response.status_code == 400 and "publish_at" in response.json()["errors"]
    job.refresh_from_db()
    assert job.publish_at == before


def test_the_watchdog_delivers_a_job_whose_schedule_was_lost(delivering, staff_user):
    """given: a scheduled job past its slot whose schedule row is gone (deleted by hand, a restored backup)
    then: the watchdog delivers it"""
    job = in_review(delivering)
    services.job_approve(job_id=job.pk, user=staff_user)
    Schedule.objects.filter(name=f"deliver {job.pk}").delete()
    Job.objects.filter(pk=job.pk).update(publish_at=timezone.now() - timedelta(minutes=5))
    assert services.deliveries_overdue() == [str(job.pk)]
    job.refresh_from_db()
    assert job.status == Job.Status.DONE


def test_a_job_delivered_now_before_its_render_is_delivered_right_after_it(delivering, staff_user):
    job = in_review(delivering)
    services.delivery_start(job_id=job.pk, user=staff_user)
    services.job_approve(job_id=job.pk, user=staff_user)
    job.refresh_from_db()
    assert job.status == Job.Status.DONE and schedule_of(job) is None


def test_the_calendar_lists_what_is_scheduled(delivering, staff_user):
    job = in_review(delivering)
    services.job_approve(job_id=job.pk, user=staff_user)
    client = Client()
    client.force_login(staff_user)
    body = client.get("/studio/calendar/").content.decode()
    assert str(job.pk)[:8] in body and "Scheduled for delivery" in body


@pytest.fixture
def to_webhook(settings, preset, upstream, destination):
    from tests.fakes import upstream as fake

    settings.PIPELINE = {**settings.PIPELINE, "FACTORY": "tests.pipelines.with_delivery"}
    upstream.route("POST", "/hooks/media", lambda seen: fake.ok({"received": True}))
    destination("desk-hook", kind="webhook", url=f"{upstream.url}/hooks/media")
    preset.config = {**preset.config, "providers": {"distribution": {"name": "desk-hook"}}}
    preset.save()
    return preset


def delivered(preset, user, upstream) -> dict:
    job = in_review(preset)
    services.delivery_start(job_id=job.pk, user=user)  # no waiting for the slot
    services.job_approve(job_id=job.pk, user=user)
    job.refresh_from_db()
    assert job.status == Job.Status.DONE, job.error_message
    (post,) = upstream.requests_to("/hooks/media")
    return json.loads(post.body)


def check_downloads(message: dict) -> None:
    """What a receiver does: fetch every file by its link and check its size and sha256."""
    import hashlib

    import requests

    assert message["files"]
    for described in message["files"]:
        download = requests.get(described["url"], timeout=30)
        assert download.status_code == 200, described["url"]
        assert len(download.content) == described["bytes"]
        assert hashlib.sha256(download.content).hexdigest() == described["sha256"]
        assert timezone.datetime.fromisoformat(described["url_expires_at"]) > timezone.now() + timedelta(days=6)


def test_the_webhook_carries_signed_links_a_receiver_downloads_and_checks(to_webhook, staff_user, upstream,
                                                                            live_server, settings):
    """given: a webhook destination, and files on the studio's local disk
    then: the message carries, per file, its path, size, sha256 and a link signed by the studio; a receiver
    downloads every file by its link with no login and the hashes match; a forged one answers 404 (an expired
    one 410: test_a_file_link_answers_head_and_ranges_and_expires_when_the_message_says)"""
    settings.PUBLIC_URL = live_server.url
    message = delivered(to_webhook, staff_user, upstream)
    assert all(f["url"].startswith(f"{live_server.url}/files/") for f in message["files"])
    check_downloads(message)

    import requests

    link = message["files"][0]["url"]
    assert requests.get(link[:-3] + "abc", timeout=10).status_code == 404


def test_with_object_storage_the_webhook_links_point_at_the_store(object_store, to_webhook, staff_user, upstream):
    """given: job files in the object store
    then: the links are the store's own signed links, good for WEBHOOK_URL_SECONDS, and the receiver's checks
    pass"""
    message = delivered(to_webhook, staff_user, upstream)
    import re

    for described in message["files"]:
        assert described["url"].startswith(object_store.endpoint)
        lasts = int(re.search(r"X-Amz-Expires=(\d+)", described["url"]).group(1))
        assert 604_790 <= lasts <= 604_800  # until the url_expires_at the message says
    check_downloads(message)


def test_a_file_link_answers_head_and_ranges_and_expires_when_the_message_says(to_webhook, staff_user, upstream,
                                                                                settings):
    """given: a webhook message with file links
    then: each link answers HEAD with the size, a Range with 206 and those bytes (a player seeks), a range past
    the end with 416; and it stops working at the url_expires_at the message gave, whatever the serving
    process's setting is"""
    from datetime import datetime

    from django.utils import timezone

    message = delivered(to_webhook, staff_user, upstream)
    described = message["files"][0]
    path = "/" + described["url"].split("/", 3)[3]
    client = Client()
    head = client.head(path)
    assert head.status_code == 200 and int(head["Content-Length"]) == described["bytes"]
    assert head["Accept-Ranges"] == "bytes"
    part = client.get(path, HTTP_RANGE="bytes=10-19")
    assert part.status_code == 206 and part["Content-Range"] == f"bytes 10-19/{described['bytes']}"
    whole = b"".join(client.get(path).streaming_content)
    assert b"".join(part.streaming_content) == whole[10:20] and len(whole) == described["bytes"]
    assert client.get(path, HTTP_RANGE=f"bytes={described['bytes'] + 5}-").status_code == 416
    # when: the serving process is set to keep links for a second only, the link still works until its time
    settings.PIPELINE = {**settings.PIPELINE, "WEBHOOK_URL_SECONDS": 1}
    assert client.head(path).status_code == 200
    assert datetime.fromisoformat(described["url_expires_at"]) > timezone.now()
    # and a link made to last two seconds is gone after them (410 in words)
    import time

    from jobs import files

    job = Job.objects.get()
    short = files.job_file_link(job.pk, described["file"], timezone.now() + timezone.timedelta(seconds=2))
    short_path = "/" + short.split("/", 3)[3]
    assert client.head(short_path).status_code == 200
    time.sleep(3)
    gone = client.get(short_path)
    assert gone.status_code == 410 and "expired" in gone.content.decode()


def approved_for_delivery(preset, user) -> Job:
    job = in_review(preset)
    services.delivery_start(job_id=job.pk, user=user)  # no waiting for the slot
    services.job_approve(job_id=job.pk, user=user)
    job.refresh_from_db()
    return job


def test_a_receiver_that_is_down_gets_the_delivery_again_later_not_in_a_burst(to_webhook, staff_user, upstream):
    """given: a receiver answering 503
    then: after a few tries at once, the job waits `scheduled` with a django-q2 schedule a minute ahead (not
    failed), the job page lists the attempt; when the schedule runs and the receiver is back, it is delivered,
    with the same webhook-id, and nothing is rendered again"""
    from django_q.models import Schedule

    upstream.fail("/hooks/media", *["503"] * 4)
    job = approved_for_delivery(to_webhook, staff_user)
    assert job.status == Job.Status.SCHEDULED, job.error_message
    retry = job.events.get(type="delivery.retry").payload
    assert retry["attempt"] == 1 and retry["status"] == 503
    schedule = Schedule.objects.get(name=f"deliver {job.pk}")
    assert timedelta(seconds=50) < schedule.next_run - timezone.now() <= timedelta(minutes=1)
    assert len(upstream.requests_to("/hooks/media")) == 4
    client = Client()
    client.force_login(staff_user)
    page = client.get(job.get_absolute_url()).content.decode()
    assert "Delivery attempts" in page and "503" in page and "next try" in page
    # when: the schedule comes due, and the receiver answers
    from jobs import tasks

    tasks.deliver(str(job.pk))
    job.refresh_from_db()
    assert job.status == Job.Status.DONE and job.renders.count() == 1
    ids = {dict((k.lower(), v) for k, v in seen.headers.items())["webhook-id"]
           for seen in upstream.requests_to("/hooks/media")}
    assert ids == {f"msg_{job.pk}_v2"}


def test_a_receiver_that_refuses_is_redelivered_by_retry_once_fixed(to_webhook, staff_user, upstream):
    """given: a receiver answering 400 (say, a wrong path on its side)
    then: the job fails at L7 saying to fix the destination, and Retry (once it is fixed) delivers it without
    rendering again"""
    upstream.fail("/hooks/media", "400")
    job = approved_for_delivery(to_webhook, staff_user)
    assert job.status == Job.Status.FAILED and job.failed_layer == "L7" and job.retryable
    assert "fix the destination" in job.error_message
    services.job_retry(job_id=job.pk, user=staff_user)
    job.refresh_from_db()
    assert job.status == Job.Status.DONE and job.renders.count() == 1
    assert len(upstream.requests_to("/hooks/media")) == 2


def test_a_slow_receiver_gets_the_message_once_and_the_job_is_done(to_webhook, staff_user, upstream):
    """given: a receiver that takes the message and answers 200 after 25 s
    then: it is sent once (no second POST while it is still answering) and the job is done"""
    upstream.fail("/hooks/media", "slow:25")
    job = approved_for_delivery(to_webhook, staff_user)
    assert job.status == Job.Status.DONE, job.error_message
    assert len(upstream.requests_to("/hooks/media")) == 1
