"""Where a job's files are on this machine. Settings and the storage backend only (no models), so that the models
and jobs/files.py can both use it."""
from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage, default_storage

BRAND = "brand"


def remote_store():
    """The S3 storage when job files live in a bucket; None when they are on this machine's disk."""
    return None if isinstance(default_storage, FileSystemStorage) else default_storage


def scratch_root() -> Path:
    """Where this machine's layers work: MEDIA_ROOT itself with local disk, SCRATCH_ROOT with a bucket."""
    return Path(settings.MEDIA_ROOT) if remote_store() is None else Path(settings.SCRATCH_ROOT)


def job_folder(job_id) -> Path:
    """The job's folder on this machine: every file a layer writes for the job is made under it."""
    return scratch_root() / "jobs" / str(job_id)


def brand_folder() -> Path:
    return scratch_root() / BRAND
