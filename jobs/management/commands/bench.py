import json
import statistics
import time
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from jobs import services
from jobs.models import Job
from presets.models import Preset


class Command(BaseCommand):
    help = ("Benchmarks. `bench preview`: job created -> plan ready for review (reel_hype, offline providers). "
            "`bench render`: L6 on the fixed workload against the naive MoviePy baseline and the x264 floor.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("which", choices=["preview", "render"])
        parser.add_argument("--runs", type=int, default=5, help="preview: jobs to time (at least 5)")
        parser.add_argument("--bench-dir", default=str(settings.BASE_DIR.parent / "shared" / "bench"),
                            help="render: the folder with make_workload.py, the baseline and the floor")
        parser.add_argument("--skip-baseline", action="store_true", help="render: leave out the slow baseline")

    def handle(self, *args, which: str, **options) -> None:
        result = self.preview(options["runs"]) if which == "preview" else self.render(options)
        self.stdout.write(json.dumps(result))

    def render(self, options) -> dict:
        from pipeline.render import bench

        bench_dir = Path(options["bench_dir"])
        if not (bench_dir / "make_workload.py").is_file():
            raise CommandError(f"no make_workload.py in {bench_dir} (pass --bench-dir)")
        return bench.run(bench_dir, preset=settings.PIPELINE["RENDER_PRESET"], crf=settings.PIPELINE["RENDER_CRF"],
                         skip_baseline=options["skip_baseline"])

    def preview(self, runs: int) -> dict:
        """Each job runs through jobs.tasks.run_layer, the code the django-q2 workers run.

        Every job is for another date and is marked fresh, so no layer output is reused from the cache:
        the figure is a cold preview.
        """
        if runs < 5:
            raise CommandError("--runs must be at least 5")
        try:
            preset = Preset.objects.get(slug="reel_hype")
        except Preset.DoesNotExist:
            raise CommandError("preset reel_hype is missing: run `manage.py setup`") from None
        from jobs import tasks

        totals, layers = [], {}
        base = timezone.localdate() + timedelta(days=400)
        for index in range(runs):
            with services.inline_queue() as queue:
                started = time.perf_counter()
                job = services.job_create(preset=preset, start=False, inputs={
                    "sport": "nfl", "date": (base + timedelta(days=index)).isoformat(), "source": "fixture"})
                Job.objects.filter(pk=job.pk).update(fresh_after=timezone.now())
                services.enqueue_layer(job.pk, services.current_pipeline().first())
                while queue:
                    tasks.run_layer(*queue.pop(0))
                elapsed = time.perf_counter() - started
            job.refresh_from_db()
            if job.status != Job.Status.AWAITING_REVIEW:
                raise CommandError(f"job {job.pk} ended {job.status}: {job.error_message}")
            totals.append(elapsed)
            for name, duration in job.layer_runs.values_list("layer", "duration_s"):
                layers.setdefault(name, []).append(duration)
        return {"median_s": round(statistics.median(totals), 3), "runs": runs,
                "layers": {name: round(statistics.median(values), 3) for name, values in sorted(layers.items())},
                "min_s": round(min(totals), 3), "max_s": round(max(totals), 3)}
