"""A job's files in the one store (core/store.py): local disk (MEDIA_ROOT) or an S3-compatible bucket.

Layers always work in a local folder (`job_folder`). With local disk that folder is the store itself, and
everything here has nothing to do. With a bucket (settings.STORAGES["default"] is django-storages' S3
backend), web and workers may be on machines that share no disk, so:

- before a layer runs, the job's recorded files it lacks are fetched into the machine's scratch folder and
  checked against their recorded sha256 (`job_files_fetch`);
- a finished layer's files are published before the run is recorded: each is uploaded under a temporary
  key with its SHA-256 checksum (the store refuses bytes that do not match), read back (size and checksum),
  and only then copied under its final key and the temporary one deleted, so the final key never holds part
  of a file (`job_files_publish`);
- the studio and the webhook hand out short-lived signed links (`job_file_url`);
- L6's scene chunks meet in the store (`StoreScenes`): claims are conditional puts, chunks are uploaded when
  made and fetched by whoever joins them.

Keys: `jobs/<job id>/<path relative to the job folder>` and `brand/<path>`.
"""
from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from core.folders import BRAND, brand_folder, job_folder, remote_store, scratch_root  # noqa: F401 (this module's interface too)
from core.store import brand_fetch, bucket
from pipeline.errors import StoreError
from pipeline.files import sha256_file
from pipeline.render.chunks import CLAIM_STALE_S

logger = logging.getLogger(__name__)

def job_key(job_id, rel: str) -> str:
    return f"jobs/{job_id}/{rel}"


# ---------------------------------------------------------------------------------------------- job files


def job_files_fetch(job_id) -> Path:
    """The job's folder on this machine, holding every recorded file of the job it lacked (each checked against
    its recorded sha256), with the brand uploads its layers read (logos, fonts, music)."""
    from jobs.models import Asset

    folder = job_folder(job_id)
    store = bucket()
    if store is None:
        return folder
    brand_fetch()
    rows = Asset.objects.filter(job_id=job_id)
    for asset in rows:
        local = folder / asset.path
        if local.is_file() and local.stat().st_size == asset.bytes:
            continue
        if not store.download(job_key(job_id, asset.path), local, asset.sha256):
            raise StoreError(f"{asset.path} of job {job_id} is recorded but not in the object store", retryable=False,
                             hint="the stored copy was deleted; re-run the job with fresh data")
    return folder


def job_files_publish(job_id, files: Iterable[tuple[str, str]]) -> None:
    """Publish (path relative to the job folder, sha256) files a layer made, before anyone records them."""
    store = bucket()
    if store is None:
        return
    folder = job_folder(job_id)
    for rel, sha256 in files:
        path = folder / rel
        actual = sha256_file(path)
        if actual != sha256:
            raise StoreError(f"{rel} changed after it was recorded (sha256 {actual[:12]}…, recorded {sha256[:12]}…)",
                             retryable=True, hint="retry the job")
        store.publish(path, job_key(job_id, rel), sha256)


def job_files_copy(source_job_id, job_id, rels: Iterable[str]) -> bool:
    """Copy recorded files of one job into another (a reused layer output); False when one is missing."""
    store = bucket()
    if store is None:
        return True
    rels = list(rels)
    if any(store.head(job_key(source_job_id, rel)) is None for rel in rels):
        return False
    for rel in rels:
        store.copy(job_key(source_job_id, rel), job_key(job_id, rel))
    return True


def job_file_stored(job_id, rel: str) -> bool:
    store = bucket()
    return store is not None and store.head(job_key(job_id, rel)) is not None


def job_file_url(job_id, rel: str, seconds: int | None = None) -> str | None:
    """A signed link to a job file that expires after `seconds`; None with local disk (the studio streams it)."""
    storage = remote_store()
    if storage is None:
        return None
    return storage.url(job_key(job_id, rel), expire=seconds or settings.SIGNED_URL_SECONDS)


LINK_SALT = "jobs.files.link"


def job_file_link(job_id, rel: str, expires: datetime) -> str:
    """A link a receiver outside (a webhook's) downloads a job file from, with no login, until `expires` (the
    time the message promises): signed by the store, or by this studio (`/files/<token>`) on local disk, the
    expiry inside the signed token, so it does not depend on the serving process's settings."""
    seconds = max(1, math.ceil((expires - timezone.now()).total_seconds()))
    storage = remote_store()
    if storage is not None:
        return storage.url(job_key(job_id, rel), expire=seconds)
    from django.core import signing
    from django.urls import reverse

    token = signing.dumps({"job": str(job_id), "path": rel, "exp": int(expires.timestamp())}, salt=LINK_SALT,
                          compress=True)
    return settings.PUBLIC_URL + reverse("file-link", args=[token])


def job_file_from_link(token: str) -> tuple[str, str]:
    """(job id, path) of a link `job_file_link` made; BadSignature, or SignatureExpired once past its expiry."""
    from django.core import signing

    data = signing.loads(token, salt=LINK_SALT)
    expires = data.get("exp")
    if not isinstance(expires, int) or timezone.now().timestamp() > expires:
        raise signing.SignatureExpired("the link has expired")
    return data["job"], data["path"]


# ---------------------------------------------------------------------------------------------- scene chunks


class StoreScenes:
    """L6's scene cache shared through the store (pipeline.render.chunks.SharedScenes), for workers that
    share no disk: a claim is an object created only if absent, refreshed while its chunk renders and taken
    over when it is older than CLAIM_STALE_S; chunks and their records are published when made."""

    def __init__(self, job_id) -> None:
        self.bucket = bucket()
        self.prefix = job_key(job_id, "L6/scenes/")

    def claim(self, name: str) -> bool:
        key = f"{self.prefix}{name}.claim"
        if self.bucket.put_new(key, b""):
            return True
        stored = self.bucket.head(key)
        if stored is not None and (datetime.now(UTC) - stored["LastModified"]).total_seconds() <= CLAIM_STALE_S:
            return False
        # The claim's worker died: take it over (two takers both may render; the chunk's bytes are the same).
        self.bucket.put_bytes(key, b"")
        return True

    def touch(self, name: str) -> None:
        self.bucket.put_bytes(f"{self.prefix}{name}.claim", b"")

    def release(self, name: str) -> None:
        self.bucket.delete(f"{self.prefix}{name}.claim")

    def put(self, path: Path) -> None:
        self.bucket.publish(path, f"{self.prefix}{path.name}", sha256_file(path))

    def get(self, name: str, dest: Path) -> bool:
        return self.bucket.download(f"{self.prefix}{name}", dest)


def scenes_for(job_id) -> StoreScenes | None:
    return None if remote_store() is None else StoreScenes(job_id)
