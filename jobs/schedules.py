"""The periodic tasks django-q2 runs for the pipeline."""
from django_q.models import Schedule

WATCHDOG = "jobs.tasks.watchdog"
INSIGHTS = "jobs.tasks.pull_insights"


def ensure_schedules() -> None:
    """Create or refresh the watchdog (every minute) and the insights pull (hourly; it also renews tokens near
    their end). Safe to call on every start."""
    Schedule.objects.update_or_create(
        func=WATCHDOG,
        defaults={"name": "pipeline watchdog", "schedule_type": Schedule.MINUTES, "minutes": 1, "repeats": -1},
    )
    Schedule.objects.update_or_create(
        func=INSIGHTS,
        defaults={"name": "platform insights", "schedule_type": Schedule.HOURLY, "repeats": -1},
    )
