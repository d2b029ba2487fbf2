"""The object store, when job files and brand uploads live in an S3-compatible bucket (STORAGE_URL), and the
brand folder every machine works from. jobs/files.py keeps a job's files on it; presets keep the brand's
uploads. With local disk (no bucket) the folders on this machine are the store."""
from __future__ import annotations

import base64
import hashlib
import os
import tempfile
import uuid
from collections.abc import Iterable
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings

from core.folders import BRAND, brand_folder, remote_store
from pipeline.errors import StoreError
from pipeline.files import sha256_file

# ---------------------------------------------------------------------------------------------- the bucket


class Bucket:
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
    store = bucket()
    if store is None:
        return []
    origins = sorted({settings.PUBLIC_URL, *getattr(settings, "CSRF_TRUSTED_ORIGINS", [])} - {""})
    try:
        store.client.put_bucket_cors(Bucket=store.name, CORSConfiguration={"CORSRules": [
            {"AllowedMethods": ["GET", "HEAD"], "AllowedOrigins": origins, "AllowedHeaders": ["*"],
             "MaxAgeSeconds": 3600}]})
    except (ClientError, BotoCoreError) as exc:
        raise StoreError(f"the bucket's CORS rule could not be set: {exc}",
                         hint="allow GET from the studio's origin on the bucket by hand, or give the keys "
                              "s3:PutBucketCORS") from exc
    return origins


def bucket() -> Bucket | None:
    storage = remote_store()
    return None if storage is None else Bucket(storage)


# ---------------------------------------------------------------------------------------------- brand uploads


def brand_publish(rel: str) -> None:
    """Publish a brand upload (relative to the brand folder) made on this machine."""
    store = bucket()
    if store is not None:
        path = brand_folder() / rel
        store.publish(path, f"{BRAND}/{rel}", sha256_file(path))


def brand_fetch() -> Path:
    """The brand folder on this machine with every upload the store holds (logos, fonts, music beds)."""
    folder = brand_folder()
    store = bucket()
    if store is None:
        return folder
    for key, size in store.keys(f"{BRAND}/"):
        rel = key[len(BRAND) + 1:]
        local = folder / rel
        if ".incoming-" in rel or (local.is_file() and local.stat().st_size == size):
            continue
        store.download(key, local)
    return folder
