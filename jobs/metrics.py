"""The desk's figures, computed in the database from what jobs record as it happens.

preview time = plan ready - job created (`Job.preview_s`); waiting = approved - plan ready
(`Job.review_wait_s`); render time = render finished - started (`Render.duration_s`); outcome = approved as
built / adjusted / skipped / rejected / auto (`Job.review_outcome`); failures by layer and error type. Every
figure is a count, a sum or a percentile taken by the database (ordered, one row at an offset), so a page
costs a few indexed queries however many jobs there are.
"""
from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from django.db.models import Count, F, Q, QuerySet, Sum
from django.utils import timezone

from jobs.models import Engagement, Job, Outcome, Render

REVIEWED = (Outcome.APPROVED, Outcome.ADJUSTED, Outcome.SKIPPED, Outcome.REJECTED)
APPROVED = (Outcome.APPROVED, Outcome.ADJUSTED, Outcome.SKIPPED, Outcome.AUTO)


def percentile(values: list[float], q: float) -> float | None:
    """The value at rank round(q% of n-1) of the sorted values (the same rank `sql_percentiles` reads)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[_rank(len(ordered), q)]


def _rank(count: int, q: float) -> int:
    return min(count - 1, max(0, round(q / 100 * (count - 1))))


def sql_percentiles(rows: QuerySet, name: str, quantiles=(50, 95), count: int | None = None) -> dict:
    """{q: the q-th percentile of column `name` over `rows`}: for each quantile, the one value at its rank in
    `name`'s order (ORDER BY name LIMIT 1 OFFSET rank). The (name, created_at) and (duration_s, started_at)
    indexes hold the rows in that order with the window's column beside them, so the database walks one index
    and reads no table row; a ROW_NUMBER() window over the same rows sorted them all, three times a scrape."""
    rows = rows.filter(**{f"{name}__isnull": False})
    count = rows.count() if count is None else count
    if not count:
        return {q: None for q in quantiles}
    ordered = rows.order_by(name).values_list(name, flat=True)
    return {q: ordered[_rank(count, q)] for q in quantiles}


@dataclass
class Window:
    days: int
    jobs: int = 0
    preview: dict = field(default_factory=dict)    # percentile -> seconds
    waiting: dict = field(default_factory=dict)
    render: dict = field(default_factory=dict)
    outcomes: Counter = field(default_factory=Counter)
    failures: Counter = field(default_factory=Counter)   # (layer, error type) -> jobs
    renders: int = 0
    approved_jobs: int = 0

    @property
    def reviewed(self) -> int:
        return sum(self.outcomes[k] for k in REVIEWED)

    @property
    def approval_rate(self) -> float | None:
        """Approved as built, out of everything a person reviewed (the plans aim for over 70 %)."""
        return self.outcomes[Outcome.APPROVED] / self.reviewed if self.reviewed else None

    @property
    def renders_per_approved_job(self) -> float | None:
        return self.renders / self.approved_jobs if self.approved_jobs else None

    def summary(self) -> dict:
        return {
            "days": self.days, "jobs": self.jobs,
            "preview_p50_s": self.preview.get(50), "preview_p95_s": self.preview.get(95),
            "waiting_p50_s": self.waiting.get(50), "render_p50_s": self.render.get(50),
            "outcomes": dict(self.outcomes), "approval_rate": self.approval_rate,
            "renders_per_approved_job": self.renders_per_approved_job,
            "failures": {f"{layer} {kind}": n for (layer, kind), n in self.failures.most_common()},
        }


def window(days: int) -> Window:
    """The figures of the jobs created (and renders started) in the last `days` days."""
    since = timezone.now() - timedelta(days=days)
    jobs = Job.objects.filter(created_at__gte=since)
    result = Window(days=days)
    for outcome, count in jobs.values_list("review_outcome").annotate(n=Count("*")).order_by():
        result.jobs += count
        if outcome:
            result.outcomes[outcome] = count
    result.approved_jobs = sum(result.outcomes[k] for k in APPROVED)
    result.failures = Counter({(layer or "?", kind or "?"): n for layer, kind, n in jobs.filter(
        status=Job.Status.FAILED).values_list("failed_layer", "error_type").annotate(n=Count("*")).order_by()})
    renders = Render.objects.filter(started_at__gte=since)
    result.renders = renders.count()
    for figures, rows, name in ((result.preview, jobs, "preview_s"), (result.waiting, jobs, "review_wait_s"),
                                (result.render, renders, "duration_s")):  # duration_s: renders that finished
        figures.update(sql_percentiles(rows, name))
    return result


def preview_by_day(days: int) -> dict:
    """{date: {50: seconds, 95: seconds}}: the median and p95 preview time of each of the last `days` days. Each
    day's times are one range of the (created_at, preview_s) index: the database reads no row."""
    zone = timezone.get_current_timezone()
    today = timezone.localdate()
    result = {}
    for back in range(days - 1, -1, -1):
        day = today - timedelta(days=back)
        start = datetime.combine(day, time.min, tzinfo=zone)
        values = list(Job.objects.filter(created_at__gte=start, created_at__lt=start + timedelta(days=1),
                                         preview_s__isnull=False).values_list("preview_s", flat=True))
        if values:
            result[day] = {q: percentile(values, q) for q in (50, 95)}
    return result


# Seconds of rendering per second of video, the estimate before this install has rendered anything: a 28.5 s
# 1080x1920 reel took 16.6 s on the two-core machine `manage.py bench render` ran on (2026-12).
FIRST_RENDER_S_PER_VIDEO_S = 0.6


def render_estimate(preset_id: int, video_s: float | None, *, sample: int = 20) -> dict | None:
    """How long the render will take, and what the figure is based on: the median of the preset's last finished
    renders; without any, this piece's length at the pace of the install's last renders; without any render
    at all, its length at the pace measured on a small machine. None when there is no plan to go by."""
    took = F("finished_at") - F("started_at")
    done = Render.objects.filter(status=Render.Status.DONE, finished_at__isnull=False).annotate(took=took)
    durations = list(done.filter(job__preset_id=preset_id).order_by("-finished_at")
                     .values_list("took", flat=True)[:sample])
    if durations:
        return {"seconds": statistics.median(d.total_seconds() for d in durations), "count": len(durations),
                "basis": "preset"}
    if not video_s:
        return None
    rates = [took.total_seconds() / length for took, length in
             done.order_by("-finished_at").values_list("took", "plan_version__plan__duration")[:sample]
             if isinstance(length, int | float) and length > 0]
    if rates:
        return {"seconds": video_s * statistics.median(rates), "count": len(rates), "basis": "install",
                "video_s": video_s}
    return {"seconds": video_s * FIRST_RENDER_S_PER_VIDEO_S, "count": 0, "basis": "length", "video_s": video_s,
            "rate": FIRST_RENDER_S_PER_VIDEO_S}


@dataclass
class Performance:
    """What a preset's (or a segment's) delivered posts earned, next to how its reviews went."""
    name: str
    posts: int = 0
    views: int = 0
    likes: int = 0
    shares: int = 0
    watch_time_s: float = 0.0
    approved: int = 0
    reviewed: int = 0

    @property
    def views_per_post(self) -> float | None:
        return self.views / self.posts if self.posts else None

    @property
    def engagement_rate(self) -> float | None:
        """Likes and shares per view."""
        return (self.likes + self.shares) / self.views if self.views else None

    @property
    def watch_s_per_view(self) -> float | None:
        return self.watch_time_s / self.views if self.views else None

    @property
    def approval_rate(self) -> float | None:
        return self.approved / self.reviewed if self.reviewed else None


def _best_first(rows) -> list[Performance]:
    return sorted(rows, key=lambda p: (-(p.views_per_post or -1), p.name))


FIGURES = ("views", "likes", "shares", "watch_time_s")


def engagement_by_preset() -> list[Performance]:
    """Every preset with its posts' figures (all platforms added up) and its approval rate, best first."""
    from presets.models import Preset

    found = {}
    for preset in (Preset.objects.annotate(
            reviewed=Count("jobs", filter=Q(jobs__review_outcome__in=REVIEWED)),
            approved=Count("jobs", filter=Q(jobs__review_outcome=Outcome.APPROVED))).order_by()):
        found[preset.pk] = Performance(name=preset.name, approved=preset.approved, reviewed=preset.reviewed)
    for row in (Engagement.objects.values("render__job__preset_id").order_by()
                .annotate(posts=Count("render", distinct=True), **{f: Sum(f) for f in FIGURES})):
        item = found.get(row["render__job__preset_id"])
        if item is not None:
            item.posts = row["posts"]
            for name in FIGURES:
                setattr(item, name, row[name] or 0)
    return _best_first(found.values())


def engagement_by_segment() -> list[Performance]:
    """Per segment of the script (the plan's scene ids: hook, matchup, prop_1, cta, ...): the figures of the posts
    that had it, best first. A post counts once for every segment it had."""
    per_post = {row["render_id"]: row for row in Engagement.objects.values("render_id").order_by()
                .annotate(**{f: Sum(f) for f in FIGURES})}
    found: dict[str, Performance] = {}
    renders = Render.objects.filter(pk__in=list(per_post)).values_list("pk", "plan_version__plan")
    for render_id, plan in renders:
        for scene_id in dict.fromkeys(scene.get("id", "") for scene in (plan or {}).get("scenes", [])):
            item = found.setdefault(scene_id, Performance(name=scene_id))
            item.posts += 1
            for name in FIGURES:
                setattr(item, name, getattr(item, name) + (per_post[render_id][name] or 0))
    return _best_first(found.values())


class JobsCollector:
    """Prometheus metrics computed from the database at scrape time (prometheus-client custom collector).

    Figures over the last 30 days can go down as days leave the window: they are gauges (`_30d`). Counters,
    which only go up, count everything ever recorded (`_total`)."""

    def collect(self):
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        stats = window(30)
        by_status = GaugeMetricFamily("mediaengine_jobs_30d", "Jobs created in the last 30 days, by status",
                                      labels=["status"])
        counts = dict(Job.objects.filter(created_at__gte=timezone.now() - timedelta(days=30))
                      .values_list("status").annotate(n=Count("*")).order_by())
        for status, _ in Job.Status.choices:
            by_status.add_metric([status], counts.get(status, 0))
        yield by_status
        for name, values, text in (
                ("preview", stats.preview, "Seconds from job created to plan ready for review"),
                ("review_wait", stats.waiting, "Seconds a plan waited for its reviewer"),
                ("render", stats.render, "Seconds an L6 render took")):
            # `quantile` is a summary's own label (promtool refuses it on a gauge): these are gauges of
            # percentiles over a window, labelled `percentile`.
            family = GaugeMetricFamily(f"mediaengine_{name}_seconds_30d", f"{text} (last 30 days)",
                                       labels=["percentile"])
            for q in (50, 95):
                if values.get(q) is not None:
                    family.add_metric([str(q)], values[q])
            yield family
        outcomes = GaugeMetricFamily("mediaengine_review_outcomes_30d", "Review outcomes (last 30 days)",
                                     labels=["outcome"])
        for kind in Outcome.values:
            outcomes.add_metric([kind], stats.outcomes[kind])
        yield outcomes
        failures = GaugeMetricFamily("mediaengine_failures_30d", "Failed jobs by layer and error type (last 30 days)",
                                     labels=["layer", "error_type"])
        for (layer, kind), count in stats.failures.items():
            failures.add_metric([layer, kind], count)
        yield failures
        if stats.approval_rate is not None:
            yield GaugeMetricFamily("mediaengine_approval_rate_30d", "Share approved as built (last 30 days)",
                                    value=stats.approval_rate)
        if stats.renders_per_approved_job is not None:
            yield GaugeMetricFamily("mediaengine_renders_per_approved_job_30d", "Renders per approved job (30 days)",
                                    value=stats.renders_per_approved_job)
        created = CounterMetricFamily("mediaengine_jobs_created", "Jobs created, ever", value=Job.objects.count())
        yield created
        reviews = CounterMetricFamily("mediaengine_reviews", "Reviews ended, ever, by outcome", labels=["outcome"])
        ever = dict(Job.objects.exclude(review_outcome="").values_list("review_outcome").annotate(n=Count("*"))
                    .order_by())
        for kind in Outcome.values:
            reviews.add_metric([kind], ever.get(kind, 0))
        yield reviews
        yield CounterMetricFamily("mediaengine_renders_finished", "L6 renders finished, ever",
                                  value=Render.objects.filter(status=Render.Status.DONE).count())
