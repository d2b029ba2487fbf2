"""A worker cluster that is stopping, as its tasks can tell: render-ahead gives way to it within half a second.

django-q2 lets each worker finish the task it holds when the cluster is told to stop, and a render ahead can
hold one for a minute (stopping a cluster took 60-70 s). `manage.py workers` starts the cluster with the path of
a marker file in the environment its worker processes inherit, and writes the marker when it gets SIGTERM or
SIGINT; a task that may stop early (the render ahead: its chunks are kept and the watchdog queues it again)
looks for it.
"""
from __future__ import annotations

import os
from pathlib import Path

STOP_FILE_ENV = "MEDIAENGINE_STOP_FILE"


def stopping() -> bool:
    path = os.environ.get(STOP_FILE_ENV)
    return bool(path) and Path(path).exists()


def mark_stopping() -> None:
    path = os.environ.get(STOP_FILE_ENV)
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).touch()


def prepare(folder: Path) -> Path:
    """This cluster's marker (none yet), named in the environment its workers inherit."""
    path = folder / f"workers-{os.getpid()}.stopping"
    path.unlink(missing_ok=True)
    os.environ[STOP_FILE_ENV] = str(path)
    return path
