"""The periodic tasks django-q2 runs for the pipeline."""
from django_q.models import Schedule

WATCHDOG = "jobs.tasks.watchdog"


def ensure_schedules() -> None:
    """Create or refresh the watchdog schedule (every minute). Safe to call on every start."""
    Schedule.objects.update_or_create(
        func=WATCHDOG,
        defaults={"name": "pipeline watchdog", "schedule_type": Schedule.MINUTES, "minutes": 1, "repeats": -1},
    )
