"""Scale-out: web and two worker clusters that share no folder, with every job file in an S3-compatible
store (a real server on 127.0.0.1).

Heavy: these run in CI's PostgreSQL pass (RUN_HEAVY=1).
"""
import copy
import io
import json
import time

import pytest
from django.core.management import call_command
from django.db import connection

from jobs import services
from jobs.files import job_key
from jobs.models import Asset, Job
from jobs.services.state import FINAL
from pipeline.media import ffmpeg
from presets.models import Preset
from tests.stack import Stack, server_env

pytestmark = [pytest.mark.heavy, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def machines(object_store, tmp_path, monkeypatch):
    """Start a qcluster per "machine", each with its own MEDIA_ROOT and scratch folder and (unless told) one
    worker, all on
    this test's database and bucket. The test process (the web machine) only queues tasks."""
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", False)
    stacks = []

    def start(*names, **env):
        for name in names:
            home = tmp_path / f"machine-{name}"
            (home / "logs").mkdir(parents=True)
            stack = Stack(server_env(home / "media", home / "logs", STORAGE_URL=object_store.url,
                                     SCRATCH_ROOT=home / "scratch", **{"Q_WORKERS": 1, **env}), home / "logs")
            stack.start_cluster(f"cluster-{name}")
            stacks.append(stack)
        return stacks

    yield start
    for stack in stacks:
        stack.stop()


@pytest.fixture
def many_scenes_preset(db):
    call_command("load_presets", stdout=io.StringIO())
    config = copy.deepcopy(Preset.objects.get(slug="reel_hype").config)
    config["format"].update(width=360, height=640)
    config["segments"].update(props=6, hook=True)
    return Preset.objects.create(slug="many-scenes", name="Many scenes", kind="reel", config=config)


def test_a_chunked_reel_is_rendered_by_two_clusters_that_share_no_folder(
        machines, object_store, many_scenes_preset, tmp_path):
    """given: two clusters of one worker each, on two "machines" with no folder in common, and the job files
    in the object store
    when: a reel of many scenes is rendered with its chunks spread over the workers
    then: it is done, both machines rendered some of its chunks, the final file in the store is the recorded
    one and plays, and the web machine serves it without ever having had the files"""
    stacks = machines("a", "b", RENDER_CHUNK_SECONDS=1)
    job = services.job_create(preset=many_scenes_preset, inputs={
        "sport": "nfl", "matchup_id": "nfl-20261122-buf-kc", "auto_approve": True})
    connection.close()
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        services.watchdog_run()
        job.refresh_from_db()
        if job.status in FINAL | {Job.Status.FAILED}:
            break
        time.sleep(0.5)
    logs = "\n".join(stack.log(name) for stack in stacks for name in stack.processes)
    assert job.status == Job.Status.DONE, (job.status, job.error_message, logs[-3000:])

    records = [json.loads(object_store.read(key)) for key in object_store.keys(f"jobs/{job.pk}/L6/scenes/")
               if key.endswith(".json")]
    makers = {record["made_by"].split(":", 1)[1] for record in records}
    homes = {str((tmp_path / f"machine-{name}").resolve()) for name in "ab"}
    assert len(records) >= 6
    assert {next(home for home in homes if maker.startswith(home)) for maker in makers} == homes, makers

    video = Asset.objects.get(job=job, kind="video")
    local = tmp_path / "final.mp4"
    local.write_bytes(object_store.read(job_key(job.pk, video.path)))
    info = ffmpeg.read_back(local)
    assert info.video_codec == "h264" and not info.errors and info.frames
    assert not [path for path in job.work_dir.rglob("*") if path.is_file()]  # the web machine never needed them
