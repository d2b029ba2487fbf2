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


def wait_for_page(page, predicate: str, *, job, logs: Path, timeout_ms: int) -> None:
    """Wait for the page to show what the server has done; when it does not in time, fail with what the server
    holds (the job's status, its layer runs) and the end of the worker's log, so a failure in CI says why."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function(predicate, timeout=timeout_ms)
    except PlaywrightTimeout:
        job.refresh_from_db()
        runs = [f"{run.layer} {run.status} attempt {run.attempt} {run.error_message}"
                for run in job.layer_runs.order_by("started_at")]
        worker = (logs / "worker.log").read_text(errors="replace")[-4000:] if (logs / "worker.log").exists() else ""
        raise AssertionError(f"the page did not show {predicate!r} within {timeout_ms} ms; the job is {job.status} "
                             f"({job.error_message!r}), layer runs: {runs}; page status "
                             f"{page.evaluate('document.getElementById(`job`)?.dataset.status')}; "
                             f"the worker's log ends:\n{worker}") from None


def upcoming(sport: str = "nfl", teams: str = "buf-kc", days: int = 7) -> str:
    """The id of a game of the shipped sample still to come (its slate has the same games on any date): a pregame
    post for it is approved without the kick-off question."""
    import datetime as dt

    return f"{sport}-{dt.date.today() + dt.timedelta(days=days):%Y%m%d}-{teams}"
