"""Per-job figures for the desk, computed from what jobs already record.

preview time = plan ready - job created; waiting = approved - plan ready; render time = render
finished - started; outcome = approved as built / adjusted / skipped / rejected; failures by layer
and error type.
"""
from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import F, Prefetch
from django.utils import timezone

from jobs.models import Job, PlanVersion, Render
from jobs.services.review import VARIANT_LOST
from pipeline.contracts import Adjustments


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


@dataclass
class Window:
    days: int
    jobs: int = 0
    preview_s: list[float] = field(default_factory=list)
    waiting_s: list[float] = field(default_factory=list)
    render_s: list[float] = field(default_factory=list)
    outcomes: Counter = field(default_factory=Counter)
    failures: Counter = field(default_factory=Counter)   # (layer, error type) -> jobs
    renders: int = 0
    approved_jobs: int = 0
    preview_by_day: dict = field(default_factory=dict)  # date -> [seconds]

    @property
    def reviewed(self) -> int:
        return sum(self.outcomes[k] for k in ("approved", "adjusted", "skipped", "rejected"))

    @property
    def approval_rate(self) -> float | None:
        """Approved as built, out of everything a person reviewed (the plans aim for over 70 %)."""
        return self.outcomes["approved"] / self.reviewed if self.reviewed else None

    @property
    def renders_per_approved_job(self) -> float | None:
        return self.renders / self.approved_jobs if self.approved_jobs else None

    def summary(self) -> dict:
        return {
            "days": self.days, "jobs": self.jobs,
            "preview_p50_s": percentile(self.preview_s, 50), "preview_p95_s": percentile(self.preview_s, 95),
            "waiting_p50_s": percentile(self.waiting_s, 50), "render_p50_s": percentile(self.render_s, 50),
            "outcomes": dict(self.outcomes), "approval_rate": self.approval_rate,
            "renders_per_approved_job": self.renders_per_approved_job,
            "failures": {f"{layer} {kind}": n for (layer, kind), n in self.failures.most_common()},
        }


def outcome(job: Job, versions: list[PlanVersion]) -> str | None:
    """rejected, skipped (approved unseen), approved (as built), adjusted, or auto (no review: asked for at
    creation, or preview off)."""
    if job.status == Job.Status.REJECTED:
        # A variant passed over for another is not a rejected piece: the job's approval counts once.
        return None if job.variant_group and job.reject_reason.startswith(VARIANT_LOST) else "rejected"
    approved = next((v for v in reversed(versions) if v.approved_at), None)
    if approved is None:
        return None
    if approved.approved_by_id is None:
        return "auto"
    if approved.note == "preview skipped":
        return "skipped"
    return "approved" if Adjustments.model_validate(approved.adjustments or {}).is_empty() else "adjusted"


def window(days: int) -> Window:
    since = timezone.now() - timedelta(days=days)
    jobs = (Job.objects.filter(created_at__gte=since)
            .prefetch_related(Prefetch("plan_versions", queryset=PlanVersion.objects.order_by("number")),
                              Prefetch("renders", queryset=Render.objects.all())))
    result = Window(days=days)
    for job in jobs:
        result.jobs += 1
        versions = list(job.plan_versions.all())
        if job.review_ready_at:
            seconds = (job.review_ready_at - job.created_at).total_seconds()
            result.preview_s.append(seconds)
            result.preview_by_day.setdefault(job.created_at.date(), []).append(seconds)
        kind = outcome(job, versions)
        if kind:
            result.outcomes[kind] += 1
        approved = next((v for v in reversed(versions) if v.approved_at), None)
        if approved and job.review_ready_at and approved.approved_by_id:
            result.waiting_s.append((approved.approved_at - job.review_ready_at).total_seconds())
        if approved:
            result.approved_jobs += 1
        for render in job.renders.all():
            result.renders += 1
            if render.status == Render.Status.DONE and render.finished_at:
                result.render_s.append((render.finished_at - render.started_at).total_seconds())
        if job.status == Job.Status.FAILED:
            result.failures[(job.failed_layer or "?", job.error_type or "?")] += 1
    return result


def render_estimate(preset_id: int, *, sample: int = 20) -> tuple[float, int] | None:
    """The median render time of the preset's last finished renders, and how many it is based on."""
    durations = list(Render.objects.filter(job__preset_id=preset_id, status=Render.Status.DONE,
                                           finished_at__isnull=False)
                     .annotate(took=F("finished_at") - F("started_at")).order_by("-finished_at")
                     .values_list("took", flat=True)[:sample])
    if not durations:
        return None
    return statistics.median(d.total_seconds() for d in durations), len(durations)


class JobsCollector:
    """Prometheus metrics computed from the database at scrape time (prometheus-client custom collector)."""

    def collect(self):
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        stats = window(30)
        by_status = GaugeMetricFamily("mediaengine_jobs", "Jobs created in the last 30 days, by status",
                                      labels=["status"])
        counts = Counter(Job.objects.filter(created_at__gte=timezone.now() - timedelta(days=30))
                         .values_list("status", flat=True))
        for status, _ in Job.Status.choices:
            by_status.add_metric([status], counts[status])
        yield by_status
        for name, values, text in (
                ("preview", stats.preview_s, "Seconds from job created to plan ready for review"),
                ("review_wait", stats.waiting_s, "Seconds a plan waited for its reviewer"),
                ("render", stats.render_s, "Seconds an L6 render took")):
            family = GaugeMetricFamily(f"mediaengine_{name}_seconds", f"{text} (last 30 days)", labels=["quantile"])
            for q in (50, 95):
                value = percentile(values, q)
                if value is not None:
                    family.add_metric([f"0.{q}"], value)
            yield family
        outcomes = CounterMetricFamily("mediaengine_review_outcomes", "Review outcomes (last 30 days)",
                                       labels=["outcome"])
        for kind in ("approved", "adjusted", "skipped", "rejected", "auto"):
            outcomes.add_metric([kind], stats.outcomes[kind])
        yield outcomes
        failures = CounterMetricFamily("mediaengine_failures", "Failed jobs by layer and error type (last 30 days)",
                                       labels=["layer", "error_type"])
        for (layer, kind), count in stats.failures.items():
            failures.add_metric([layer, kind], count)
        yield failures
        if stats.approval_rate is not None:
            yield GaugeMetricFamily("mediaengine_approval_rate", "Share approved as built (last 30 days)",
                                    value=stats.approval_rate)
        if stats.renders_per_approved_job is not None:
            yield GaugeMetricFamily("mediaengine_renders_per_approved_job", "Renders per approved job (30 days)",
                                    value=stats.renders_per_approved_job)
