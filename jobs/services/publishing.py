"""The jobs side of publishing to the platforms: each post's ledger (`Publication`, written and committed at
every step, so a worker that dies mid-post leaves a record the next delivery reads), and the scheduled pull of
each published post's figures into the engagement rows, hourly for its first day and daily for a month."""
from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from jobs.models import Job, Publication, Render
from jobs.services.engagement import engagement_record
from jobs.services.errors import InvalidInput
from pipeline.contracts.l7 import analytics_id
from pipeline.errors import PipelineError
from pipeline.publish import PLATFORM_LABELS, instagram, tiktok, x, youtube
from presets import accounts

logger = logging.getLogger("jobs.publishing")
MODULES = {"instagram": instagram, "tiktok": tiktok, "youtube": youtube, "x": x}
HOURLY_FOR = timedelta(days=1)
DAILY_FOR = timedelta(days=30)
LOG_KEPT = 50


class PublicationLedger:
    """pipeline.publish.Ledger over one Publication row. Every write commits on its own (autocommit), so a
    record outlives the worker that wrote it."""

    def __init__(self, job_id, plan_version: int, destination: dict) -> None:
        self.publication, _ = Publication.objects.get_or_create(
            job_id=job_id, plan_version=plan_version, destination=destination["name"],
            defaults={"platform": destination["kind"], "account_id": destination.get("account")})

    def read(self) -> dict:
        self.publication.refresh_from_db()
        row = self.publication
        return {"state": row.state, "steps": dict(row.steps), "post_id": row.post_id, "url": row.url}

    def write(self, *, note: str = "", **changes) -> None:
        row = self.publication
        fields = []
        for name in ("state", "steps", "post_id", "url"):
            if name in changes:
                setattr(row, name, changes[name])
                fields.append(name)
        if changes.get("state") == Publication.State.PUBLISHED:
            row.published_at = row.published_at or timezone.now()
            row.insights_due_at = row.published_at + timedelta(hours=1)
            fields += ["published_at", "insights_due_at"]
        if note:
            row.log = [*row.log, {"at": timezone.now().isoformat(timespec="seconds"), "state": row.state,
                                  "note": note[:300]}][-LOG_KEPT:]
            fields.append("log")
        with transaction.atomic():
            row.save(update_fields=fields)


def publication_ledger(job_id):
    return lambda destination, plan_version: PublicationLedger(job_id, plan_version, destination)


def next_pull(publication: Publication, now) -> object:
    """Hourly for the first day after posting, daily up to a month, then no more."""
    age = now - publication.published_at
    if age < HOURLY_FOR:
        return now + timedelta(hours=1)
    if age < DAILY_FOR:
        return now + timedelta(days=1)
    return None


def insights_pull(publication: Publication, *, now=None) -> dict:
    """Read one post's figures and keep them as its engagement row on that platform."""
    now = now or timezone.now()
    account = accounts.for_pipeline(publication.account_id)
    config = settings.PLATFORMS[publication.platform]
    kind = Job.objects.filter(pk=publication.job_id).values_list("preset__kind", flat=True).first() or "reel"
    module = MODULES[publication.platform]
    extra = {"analytics_url": config.get("analytics_url", "")} if publication.platform == "youtube" else {}
    figures = module.insights(config["api_url"], account, publication.post_id, kind, **extra)
    report = {"analytics_id": analytics_id(publication.job_id, publication.plan_version),
              "platform": publication.platform, "views": figures.views, "likes": figures.likes,
              "shares": figures.shares, "comments": figures.comments, "saves": figures.saves,
              "reach": figures.reach, "watch_time_s": figures.watch_time_s, "reported_at": now.isoformat()}
    return engagement_record(reports=[report], where=lambda i: PLATFORM_LABELS[publication.platform], now=now)


def insights_pull_due(*, now=None) -> dict:
    """Every published post whose pull is due (the hourly task). A post whose pull fails keeps its turn and the
    reason, shown on the job page; the others go on."""
    now = now or timezone.now()
    pulled, failed = 0, 0
    due = Publication.objects.filter(state=Publication.State.PUBLISHED, insights_due_at__lte=now).exclude(
        post_id="").select_related("job")
    for publication in due:
        if not Render.objects.filter(analytics_id=analytics_id(publication.job_id, publication.plan_version)).exists():
            Publication.objects.filter(pk=publication.pk).update(insights_due_at=None,
                                                                 insights_problem="no render of this version")
            continue
        try:
            insights_pull(publication, now=now)
        except (PipelineError, InvalidInput) as exc:
            failed += 1
            problem = exc.describe() if isinstance(exc, PipelineError) else str(exc)
            Publication.objects.filter(pk=publication.pk).update(
                insights_problem=problem[:500], insights_due_at=now + timedelta(hours=1))
            logger.warning("insights of %s failed: %s", publication, problem)
            continue
        pulled += 1
        Publication.objects.filter(pk=publication.pk).update(
            insights_pulled_at=now, insights_problem="", insights_due_at=next_pull(publication, now))
    return {"pulled": pulled, "failed": failed, "renewed": accounts.accounts_renew_due()}
