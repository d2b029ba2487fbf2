"""Helpers for the browser tests."""
from concurrent.futures import ThreadPoolExecutor

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
