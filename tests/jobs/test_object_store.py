"""Job files in an S3-compatible store (a real server on 127.0.0.1): layers work in a local scratch folder,
publish what they make checksummed and atomically, and another machine (another scratch folder) fetches it."""
import hashlib

import pytest
import requests

from core.store import Bucket
from jobs import services
from jobs.files import job_key
from jobs.models import Asset, Job
from pipeline.errors import StoreError
from pipeline.media import ffmpeg

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def real_render(settings):
    settings.PIPELINE = {**settings.PIPELINE, "FACTORY": "tests.pipelines.with_real_render"}


def in_review(preset) -> Job:
    job = services.job_create(preset=preset, inputs={"sport": "nfl", "matchup_id": "g"})
    job.refresh_from_db()
    assert job.status == Job.Status.AWAITING_REVIEW, job.error_message
    return job


def another_machine(settings, tmp_path, name: str) -> None:
    """From here on, this process works like another machine: an empty scratch folder of its own."""
    settings.SCRATCH_ROOT = tmp_path / f"scratch-{name}"


def test_a_job_made_on_one_machine_is_rendered_on_another_and_served_from_the_store(
        object_store, real_render, preset, staff_user, settings, tmp_path):
    """given: a two-scene reel taken to review on machine A, its files published to the store
    when: machine B, which shares no folder with A, renders it, and machine C serves the final file
    then: B fetched what it needed, the store holds every recorded file under its final key and nothing else,
    and C hands out a signed link whose bytes are the recorded file"""
    job = in_review(preset)
    keys = set(object_store.keys(f"jobs/{job.pk}/"))
    recorded = {job_key(job.pk, a.path) for a in Asset.objects.filter(job=job)}
    assert recorded and recorded <= keys
    assert not any(".incoming-" in key for key in keys)

    another_machine(settings, tmp_path, "b")
    assert not job.work_dir.exists()
    services.job_approve(job_id=job.pk, user=staff_user)
    job.refresh_from_db()
    assert job.status == Job.Status.DONE, job.error_message
    video = Asset.objects.get(job=job, kind="video")
    stored = object_store.read(job_key(job.pk, video.path))
    assert hashlib.sha256(stored).hexdigest() == video.sha256
    chunks = [key for key in object_store.keys(f"jobs/{job.pk}/L6/scenes/") if key.endswith(".mp4")]
    assert len(chunks) == 2
    assert not any(key.endswith(".claim") or ".incoming-" in key for key in object_store.keys())

    another_machine(settings, tmp_path, "c")
    client = staff_client_for(staff_user)
    response = client.get(f"/studio/jobs/{job.pk}/files/{video.path}")
    assert response.status_code == 302 and "X-Amz-Signature=" in response["Location"]
    download = requests.get(response["Location"], timeout=30)
    assert download.status_code == 200 and hashlib.sha256(download.content).hexdigest() == video.sha256
    path = tmp_path / "download.mp4"
    path.write_bytes(download.content)
    info = ffmpeg.read_back(path)
    assert info.video_codec == "h264" and not info.errors


def staff_client_for(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


def test_a_file_changed_in_the_store_is_refused_naming_it(
        object_store, real_render, preset, staff_user, settings, tmp_path, monkeypatch):
    """given: a picture of a job in review garbled in the store after it was published, and approved on the
    machine that made it
    when: another machine's worker takes the render, and another web machine is asked to approve it again
    then: the render fails in L6 naming the file (nothing garbled is drawn); the web machine answers 503 in
    words"""
    from django_q.conf import Conf

    from jobs.services.runner import layer_run

    job = in_review(preset)
    picture = Asset.objects.get(job=job, path="bg1.jpg")
    object_store.write(job_key(job.pk, picture.path), b"not the picture")
    monkeypatch.setattr(Conf, "SYNC", False)  # the approval queues L6 for a worker
    services.job_approve(job_id=job.pk, user=staff_user)

    another_machine(settings, tmp_path, "b")
    layer_run(job_id=job.pk, layer="L6")
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert job.failed_layer == "L6" and job.error_type == "StoreError"
    assert "bg1.jpg" in job.error_message and "not the file that was recorded" in job.error_message

    another_machine(settings, tmp_path, "c")
    response = staff_client_for(staff_user).get(f"/studio/jobs/{job.pk}/frames")
    assert response.status_code == 503 and b"bg1.jpg" in response.content


def test_bytes_that_do_not_match_their_recorded_checksum_are_never_stored(object_store, tmp_path):
    """given: a file and a recorded checksum that is not its own
    when: it is uploaded
    then: the store's own checksum of what it received gives it away, and nothing is left under the key"""
    from django.core.files.storage import default_storage

    path = tmp_path / "f.bin"
    path.write_bytes(b"x" * 1000)
    bucket = Bucket(default_storage)
    with pytest.raises(StoreError, match="other bytes than were recorded"):
        bucket.put_file(path, "jobs/x/f.bin", hashlib.sha256(b"something else").hexdigest())
    assert object_store.keys("jobs/x/") == []
    bucket.publish(path, "jobs/x/f.bin", hashlib.sha256(path.read_bytes()).hexdigest())
    assert object_store.keys("jobs/x/") == ["jobs/x/f.bin"]


def pipeline_whose_l1_file_changes():
    """The tiny pipeline, with an L1 that changes its file after recording its hash."""
    from dataclasses import replace

    from tests.pipelines import tiny_pipeline

    base = tiny_pipeline()
    l1 = base.layers[0]

    def changing(inputs, ctx):
        output = l1.run(inputs, ctx)
        (ctx.work_dir / ctx.assets[0].path).write_text("changed")
        return output

    return replace(base, layers=(replace(l1, run=changing), *base.layers[1:]))


def test_a_file_changed_after_it_was_recorded_is_never_published(object_store, preset, settings):
    """given: a layer whose file changes on disk after the layer recorded its hash
    then: the layer fails with a StoreError naming the file, and the store has nothing under its key"""
    settings.PIPELINE = {**settings.PIPELINE, "FACTORY": f"{__name__}.pipeline_whose_l1_file_changes"}
    job = services.job_create(preset=preset, inputs={"sport": "nfl", "matchup_id": "g"})
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and job.failed_layer == "L1" and job.error_type == "StoreError"
    assert "L1/note.txt changed after it was recorded" in job.error_message
    assert object_store.keys(f"jobs/{job.pk}/") == []


def test_a_missing_bucket_fails_the_job_in_words(object_store, tiny_pipeline, preset, settings):
    """given: STORAGE_URL names a bucket that does not exist
    then: the first layer fails the job with a StoreError that says the bucket does not exist, retryable once it
    is fixed"""
    from mediaengine import env

    broken = object_store.url.replace(object_store.name, object_store.name + "-gone")
    settings.STORAGES = {**settings.STORAGES, "default": env.default_storage(env.storage_options(broken))}
    job = services.job_create(preset=preset, inputs={"sport": "nfl", "matchup_id": "g"})
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and job.error_type == "StoreError"
    assert job.failed_layer == "L1" and job.retryable
    assert "the object store failed" in job.error_message and "bucket does not exist" in job.error_message


def test_a_signed_link_lasts_signed_url_seconds(object_store, tiny_pipeline, preset, settings):
    """given: SIGNED_URL_SECONDS of 120
    then: the studio's link to a job file is a SigV4 link that says it lasts 120 s, dated now (moto does not
    enforce the expiry itself; S3 and MinIO do, from these two fields)"""
    from datetime import UTC, datetime
    from urllib.parse import parse_qs, urlsplit

    settings.SIGNED_URL_SECONDS = 120
    job = in_review(preset)
    asset = Asset.objects.filter(job=job).first()
    response = staff_client_for(preset_user()).get(f"/studio/jobs/{job.pk}/files/{asset.path}")
    query = parse_qs(urlsplit(response["Location"]).query)
    assert query["X-Amz-Expires"] == ["120"] and query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    signed = datetime.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert abs((datetime.now(UTC) - signed).total_seconds()) < 60
    assert requests.get(response["Location"], timeout=10).content == (
        object_store.read(job_key(job.pk, asset.path)))


def preset_user():
    from tests.conftest import desk_member

    return desk_member("someone", "reviewer")


def test_setup_lets_the_review_page_read_the_bucket(object_store, settings):
    """given: job files in a bucket and the studio at https://media.example.com
    when: `manage.py setup` runs
    then: the bucket allows GET from that origin, so the canvas can fetch pictures, sound and fonts"""
    import io

    from django.core.management import call_command

    settings.PUBLIC_URL = "https://media.example.com"
    call_command("setup", stdout=io.StringIO())
    rules = object_store.client.get_bucket_cors(Bucket=object_store.name)["CORSRules"]
    assert rules[0]["AllowedOrigins"] == ["https://media.example.com"] and "GET" in rules[0]["AllowedMethods"]


def test_a_helper_that_cannot_fetch_the_files_steps_aside(object_store, real_render, preset, staff_user, settings,
                                                          tmp_path, monkeypatch, caplog):
    """given: a render in progress whose picture was garbled in the store, and a helper task on another machine
    when: the helper starts
    then: it renders nothing and says why in a warning; the job is left to the render's own task"""
    from django.utils import timezone
    from django_q.conf import Conf

    from jobs.models import LayerRun
    from jobs.services.runner import layer_help

    job = in_review(preset)
    object_store.write(job_key(job.pk, "bg1.jpg"), b"not the picture")
    monkeypatch.setattr(Conf, "SYNC", False)
    services.job_approve(job_id=job.pk, user=staff_user)
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RENDERING)
    LayerRun.objects.create(job=job, layer="L6", input_hash="x" * 64, heartbeat_at=timezone.now())
    another_machine(settings, tmp_path, "helper")
    with caplog.at_level("WARNING", logger="jobs"):
        assert layer_help(job_id=job.pk, layer="L6") is None
    assert "bg1.jpg" in caplog.text
    job.refresh_from_db()
    assert job.status == Job.Status.RENDERING
