"""Every legal state change is allowed and recorded; every other one raises."""
import itertools

import pytest

from jobs.models import Job
from jobs.services import TRANSITIONS, IllegalTransition, job_transition

ALL = [choice for choice, _ in Job.Status.choices]
# Sorted: the targets are sets, and every pytest-xdist worker must collect the same tests in the same order.
LEGAL = [(a, b) for a, targets in TRANSITIONS.items() for b in sorted(targets)]
ILLEGAL = [(a, b) for a, b in itertools.product(ALL, ALL) if b not in TRANSITIONS[a]]


def test_the_machine_covers_every_status():
    assert set(TRANSITIONS) == set(ALL)
    assert {"done", "cancelled", "rejected"} == {s for s, t in TRANSITIONS.items() if not t}


@pytest.mark.parametrize(("current", "target"), LEGAL)
def test_legal_change_is_saved_and_recorded(preset, current, target):
    # given
    job = Job.objects.create(preset=preset, inputs={"sport": "nfl", "matchup_id": "x"}, status=current)
    # when
    job_transition(job, target)
    # then
    job.refresh_from_db()
    assert job.status == target
    event = job.events.get()
    assert event.type == "job.status" and event.payload["from"] == current and event.payload["to"] == target


@pytest.mark.parametrize(("current", "target"), ILLEGAL)
def test_illegal_change_raises_and_changes_nothing(preset, current, target):
    job = Job.objects.create(preset=preset, inputs={"sport": "nfl", "matchup_id": "x"}, status=current)
    with pytest.raises(IllegalTransition, match=f"cannot become {target}"):
        job_transition(job, target)
    job.refresh_from_db()
    assert job.status == current
    assert not job.events.exists()


def test_end_states_record_when_the_job_finished(preset):
    job = Job.objects.create(preset=preset, inputs={"sport": "nfl", "matchup_id": "x"}, status="running")
    job_transition(job, "failed", failed_layer="L2", error_type="APIError", error_message="boom", retryable=True)
    job.refresh_from_db()
    assert job.finished_at is not None
    assert job.events.get().payload["failed_layer"] == "L2"
