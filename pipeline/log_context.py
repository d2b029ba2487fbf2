"""Stamps `job_id` and `layer` on every log record made while a job's layer runs.

The values live in context variables, so they never leak between jobs; threads do not inherit
them, so the layers' thread pools are `ContextThreadPool`s, whose tasks run in a copy of the
submitting thread's context.
"""
from __future__ import annotations

import contextlib
import contextvars
import logging
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

_job_id: contextvars.ContextVar[str] = contextvars.ContextVar("job_id", default="-")
_layer: contextvars.ContextVar[str] = contextvars.ContextVar("layer", default="-")


@contextlib.contextmanager
def job_context(job_id: str, layer: str = "-") -> Iterator[None]:
    job_token = _job_id.set(str(job_id))
    layer_token = _layer.set(layer)
    try:
        yield
    finally:
        _layer.reset(layer_token)
        _job_id.reset(job_token)


def current() -> tuple[str, str]:
    return _job_id.get(), _layer.get()


class JobContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.job_id = _job_id.get()
        record.layer = _layer.get()
        return True


class ContextThreadPool(ThreadPoolExecutor):
    """A ThreadPoolExecutor whose tasks see the submitter's context (its job_id and layer in every log record)."""

    def submit(self, fn, /, *args, **kwargs):
        # One copy per task: a Context cannot be entered by two threads at once.
        return super().submit(contextvars.copy_context().run, fn, *args, **kwargs)
