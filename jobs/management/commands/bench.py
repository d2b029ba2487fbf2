import json
import statistics
import time
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from core.database import require_database
from jobs import services
from jobs.models import Job
from jobs.selectors import latest_plan_version
from pipeline.contracts import RenderPlan
from presets.models import Preset


class Command(BaseCommand):
    help = ("Benchmarks. `bench preview`: job created -> plan ready for review (reel_hype, offline providers). "
            "`bench render`: L6 on the fixed workload against the naive MoviePy baseline and the x264 floor. "
            "`bench approve`: Approve -> final file, after the render ahead, with one scene changed, and cold. "
            "`bench metrics`: the dashboard and /metrics over --jobs jobs, in a throwaway database. "
            "`bench desk`: --reviewers reviewers on --review-jobs jobs for --seconds, against the production setup "
            "(PostgreSQL, Redis, Daphne, a qcluster).")

    def add_arguments(self, parser) -> None:
        parser.add_argument("which", choices=["preview", "render", "approve", "metrics", "desk"])
        parser.add_argument("--reviewers", type=int, default=30, help="desk: reviewers working at once")
        parser.add_argument("--review-jobs", type=int, default=8, help="desk: jobs in review they share")
        parser.add_argument("--seconds", type=float, default=180, help="desk: how long the load lasts")
        parser.add_argument("--runs", type=int, default=5,
                            help="preview: jobs to time (at least 5); metrics: requests per page")
        parser.add_argument("--jobs", type=int, default=50_000, help="metrics: jobs in the table")
        parser.add_argument("--bench-dir", default=str(settings.BASE_DIR.parent / "shared" / "bench"),
                            help="render: the folder with make_workload.py, the baseline and the floor")
        parser.add_argument("--skip-baseline", action="store_true", help="render: leave out the slow baseline")

    def handle(self, *args, which: str, **options) -> None:
        if which in ("preview", "approve", "desk"):
            require_database()  # they run jobs in the configured database (render and metrics do not)
        if which == "preview":
            result = self.preview(options["runs"])
        elif which == "approve":
            result = self.approve()
        elif which == "desk":
            from jobs import bench_desk

            preset = self._preset()
            result = bench_desk.run(reviewers=options["reviewers"], jobs=options["review_jobs"],
                                    seconds=options["seconds"], to_review=lambda day: self._to_review(preset, day)[0])
        elif which == "metrics":
            from jobs import bench_metrics

            result = bench_metrics.run(options["jobs"], max(options["runs"], 3))
        else:
            result = self.render(options)
        self.stdout.write(json.dumps(result))

    def render(self, options) -> dict:
        from pipeline.render import bench

        bench_dir = Path(options["bench_dir"])
        if not (bench_dir / "make_workload.py").is_file():
            raise CommandError(f"no make_workload.py in {bench_dir} (pass --bench-dir)")
        # The workload's own x264 settings (crf 20, shared/bench/README.md), which the floor encodes with too.
        return bench.run(bench_dir, preset=settings.PIPELINE["RENDER_PRESET"], crf=20,
                         skip_baseline=options["skip_baseline"])

    def _preset(self) -> Preset:
        try:
            return Preset.objects.get(slug="reel_hype")
        except Preset.DoesNotExist:
            raise CommandError("preset reel_hype is missing: run `manage.py setup`") from None

    def _run_queue(self, queue: list) -> None:
        from jobs import tasks

        while queue:
            tasks.run_layer(*queue.pop(0))

    def _to_review(self, preset: Preset, day: int) -> tuple[Job, float]:
        """A cold job (its own date, marked fresh: no layer output reused) run to review through the task code
        the workers run. Returns the job and the seconds it took."""
        base = timezone.localdate() + timedelta(days=400)
        with services.inline_queue() as queue:
            started = time.perf_counter()
            job = services.job_create(preset=preset, start=False, inputs={
                "sport": "nfl", "date": (base + timedelta(days=day)).isoformat(), "source": "fixture"})
            Job.objects.filter(pk=job.pk).update(fresh_after=timezone.now())
            services.enqueue_layer(job.pk, services.current_pipeline().first())
            self._run_queue(queue)
            elapsed = time.perf_counter() - started
        job.refresh_from_db()
        if job.status != Job.Status.AWAITING_REVIEW:
            raise CommandError(f"job {job.pk} ended {job.status}: {job.error_message}")
        return job, elapsed

    def preview(self, runs: int) -> dict:
        """Each job runs through jobs.tasks.run_layer, the code the django-q2 workers run.

        Every job is for another date and is marked fresh, so no layer output is reused from the cache:
        the figure is a cold preview.
        """
        if runs < 5:
            raise CommandError("--runs must be at least 5")
        preset = self._preset()
        totals, layers = [], {}
        for index in range(runs):
            job, elapsed = self._to_review(preset, index)
            totals.append(elapsed)
            for name, duration in job.layer_runs.values_list("layer", "duration_s"):
                layers.setdefault(name, []).append(duration)
        return {"median_s": round(statistics.median(totals), 3), "runs": runs,
                "layers": {name: round(statistics.median(values), 3) for name, values in sorted(layers.items())},
                "min_s": round(min(totals), 3), "max_s": round(max(totals), 3)}

    def _approve_to_done(self, job: Job, adjustments: dict | None = None) -> tuple[float, dict]:
        """Seconds from the reviewer's Approve to the final file checked and the job done (L6 and what follows
        run in this process through the task code; a worker's pick-up delay is not in the figure)."""
        user = get_user_model().objects.filter(is_superuser=True).first()
        with services.inline_queue() as queue:
            started = time.perf_counter()
            services.job_approve(job_id=job.pk, user=user, adjustments=adjustments or {})
            self._run_queue(queue)
            elapsed = time.perf_counter() - started
        job.refresh_from_db()
        if job.status != Job.Status.DONE:
            raise CommandError(f"job {job.pk} ended {job.status}: {job.error_message}")
        output = job.layer_runs.get(layer="L6").output
        return elapsed, next(f for f in output["files"] if f["kind"] == "video")

    def _render_ahead(self, job: Job) -> float:
        started = time.perf_counter()
        services.render_ahead_run(job_id=job.pk)
        job.refresh_from_db()
        if job.ahead_done != job.ahead_wanted:
            busy = Job.objects.filter(status__in=services.BUSY).exclude(pk=job.pk).count()
            raise CommandError(f"the render ahead of job {job.pk} gave way to {busy} other job(s) queued or running: "
                               "measure on a desk with no other work")
        return time.perf_counter() - started

    def approve(self) -> dict:
        """Three reel_hype jobs: approved as built after the render ahead; approved with one scene's text
        changed after the render ahead; approved cold (nothing rendered ahead)."""
        if not settings.PIPELINE.get("RENDER_AHEAD"):
            raise CommandError("RENDER_AHEAD is off: there is nothing rendered ahead to measure")
        preset = self._preset()
        as_built, _ = self._to_review(preset, 100)
        ahead_s = self._render_ahead(as_built)
        built_s, built = self._approve_to_done(as_built)

        edited, _ = self._to_review(preset, 101)
        self._render_ahead(edited)
        plan = RenderPlan.model_validate(latest_plan_version(edited).plan)
        # A text of a scene in the middle, edited at the moment of approval (the worst case: an edit made
        # earlier is rendered ahead too). Its last word dropped, it still fits and says nothing new.
        middle = plan.scenes[len(plan.scenes) // 2:] + plan.scenes[:len(plan.scenes) // 2]
        layer = next((layer for scene in middle for layer in scene.layers if getattr(layer, "editable", False)
                      and len(getattr(layer, "text", "").split()) > 1), None)
        if layer is None:
            raise CommandError("the reel_hype plan has no editable text of several words to change")
        shorter = " ".join(layer.text.split()[:-1])
        one_s, one = self._approve_to_done(edited, {"text_edits": {layer.id: shorter}})

        cold, _ = self._to_review(preset, 102)
        cold_s, cold_video = self._approve_to_done(cold)
        return {"approve_to_done_s": round(built_s, 3), "render_ahead_s": round(ahead_s, 3),
                "scenes": built["scenes"], "scenes_reused": built["scenes_reused"],
                "one_scene_changed_s": round(one_s, 3), "one_scene_changed_reused": one["scenes_reused"],
                "cold_s": round(cold_s, 3), "cold_reused": cold_video["scenes_reused"],
                "reel_s": built["duration"]}
