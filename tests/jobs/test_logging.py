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
