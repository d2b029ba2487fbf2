"""django-q2 tasks: thin entry points that take ids and call one service each."""
from jobs import services


def run_layer(job_id: str, layer: str) -> None:
    services.layer_run(job_id=job_id, layer=layer)


def help_layer(job_id: str, layer: str) -> None:
    services.layer_help(job_id=job_id, layer=layer)


def render_ahead(job_id: str) -> int:
    return services.render_ahead_run(job_id=job_id)


def deliver(job_id: str) -> None:
    """Scheduled at the job's publish_at (jobs/services/delivery.py)."""
    services.delivery_start(job_id=job_id)


def watchdog() -> int:
    from datetime import timedelta

    from django.utils import timezone

    from jobs.models import WorkerBeat
    from jobs.services.collaboration import viewers_expire

    viewers_expire()
    WorkerBeat.objects.filter(beat_at__lt=timezone.now() - timedelta(days=1)).delete()  # processes long gone
    return len(services.watchdog_run()) + len(services.render_ahead_idle()) + len(services.deliveries_overdue())


def pull_insights() -> dict:
    """Hourly: the published posts' figures read back from the platforms, and tokens near their end renewed
    (jobs/services/publishing.py)."""
    from jobs.services.publishing import insights_pull_due

    return insights_pull_due()
