from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from core.database import require_database
from jobs import services
from jobs.models import Job
from jobs.services.runner import next_unfinished


class Command(BaseCommand):
    help = ("Run a job's layers in this process, with a progress bar. Stops after L5 (awaiting review) by "
            "default; --through L7 approves the plan as built and renders and distributes it too.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("job_id")
        parser.add_argument("--through", choices=["L5", "L7"], default="L5")

    def handle(self, *args, job_id: str, through: str, **options) -> None:
        require_database()
        try:
            job = Job.objects.get(pk=job_id)
        except (Job.DoesNotExist, ValueError):
            raise CommandError(f"no job {job_id}") from None
        pipeline = services.current_pipeline()
        with services.inline_queue() as queue:
            queue.append((str(job.pk), self._next_layer(job, pipeline)))
            while queue:
                job_id, layer = queue.pop(0)
                if layer:
                    self._run(job_id, layer)
                job.refresh_from_db()
                if job.status == Job.Status.FAILED:
                    raise CommandError(f"{job.failed_layer} failed ({job.error_type}): {job.error_message}")
                if job.status == Job.Status.AWAITING_REVIEW and through == "L7":
                    services.job_skip_preview(job_id=job.pk, user=None)
                    self.stdout.write("plan approved as built (run_job --through L7)")
        job.refresh_from_db()
        self.stdout.write(self.style.SUCCESS(f"job {job.pk} is {job.status}"))

    def _next_layer(self, job: Job, pipeline) -> str:
        return next_unfinished(job, pipeline) or ""

    def _run(self, job_id: str, layer: str) -> None:
        with tqdm(total=100, desc=layer, unit="%", file=self.stderr, leave=True,
                  bar_format="{desc} {bar} {n:.0f}% {elapsed}") as bar:
            def on_progress(fraction: float, message: str) -> None:
                bar.n = round(fraction * 100, 1)
                bar.set_postfix_str(message[:40], refresh=True)

            services.layer_run(job_id=job_id, layer=layer, on_progress=on_progress)
