"""Job files and brand uploads in the one store: local disk (MEDIA_ROOT) or an S3-compatible bucket.

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

import base64
import hashlib
import logging
import math
import os
import tempfile
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.utils import timezone

from jobs.folders import BRAND, brand_folder, job_folder, remote_store, scratch_root  # noqa: F401 (this module's interface too)
from pipeline.errors import StoreError
from pipeline.files import sha256_file
from pipeline.render.chunks import CLAIM_STALE_S

logger = logging.getLogger(__name__)

def job_key(job_id, rel: str) -> str:
    return f"jobs/{job_id}/{rel}"


# ---------------------------------------------------------------------------------------------- the bucket


class _Bucket:
    """The few object operations the store needs, on the S3 storage's own boto3 client, each failure
    turned into a StoreError that names the file."""

    def __init__(self, storage) -> None:
        self.client = storage.connection.meta.client
        self.name = storage.bucket_name
        self.prefix = f"{storage.location.strip('/')}/" if storage.location.strip("/") else ""

    def key(self, key: str) -> str:
        return self.prefix + key

    @staticmethod
    def _missing(exc: ClientError) -> bool:
        return exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound")

    def _fail(self, exc: Exception, doing: str, key: str) -> StoreError:
        return StoreError(f"the object store failed {doing} {key}: {exc}")

    def head(self, key: str) -> dict | None:
        try:
            return self.client.head_object(Bucket=self.name, Key=self.key(key), ChecksumMode="ENABLED")
        except ClientError as exc:
            if self._missing(exc):
                return None
            raise self._fail(exc, "looking up", key) from exc
        except BotoCoreError as exc:
            raise self._fail(exc, "looking up", key) from exc

    def put_file(self, path: Path, key: str, sha256: str) -> None:
        """Upload `path` under `key` with a SHA-256 checksum the store computes over the bytes it received, and
        refuse (deleting the object) if that is not `sha256`."""
        expected = base64.b64encode(bytes.fromhex(sha256)).decode()
        try:
            with open(path, "rb") as body:
                answer = self.client.put_object(Bucket=self.name, Key=self.key(key), Body=body,
                                                ChecksumAlgorithm="SHA256")
        except (ClientError, BotoCoreError) as exc:
            raise self._fail(exc, "storing", key) from exc
        if answer.get("ChecksumSHA256") != expected:
            self.delete(key)
            raise StoreError(f"{key} reached the store as other bytes than were recorded (sha256 "
                             f"{answer.get('ChecksumSHA256')} stored, {expected} expected)")

    def put_new(self, key: str, body: bytes) -> bool:
        """Create `key` only if nothing is there (a conditional put). False when it exists."""
        try:
            self.client.put_object(Bucket=self.name, Key=self.key(key), Body=body, IfNoneMatch="*")
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("PreconditionFailed", "ConditionalRequestConflict"):
                return False
            raise self._fail(exc, "claiming", key) from exc
        except BotoCoreError as exc:
            raise self._fail(exc, "claiming", key) from exc
        return True

    def put_bytes(self, key: str, body: bytes) -> None:
        try:
            self.client.put_object(Bucket=self.name, Key=self.key(key), Body=body)
        except (ClientError, BotoCoreError) as exc:
            raise self._fail(exc, "storing", key) from exc

    def copy(self, source: str, key: str) -> None:
        try:
            self.client.copy_object(Bucket=self.name, Key=self.key(key),
                                    CopySource={"Bucket": self.name, "Key": self.key(source)})
        except (ClientError, BotoCoreError) as exc:
            raise self._fail(exc, "copying into", key) from exc

    def delete(self, key: str) -> None:
        try:
            self.client.delete_object(Bucket=self.name, Key=self.key(key))
        except (ClientError, BotoCoreError) as exc:
            raise self._fail(exc, "deleting", key) from exc

    def download(self, key: str, dest: Path, sha256: str | None = None) -> bool:
        """Fetch `key` into `dest` (atomically); False when there is no such object. With `sha256`, bytes that
        do not hash to it are refused."""
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
        tmp = Path(tmp_name)
        try:
            digest = hashlib.sha256()
            try:
                answer = self.client.get_object(Bucket=self.name, Key=self.key(key))
                with os.fdopen(fd, "wb") as out:
                    for block in answer["Body"].iter_chunks(1 << 20):
                        digest.update(block)
                        out.write(block)
            except ClientError as exc:
                if self._missing(exc):
                    return False
                raise self._fail(exc, "fetching", key) from exc
            except BotoCoreError as exc:
                raise self._fail(exc, "fetching", key) from exc
            if sha256 is not None and digest.hexdigest() != sha256:
                raise StoreError(f"{key} in the object store is not the file that was recorded "
                                 f"(sha256 {digest.hexdigest()[:12]}…, recorded {sha256[:12]}…)", retryable=False,
                                 hint="the stored copy was changed or damaged; re-run the layer that made it")
            os.chmod(tmp, 0o644)
            os.replace(tmp, dest)
            return True
        finally:
            tmp.unlink(missing_ok=True)

    def keys(self, prefix: str) -> Iterable[tuple[str, int]]:
        """(key without the store's prefix, size) of every object under `prefix`."""
        try:
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.name,
                                                                             Prefix=self.key(prefix)):
                for item in page.get("Contents", []):
                    yield item["Key"][len(self.prefix):], item["Size"]
        except (ClientError, BotoCoreError) as exc:
            raise self._fail(exc, "listing", prefix) from exc

    def publish(self, path: Path, key: str, sha256: str) -> None:
        """Make `key` hold exactly the bytes of `path`, or fail leaving the final key as it was."""
        staging = f"{key}.incoming-{uuid.uuid4().hex}"
        self.put_file(path, staging, sha256)
        try:
            stored = self.head(staging)
            size = path.stat().st_size
            expected = base64.b64encode(bytes.fromhex(sha256)).decode()
            if stored is None or stored.get("ContentLength") != size or stored.get("ChecksumSHA256") != expected:
                # (A missing checksum fails too: a store that keeps none cannot show the bytes arrived whole.)
                raise StoreError(f"{key} did not read back as written ({size} bytes, sha256 {sha256[:12]}…; the "
                                 f"store has {stored and stored.get('ContentLength')} bytes)")
            self.copy(staging, key)
        finally:
            self.delete(staging)


def bucket_cors_ensure() -> list[str]:
    """Let the review page read the bucket's signed links: its canvas fetches pictures, sound and fonts through
    them, and a cross-origin answer without CORS would be refused (or taint the canvas). Allows GET from the
    studio's origins (PUBLIC_URL and CSRF_TRUSTED_ORIGINS). Returns them; [] with local disk."""
    bucket = _bucket()
    if bucket is None:
        return []
    origins = sorted({settings.PUBLIC_URL, *getattr(settings, "CSRF_TRUSTED_ORIGINS", [])} - {""})
    try:
        bucket.client.put_bucket_cors(Bucket=bucket.name, CORSConfiguration={"CORSRules": [
            {"AllowedMethods": ["GET", "HEAD"], "AllowedOrigins": origins, "AllowedHeaders": ["*"],
             "MaxAgeSeconds": 3600}]})
    except (ClientError, BotoCoreError) as exc:
        raise StoreError(f"the bucket's CORS rule could not be set: {exc}",
                         hint="allow GET from the studio's origin on the bucket by hand, or give the keys "
                              "s3:PutBucketCORS") from exc
    return origins


def _bucket() -> _Bucket | None:
    storage = remote_store()
    return None if storage is None else _Bucket(storage)


# ---------------------------------------------------------------------------------------------- job files


def job_files_fetch(job_id) -> Path:
    """The job's folder on this machine, holding every recorded file of the job it lacked (each checked against
    its recorded sha256), with the brand uploads its layers read (logos, fonts, music)."""
    from jobs.models import Asset

    folder = job_folder(job_id)
    bucket = _bucket()
    if bucket is None:
        return folder
    brand_fetch()
    rows = Asset.objects.filter(job_id=job_id)
    for asset in rows:
        local = folder / asset.path
        if local.is_file() and local.stat().st_size == asset.bytes:
            continue
        if not bucket.download(job_key(job_id, asset.path), local, asset.sha256):
            raise StoreError(f"{asset.path} of job {job_id} is recorded but not in the object store", retryable=False,
                             hint="the stored copy was deleted; re-run the job with fresh data")
    return folder


def job_files_publish(job_id, files: Iterable[tuple[str, str]]) -> None:
    """Publish (path relative to the job folder, sha256) files a layer made, before anyone records them."""
    bucket = _bucket()
    if bucket is None:
        return
    folder = job_folder(job_id)
    for rel, sha256 in files:
        path = folder / rel
        actual = sha256_file(path)
        if actual != sha256:
            raise StoreError(f"{rel} changed after it was recorded (sha256 {actual[:12]}…, recorded {sha256[:12]}…)",
                             retryable=True, hint="retry the job")
        bucket.publish(path, job_key(job_id, rel), sha256)


def job_files_copy(source_job_id, job_id, rels: Iterable[str]) -> bool:
    """Copy recorded files of one job into another (a reused layer output); False when one is missing."""
    bucket = _bucket()
    if bucket is None:
        return True
    rels = list(rels)
    if any(bucket.head(job_key(source_job_id, rel)) is None for rel in rels):
        return False
    for rel in rels:
        bucket.copy(job_key(source_job_id, rel), job_key(job_id, rel))
    return True


def job_file_stored(job_id, rel: str) -> bool:
    bucket = _bucket()
    return bucket is not None and bucket.head(job_key(job_id, rel)) is not None


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


# ---------------------------------------------------------------------------------------------- brand uploads


def brand_publish(rel: str) -> None:
    """Publish a brand upload (relative to the brand folder) made on this machine."""
    bucket = _bucket()
    if bucket is not None:
        path = brand_folder() / rel
        bucket.publish(path, f"{BRAND}/{rel}", sha256_file(path))


def brand_fetch() -> Path:
    """The brand folder on this machine with every upload the store holds (logos, fonts, music beds)."""
    folder = brand_folder()
    bucket = _bucket()
    if bucket is None:
        return folder
    for key, size in bucket.keys(f"{BRAND}/"):
        rel = key[len(BRAND) + 1:]
        local = folder / rel
        if ".incoming-" in rel or (local.is_file() and local.stat().st_size == size):
            continue
        bucket.download(key, local)
    return folder


# ---------------------------------------------------------------------------------------------- scene chunks


class StoreScenes:
    """L6's scene cache shared through the store (pipeline.render.chunks.SharedScenes), for workers that
    share no disk: a claim is an object created only if absent, refreshed while its chunk renders and taken
    over when it is older than CLAIM_STALE_S; chunks and their records are published when made."""

    def __init__(self, job_id) -> None:
        self.bucket = _bucket()
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
