"""Helpers for the browser tests."""
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from django.db import connection


def off_loop(fn, *args, **kwargs):
    """Run a service in a plain thread: the test's thread has Playwright's event loop, where
    async_to_sync (used to push events) cannot run. The thread's database connection is closed after."""
    def call():
        try:
            return fn(*args, **kwargs)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(call).result()


def screenshot_path(name: str, tmp_path: Path) -> Path:
    """Where a README picture goes: docs/ when `make screenshots` asks for it (SCREENSHOTS_DIR), else the test's
    own folder, so that a test run leaves the tracked files alone."""
    folder = Path(os.environ["SCREENSHOTS_DIR"]) if os.environ.get("SCREENSHOTS_DIR") else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name
