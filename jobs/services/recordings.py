"""Preview recordings a reviewer makes in the browser, kept with the job.

Chromium's MediaRecorder writes WebM without a duration (it streams, and never goes back to the
header), so players cannot show its length or seek it. The server remuxes the upload with FFmpeg,
copying the streams (no re-encoding), which writes the duration and the seek index, then reads the
result back before it is offered for download.
"""
from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone

from jobs.files import job_files_publish
from jobs.models import Job
from jobs.services.errors import InvalidInput
from jobs.services.events import event_record
from pipeline.errors import FFmpegError
from pipeline.files import sha256_file
from pipeline.media import ffmpeg

logger = logging.getLogger("jobs")

MAX_RECORDING_BYTES = 64 * 1024 * 1024  # mediaengine/server.py refuses larger bodies before buffering them
# What MediaRecorder writes, by container: Chromium and Firefox WebM, Safari (and Chromium) MP4.
CONTAINERS = {"video/webm": ("webm", ["-f", "webm"]), "video/mp4": ("mp4", ["-f", "mp4", "-movflags", "+faststart"])}
RECORDINGS = "review"


def recording_save(*, job: Job, uploaded: UploadedFile, user=None) -> dict:
    """Remux an uploaded preview recording into the job's folder; return its path, duration and codecs."""
    content_type = (uploaded.content_type or "").split(";")[0].strip().lower()
    if content_type not in CONTAINERS:
        raise InvalidInput({"recording": [f"a recording is WebM or MP4 video, not {content_type or 'unknown'}"]})
    if uploaded.size > MAX_RECORDING_BYTES:
        raise InvalidInput({"recording": [f"the recording is over {MAX_RECORDING_BYTES // 2**20} MB"]})
    extension, muxer = CONTAINERS[content_type]
    folder = job.work_dir / RECORDINGS
    folder.mkdir(parents=True, exist_ok=True)
    name = f"preview-{timezone.now():%Y%m%d-%H%M%S}.{extension}"
    with tempfile.TemporaryDirectory(dir=folder) as scratch:
        source = Path(scratch) / f"upload.{extension}"
        with source.open("wb") as out:
            for chunk in uploaded.chunks():
                out.write(chunk)
        remuxed = Path(scratch) / name
        try:
            ffmpeg.run(["-v", "error", "-i", source, "-map", "0", "-c", "copy", *muxer, remuxed],
                       what="remuxing a preview recording", layer="review", timeout=120)
            info = ffmpeg.read_back(remuxed, layer="review", timeout=120)
        except FFmpegError as exc:
            raise InvalidInput({"recording": [f"the recording could not be read: {exc.message}"]}) from exc
        if not info.duration or not info.frames or info.errors:
            raise InvalidInput({"recording": ["the recording has no playable video: "
                                              + ("; ".join(info.errors[:2]) or "no frames")]})
        os.replace(remuxed, folder / name)
    path = f"{RECORDINGS}/{name}"
    job_files_publish(job.pk, [(path, sha256_file(folder / name))])
    event_record(job_id=job.pk, type="recording.saved", payload={
        "file": path, "duration": info.duration, "by": getattr(user, "username", "")})
    logger.info("preview recording %s saved for job %s (%.2f s)", path, job.pk, info.duration)
    return {"file": path, "duration": info.duration, "video_codec": info.video_codec,
            "audio_codec": info.audio_codec, "bytes": (folder / name).stat().st_size}
