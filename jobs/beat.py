"""The workers' heartbeat: a row per worker process, refreshed from a thread of its own while the process lives.

The scheduled watchdog shows that some worker takes tasks; it cannot run while every worker is busy rendering,
so /healthz said "no worker heartbeat for 273 s" of two workers hard at work. A worker process starts its beat
with the first task it runs (django-q2's pre_execute signal) and keeps it while it lives, busy or not.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import time

from django.db import DatabaseError, close_old_connections, connection
from django.utils import timezone

logger = logging.getLogger("jobs")

BEAT_S = 15
_started: int | None = None  # the pid whose beat runs (a forked child starts its own)
_guard = threading.Lock()


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def beat_once() -> None:
    from jobs.models import WorkerBeat

    WorkerBeat.objects.update_or_create(name=worker_name()[:120], defaults={"beat_at": timezone.now()})


def _beat() -> None:
    while True:
        time.sleep(BEAT_S)
        try:
            close_old_connections()
            beat_once()
        except DatabaseError as exc:
            logger.warning("worker heartbeat not written: %s", exc)
        finally:
            connection.close()


def worker_beat_start(**_signal) -> None:
    """Start this process's heartbeat thread (once per process); the first beat is written at once."""
    global _started
    from django.conf import settings

    if settings.Q_CLUSTER.get("sync"):
        return  # tasks run in the caller's process (run_job, the tests): there is no worker process to beat for
    with _guard:
        if _started == os.getpid():
            return
        _started = os.getpid()
    try:
        beat_once()
    except DatabaseError as exc:
        logger.warning("worker heartbeat not written: %s", exc)
    threading.Thread(target=_beat, name="worker-heartbeat", daemon=True).start()
