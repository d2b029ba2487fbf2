"""4. FFmpeg failures inside a job: a binary that hangs, one that floods stderr, one that exits non-zero."""
import os
import subprocess
import textwrap

import pytest

from jobs import services
from jobs.models import Job, Render
from pipeline.media import ffmpeg
from pipeline.render import video

pytestmark = pytest.mark.django_db(transaction=True)


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def running(marker: str) -> list[str]:
    return subprocess.run(["pgrep", "-f", marker], capture_output=True, text=True, check=False,
                          timeout=10).stdout.split()


@pytest.fixture
def fake_ffmpeg(tmp_path):
    def install(body: str) -> None:
        path = tmp_path / "ffmpeg-fake"
        path.write_text("#!/bin/sh\n" + textwrap.dedent(body))
        path.chmod(0o755)
        ffmpeg.configure(str(path))

    yield install
    ffmpeg.configure(None)


@pytest.fixture
def approved_job(tiny_pipeline, preset, staff_user, settings):
    """A job waiting for review whose L6 is the real renderer (tiny pipeline up to the plan)."""
    from pipeline.layers import l6_assembly
    from pipeline.registry import LayerSpec, Pipeline
    from tests import pipelines

    base = pipelines.tiny_pipeline()
    real_l6 = LayerSpec("L6", "assembly", l6_assembly.run, base.spec("L6").output_model, cacheable=False)
    pipelines_real = Pipeline(layers=(*base.layers[:3], real_l6), review_after="L3", build_plan=base.build_plan)
    pipelines.with_real_render = lambda: pipelines_real
    settings.PIPELINE = {**settings.PIPELINE, "FACTORY": "tests.pipelines.with_real_render"}
    job = services.job_create(preset=preset, inputs={"sport": "nfl", "matchup_id": "g"})
    job.refresh_from_db()
    assert job.status == Job.Status.AWAITING_REVIEW
    return job


@pytest.mark.parametrize(("name", "body", "expect"), [
    ("hangs", "exec sleep 600\n", "did not finish|longer than"),
    ("floods", "yes 'x264 [error]: frame broken' | head -c 20000000 >&2\nexit 1\n", "frame broken"),
    ("fails", "echo 'Conversion failed: invalid argument' >&2\nexit 1\n", "Conversion failed"),
])
def test_ffmpeg_failure_fails_the_job_with_its_stderr(approved_job, staff_user, fake_ffmpeg, monkeypatch, name,
                                                      body, expect):
    # given: an FFmpeg that misbehaves, and a short encoder timeout so the hang ends quickly
    """given: an approved job whose FFmpeg hangs, floods its error stream or fails
    when: L6 renders it
    then: the job fails at L6 with an FFmpegError naming what FFmpeg said, the render is failed, and no
    FFmpeg process is left running"""
    fake_ffmpeg(body)
    original = video.encode_frames
    monkeypatch.setattr(video, "encode_frames", lambda *a, **kw: original(*a, **{**kw, "timeout_s": 2}))
    from pipeline.render import chunks

    monkeypatch.setattr(chunks, "encode_frames", video.encode_frames)
    fds_before = open_fds()
    # when
    services.job_approve(job_id=approved_job.pk, user=staff_user)
    # then
    approved_job.refresh_from_db()
    assert approved_job.status == Job.Status.FAILED and approved_job.failed_layer == "L6"
    assert approved_job.error_type == "FFmpegError"
    import re

    assert re.search(expect, approved_job.error_message), approved_job.error_message
    assert Render.objects.get(job=approved_job).status == Render.Status.FAILED
    assert running("ffmpeg-fake") == [] and running("sleep 600") == []
    assert open_fds() <= fds_before + 1
    assert not list(approved_job.work_dir.glob("L6/v*/final.mp4"))
