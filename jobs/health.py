"""What /healthz checks: the database, the queue, the workers, disk space, the object store, FFmpeg."""
from __future__ import annotations

import os
import shutil
from datetime import timedelta

from django.db import DatabaseError, connection
from django.utils import timezone

from pipeline.errors import StoreError

QUEUE_OLDEST_MAX_S = 600
BEAT_FRESH_S = 60          # a worker process beats every 15 s (jobs/beat.py)
WORKER_SILENT_MAX_S = 180   # the watchdog is scheduled every minute: three missed runs
MIN_FREE_BYTES = 1024 ** 3


def check_database() -> tuple[bool, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        return False, f"the database does not answer: {exc}"
    return True, "answers"


def check_broker() -> tuple[bool, str]:
    from django_q.models import OrmQ

    try:
        oldest = OrmQ.objects.order_by("lock").values_list("lock", flat=True).first()
    except DatabaseError as exc:
        return False, f"the task queue cannot be read: {exc}"
    if oldest is None:
        return True, "no task waiting"
    age = (timezone.now() - oldest).total_seconds()
    if age > QUEUE_OLDEST_MAX_S:
        return False, f"the oldest queued task has waited {age:.0f} s: are the workers running?"
    return True, f"oldest task waiting {age:.0f} s"


def check_workers() -> tuple[bool, str]:
    """A worker cluster runs the scheduled watchdog every minute; its last result shows one is alive."""
    from django_q.models import Task

    try:
        last = Task.objects.filter(func="jobs.tasks.watchdog").order_by("-stopped").values_list(
            "stopped", flat=True).first()
    except DatabaseError as exc:
        return False, f"worker results cannot be read: {exc}"
    from jobs.models import WorkerBeat

    # Busy workers cannot run the watchdog, but each worker process beats from a thread of its own.
    beats = WorkerBeat.objects.filter(beat_at__gte=timezone.now() - timedelta(seconds=BEAT_FRESH_S))
    busy = beats.count()
    if last is None and not busy:
        return False, "no worker has run the scheduled watchdog yet: start `manage.py qcluster`"
    age = (timezone.now() - last).total_seconds() if last else None
    if busy:
        return True, f"{busy} worker process(es) beating" + (f"; watchdog {age:.0f} s ago" if age is not None else "")
    if age > WORKER_SILENT_MAX_S:
        return False, f"no worker heartbeat for {age:.0f} s: start `manage.py qcluster`"
    return True, f"last heartbeat {age:.0f} s ago"


def check_disk() -> tuple[bool, str]:
    """Free space where this machine's layers write (MEDIA_ROOT, or SCRATCH_ROOT with object storage)."""
    from jobs.files import scratch_root

    media = scratch_root()
    media.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(media).free
    if free < MIN_FREE_BYTES:
        return False, f"only {free / 1024 ** 3:.2f} GB free under {media}"
    return True, f"{free / 1024 ** 3:.1f} GB free"


def check_store() -> tuple[bool, str]:
    """With object storage: the bucket answers (a listing of one key)."""
    from core.store import bucket

    store = bucket()
    if store is None:
        return True, "local disk"
    try:
        next(iter(store.keys("brand/")), None)
    except StoreError as exc:
        return False, exc.message
    return True, f"bucket {store.name} answers"


def check_ffmpeg() -> tuple[bool, str]:
    from pipeline.media import ffmpeg

    path = ffmpeg.binary()
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        return False, f"FFmpeg is missing at {path}"
    return True, path


CHECKS = {"database": check_database, "broker": check_broker, "workers": check_workers, "disk": check_disk,
          "store": check_store, "ffmpeg": check_ffmpeg}


def health() -> tuple[bool, dict]:
    results = {}
    healthy = True
    for name, check in CHECKS.items():
        ok, detail = check()
        results[name] = {"ok": ok, "detail": detail}
        healthy = healthy and ok
        if name == "database" and not ok:
            # Everything else reads the database: say so once instead of failing four more times.
            for rest in list(CHECKS)[1:]:
                if rest in ("disk", "store", "ffmpeg"):
                    ok, detail = CHECKS[rest]()
                    results[rest] = {"ok": ok, "detail": detail}
                    healthy = healthy and ok
                else:
                    results[rest] = {"ok": False, "detail": "not checked: the database is down"}
            break
    return healthy, results
