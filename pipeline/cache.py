"""Read-through caching for provider calls (the plans' "MCP games cache").

Backed by whatever cache the context carries: Django's cache framework in the
app (local memory per process by default, Redis shared by every worker when
REDIS_URL is set). A short lock key stops a stampede of workers fetching the
same slate at once.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

LOCK_TIMEOUT_S = 30
WAIT_STEP_S = 0.05


def get_or_fetch(cache: Any, key: str, ttl: float, fetch: Callable[[], Any]) -> Any:
    if cache is None:
        return fetch()
    hit = cache.get(key)
    if hit is not None:
        return hit
    lock = f"{key}:lock"
    if cache.add(lock, 1, LOCK_TIMEOUT_S):
        try:
            value = fetch()
            cache.set(key, value, ttl)
            return value
        finally:
            cache.delete(lock)
    deadline = time.monotonic() + LOCK_TIMEOUT_S
    while time.monotonic() < deadline:
        time.sleep(WAIT_STEP_S)
        hit = cache.get(key)
        if hit is not None:
            return hit
        if cache.get(lock) is None:
            break
    return fetch()
