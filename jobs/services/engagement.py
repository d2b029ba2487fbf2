"""Performance feedback: what delivered posts earned on the platforms, reported under their analytics ids.

Reports come from an authenticated endpoint (`POST /engagement`, a bearer token) or a CSV file
(`manage.py import_engagement`). A batch is checked whole first: one bad row refuses the batch, naming the
row and the field, and nothing is saved, so a sender fixes it and sends it again. Figures are totals to date:
for a post and platform, the report with the latest `reported_at` stands, so sending a batch twice, or an
older one late, changes nothing.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, field_validator

from jobs.models import Engagement, Render
from jobs.services.errors import InvalidInput
from pipeline.errors import field_messages

MAX_REPORTS = 5000
BIG = 10**13


class EngagementReport(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    analytics_id: str = Field(min_length=1, max_length=40)
    platform: str = Field(min_length=1, max_length=30)
    views: int = Field(ge=0, le=BIG)
    likes: int = Field(default=0, ge=0, le=BIG)
    shares: int = Field(default=0, ge=0, le=BIG)
    comments: int = Field(default=0, ge=0, le=BIG)
    saves: int = Field(default=0, ge=0, le=BIG)
    reach: int = Field(default=0, ge=0, le=BIG)
    watch_time_s: float = Field(default=0.0, ge=0, le=float(BIG), allow_inf_nan=False,
                                description="seconds watched in all, over every view")
    reported_at: AwareDatetime | None = None

    @field_validator("views", "likes", "shares", "comments", "saves", "reach", "watch_time_s", mode="before")
    @classmethod
    def _numbers_not_flags(cls, value):
        if isinstance(value, bool):
            raise ValueError("a number, not true or false")
        return value

    @field_validator("platform")
    @classmethod
    def _platform_name(cls, value: str) -> str:
        value = value.lower()
        if not re.fullmatch(r"[a-z0-9][a-z0-9_.-]*", value):
            raise ValueError("a platform name like instagram, tiktok or youtube_shorts")
        return value


def engagement_record(*, reports: Iterable, where: Callable[[int], str] = lambda i: f"posts.{i}",
                      now: datetime | None = None) -> dict:
    """Check every report, then save them all (or, if any is wrong, none: InvalidInput names each problem by
    `where(index)` and field). Returns how many were saved and how many were older than what is kept."""
    reports = list(reports)
    if not reports:
        raise InvalidInput({"posts": ["send at least one post's figures"]})
    if len(reports) > MAX_REPORTS:
        raise InvalidInput({"posts": [f"at most {MAX_REPORTS} posts at once; split the file"]})
    now = now or timezone.now()
    errors: dict[str, list[str]] = {}
    parsed: list[tuple[int, EngagementReport]] = []
    for index, raw in enumerate(reports):
        if not isinstance(raw, dict):
            errors.setdefault(where(index), []).append("each post is an object of its figures")
            continue
        try:
            parsed.append((index, EngagementReport.model_validate(raw)))
        except ValidationError as exc:
            for field, messages in field_messages(exc, prefix=where(index)).items():
                errors.setdefault(field, []).extend(messages)
    renders = dict(Render.objects.filter(analytics_id__in={r.analytics_id for _, r in parsed})
                   .values_list("analytics_id", "pk"))
    for index, report in parsed:
        if report.analytics_id not in renders:
            errors.setdefault(f"{where(index)}.analytics_id", []).append(
                f"no delivered post has the analytics id {report.analytics_id!r}")
        if report.reported_at and report.reported_at > now:
            errors.setdefault(f"{where(index)}.reported_at", []).append("is in the future")
    if errors:
        raise InvalidInput(errors)
    saved = stale = 0
    with transaction.atomic():
        for _, report in parsed:
            at = report.reported_at or now
            figures = {"views": report.views, "likes": report.likes, "shares": report.shares,
                       "comments": report.comments, "saves": report.saves, "reach": report.reach,
                       "watch_time_s": report.watch_time_s, "reported_at": at}
            # get_or_create: two reporters sending the same post's first figures at once make one row.
            kept, created = Engagement.objects.select_for_update().get_or_create(
                render_id=renders[report.analytics_id], platform=report.platform, defaults=figures)
            if not created:
                if kept.reported_at > at:
                    stale += 1
                    continue
                for name, value in figures.items():
                    setattr(kept, name, value)
                kept.save()
            saved += 1
    return {"saved": saved, "older_than_kept": stale}
