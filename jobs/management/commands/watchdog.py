from django.core.management.base import BaseCommand

from core.database import require_database
from jobs import services


class Command(BaseCommand):
    help = ("Queue again every layer whose heartbeat went stale (its worker died); when no job needs the workers, "
            "queue the render ahead of jobs in review; deliver scheduled jobs past their slot whose schedule was lost. "
            "Also scheduled every minute.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("--stale-after", type=float, default=None, help="seconds (default: HEARTBEAT_STALE_S)")

    def handle(self, *args, stale_after: float | None, **options) -> None:
        require_database()
        requeued = services.watchdog_run(stale_after_s=stale_after)
        for job_id, layer in requeued:
            self.stdout.write(f"queued again: {layer} of job {job_id}")
        self.stdout.write(f"{len(requeued)} stale layer(s) queued again")
        ahead = services.render_ahead_idle()
        self.stdout.write(f"{len(ahead)} job(s) in review queued to render ahead")
        overdue = services.deliveries_overdue()
        self.stdout.write(f"{len(overdue)} job(s) past their slot delivered now")
