"""Stamps `job_id` and `layer` on every log record made while a job's layer runs.

The values live in context variables, so they follow the code through threads
started with contextvars.copy_context() and never leak between jobs.
"""
from __future__ import annotations

import contextlib
import contextvars
import logging
from collections.abc import Iterator

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
