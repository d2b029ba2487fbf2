"""Every log record made while a layer runs carries the job id and the layer."""
import logging

import pytest

from jobs import services
from pipeline.log_context import JobContextFilter, job_context


def test_filter_stamps_job_and_layer():
    record = logging.LogRecord("pipeline", logging.INFO, __file__, 1, "hello", None, None)
    with job_context("job-123", "L4"):
        JobContextFilter().filter(record)
    assert (record.job_id, record.layer) == ("job-123", "L4")
    JobContextFilter().filter(record)
    assert (record.job_id, record.layer) == ("-", "-")


@pytest.mark.django_db(transaction=True)
def test_layer_logs_carry_the_job(tiny_pipeline, preset, caplog):
    caplog.handler.addFilter(JobContextFilter())
    with caplog.at_level(logging.INFO, logger="jobs"):
        job = services.job_create(preset=preset, inputs={"sport": "nfl", "matchup_id": "crash-L1"})
    crashed = [r for r in caplog.records if "crashed" in r.getMessage()]
    assert crashed and crashed[0].job_id == str(job.pk) and crashed[0].layer == "L1"
    assert crashed[0].exc_info is not None


def _log_from_pool(pool_class) -> logging.LogRecord:
    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record)

    handler = Keep()
    handler.addFilter(JobContextFilter())
    log = logging.getLogger("pipeline.test-pool")
    log.addHandler(handler)
    try:
        with job_context("job-7", "L5"), pool_class(max_workers=2) as pool:
            list(pool.map(lambda i: log.warning("scene %s drawn", i), range(3)))
    finally:
        log.removeHandler(handler)
    return records


def test_records_from_the_layers_thread_pools_carry_the_job():
    from pipeline.log_context import ContextThreadPool

    records = _log_from_pool(ContextThreadPool)
    assert len(records) == 3 and {(r.job_id, r.layer) for r in records} == {("job-7", "L5")}


def test_a_plain_thread_pool_would_lose_the_job():
    """Why the layers use ContextThreadPool: a plain pool's threads do not inherit the context."""
    from concurrent.futures import ThreadPoolExecutor

    assert {(r.job_id, r.layer) for r in _log_from_pool(ThreadPoolExecutor)} == {("-", "-")}


def test_the_layers_pools_are_context_pools():
    import inspect

    from pipeline.layers import l4_audio, l5_media
    from pipeline.render import video

    for module in (l4_audio, l5_media, video):
        source = inspect.getsource(module)
        assert "ContextThreadPool(" in source and "ThreadPoolExecutor(" not in source, module.__name__
