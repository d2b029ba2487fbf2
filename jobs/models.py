import uuid
from pathlib import Path

from django.conf import settings
from django.db import models

from core.folders import job_folder


class Outcome(models.TextChoices):
    """How a job's review ended. A variant passed over for another records none: the group's approval counts
    once."""
    APPROVED = "approved", "Approved as built"
    ADJUSTED = "adjusted", "Approved with adjustments"
    SKIPPED = "skipped", "Approved without looking (preview skipped)"
    AUTO = "auto", "No review (asked for at creation, or preview off)"
    REJECTED = "rejected", "Rejected"


class Job(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        AWAITING_REVIEW = "awaiting_review", "Awaiting review"
        APPROVED = "approved", "Approved"
        RENDERING = "rendering", "Rendering"
        # Rendered; waiting for its calendar slot (publish_at) to be delivered (L7).
        SCHEDULED = "scheduled", "Scheduled for delivery"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"
        REJECTED = "rejected", "Rejected"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    preset = models.ForeignKey("presets.Preset", on_delete=models.PROTECT, related_name="jobs")
    inputs = models.JSONField(help_text="Validated by pipeline.contracts.JobInputs.")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    current_layer = models.CharField(max_length=4, blank=True)
    failed_layer = models.CharField(max_length=4, blank=True)
    error_type = models.CharField(max_length=80, blank=True)
    error_message = models.TextField(blank=True)
    retryable = models.BooleanField(default=False)
    reject_reason = models.TextField(blank=True)
    # Variants of one request share a group; approving one rejects the others.
    variant_group = models.UUIDField(null=True, blank=True, db_index=True)
    # Set when a reviewer re-runs the job with fresh data: cached layer outputs from before it are not reused.
    fresh_after = models.DateTimeField(null=True, blank=True)
    last_event_seq = models.PositiveIntegerField(default=0)
    # The render ahead (jobs/services/render_ahead.py): the adjustments of the plan to render while the job
    # waits for review (None: as built), a token that changes with each wish, the token last rendered in
    # full, and when a task for it was queued.
    ahead_adjustments = models.JSONField(null=True, blank=True)
    ahead_wanted = models.CharField(max_length=32, blank=True)
    ahead_done = models.CharField(max_length=32, blank=True)
    ahead_queued_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    started_at = models.DateTimeField(null=True, blank=True)
    review_ready_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # When L7 delivers the files: the calendar slot L2 chose, until someone changes it on the job page.
    publish_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # The desk's figures, recorded when they happen so that the metrics are sums and counts in SQL
    # (jobs/metrics.py): seconds from created to plan ready, how the review ended, and how long the plan
    # waited for its reviewer.
    preview_s = models.FloatField(null=True, blank=True)
    review_outcome = models.CharField(max_length=10, choices=Outcome.choices, blank=True)
    review_wait_s = models.FloatField(null=True, blank=True)
    # What the studio list shows and searches (jobs/services/describing.py): the game in words, its day, the
    # teams and the players the piece names, and a picture of it; filled in as the layers learn them.
    title = models.CharField(max_length=200, blank=True)
    game_day = models.DateField(null=True, blank=True, db_index=True)
    keywords = models.TextField(blank=True, help_text="Teams and players, for the studio's search.")
    thumbnail = models.CharField(max_length=300, blank=True, help_text="A picture of the piece, in the job's files.")
    # A failed or rejected job put away by the desk: out of the studio list unless asked for.
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        # The metrics read these without touching the rows (jobs/metrics.py): counts by outcome, and the
        # figures' percentiles, over a range of days.
        indexes = [models.Index(fields=["status", "-created_at"]),
                   models.Index(fields=["created_at", "review_outcome"], name="job_created_outcome"),
                   models.Index(fields=["created_at", "preview_s"], name="job_created_preview"),
                   models.Index(fields=["created_at", "review_wait_s"], name="job_created_wait"),
                   # ...and their percentiles: each figure's order, with the window's column beside it.
                   models.Index(fields=["preview_s", "created_at"], name="job_preview_order"),
                   models.Index(fields=["review_wait_s", "created_at"], name="job_wait_order")]
        # The desk's actions in the studio, besides the model permissions the admin uses.
        permissions = [
            ("review_job", "Can approve, skip the preview of, or reject a job"),
            ("rerun_job", "Can retry a job or re-run it with fresh data"),
            ("batch_review_job", "Can act on several jobs at once in the batch grid"),
            ("publish_unreviewed", "Can have a job rendered and delivered without review"),
        ]

    def __str__(self) -> str:
        return f"{self.preset.slug} {str(self.id)[:8]} ({self.status})"

    def get_absolute_url(self) -> str:
        return f"/studio/jobs/{self.id}/"

    @property
    def work_dir(self) -> Path:
        """The job's folder on this machine: every file a layer writes for this job is made under it. With
        object storage it holds only what this machine fetched or made (jobs/files.py)."""
        return job_folder(self.id)

    @property
    def variant(self) -> int:
        return int(self.inputs.get("variant") or 0)

    @property
    def auto_approve(self) -> bool:
        return bool(self.inputs.get("auto_approve"))


class LayerRun(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        REUSED = "reused", "Reused from cache"
        FAILED = "failed", "Failed"
        ABANDONED = "abandoned", "Abandoned (worker lost)"
        SUPERSEDED = "superseded", "Superseded by a re-run"

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="layer_runs")
    layer = models.CharField(max_length=4)
    attempt = models.PositiveSmallIntegerField(default=1)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.RUNNING)
    input_hash = models.CharField(max_length=64, db_index=True)
    output = models.JSONField(null=True, blank=True)
    reused_from = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    started_at = models.DateTimeField(auto_now_add=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_s = models.FloatField(null=True, blank=True)
    progress = models.FloatField(default=0.0)
    error_type = models.CharField(max_length=80, blank=True)
    error_message = models.TextField(blank=True)
    traceback = models.TextField(blank=True)

    class Meta:
        ordering = ["job", "started_at"]
        constraints = [
            models.UniqueConstraint(fields=["job", "layer", "attempt"], name="one_row_per_layer_attempt"),
            # At most one finished run per layer per job: a duplicate delivery can never record work twice.
            models.UniqueConstraint(fields=["job", "layer"], condition=models.Q(status__in=["done", "reused"]),
                                    name="one_finished_run_per_layer"),
        ]

    def __str__(self) -> str:
        return f"{self.layer} #{self.attempt} {self.status}"


class Asset(models.Model):
    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="assets")
    layer = models.CharField(max_length=4)
    kind = models.CharField(max_length=40)
    path = models.CharField(max_length=500, help_text="Relative to the job's folder.")
    sha256 = models.CharField(max_length=64)
    bytes = models.PositiveBigIntegerField(default=0)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    duration = models.FloatField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["job", "layer", "path"]
        constraints = [models.UniqueConstraint(fields=["job", "path"], name="one_asset_per_path")]

    def __str__(self) -> str:
        return self.path

    def get_absolute_url(self) -> str:
        return f"/studio/jobs/{self.job_id}/files/{self.path}"


class JobEvent(models.Model):
    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="events")
    seq = models.PositiveIntegerField()
    type = models.CharField(max_length=40)
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["job", "seq"]
        constraints = [models.UniqueConstraint(fields=["job", "seq"], name="event_seq_unique_per_job")]

    def __str__(self) -> str:
        return f"#{self.seq} {self.type}"

    def as_message(self) -> dict:
        return {"seq": self.seq, "type": self.type, "payload": self.payload,
                "at": self.created_at.isoformat() if self.created_at else None}


class PlanVersion(models.Model):
    class Origin(models.TextChoices):
        # Built by the pipeline from L3-L5 (the base every adjustment applies to), or saved at review.
        PIPELINE = "pipeline", "Built by the pipeline"
        REVIEW = "review", "Saved at review"

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="plan_versions")
    number = models.PositiveIntegerField()
    origin = models.CharField(max_length=10, choices=Origin.choices, default=Origin.REVIEW)
    plan = models.JSONField(help_text="A RenderPlan (pipeline.contracts.RenderPlan).")
    adjustments = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    approved_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=200, blank=True)
    snapshots = models.JSONField(default=dict, blank=True, help_text="Canvas snapshots sent at approval.")

    class Meta:
        ordering = ["job", "number"]
        constraints = [models.UniqueConstraint(fields=["job", "number"], name="plan_number_unique_per_job")]

    def __str__(self) -> str:
        return f"plan v{self.number}"


class Render(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="renders")
    # One render per approved plan version: a replayed approval cannot render twice.
    plan_version = models.OneToOneField(PlanVersion, on_delete=models.PROTECT, related_name="render")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    files = models.JSONField(default=list, blank=True)
    readback = models.JSONField(default=dict, blank=True)
    timings = models.JSONField(default=dict, blank=True)
    parity = models.JSONField(default=dict, blank=True)
    error_message = models.TextField(blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_s = models.FloatField(null=True, blank=True)
    # What the delivered post carries and its engagement is reported under (pipeline.contracts.l7.analytics_id).
    analytics_id = models.CharField(max_length=40, unique=True, null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["started_at", "duration_s"], name="render_started_duration"),
                   models.Index(fields=["duration_s", "started_at"], name="render_duration_order")]

    def __str__(self) -> str:
        return f"render of {self.plan_version} ({self.status})"


# ---------------------------------------------------------------------------------------------- the desk together


class DraftRevision(models.Model):
    """One save of a job's shared review draft: the adjustments everyone on the job's page sees.

    The newest revision is the draft. Each save names the fields it changed, which is how a later save knows
    whose change it replaces (last write wins, field by field). Rolling back makes an earlier set the newest."""
    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="draft_revisions")
    number = models.PositiveIntegerField()
    adjustments = models.JSONField(default=dict, blank=True, help_text="pipeline.contracts.Adjustments")
    fields = models.JSONField(default=list, blank=True, help_text="The adjustment fields this save changed.")
    note = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["job", "number"]
        constraints = [models.UniqueConstraint(fields=["job", "number"], name="draft_number_unique_per_job")]

    def __str__(self) -> str:
        return f"draft {self.number}"


class Comment(models.Model):
    """A reviewer's note pinned to a moment of the piece and, optionally, one of its layers."""
    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="comments")
    at_s = models.FloatField(help_text="Seconds into the piece.")
    layer_id = models.CharField(max_length=80, blank=True)
    text = models.TextField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["job", "at_s", "created_at"]
        indexes = [models.Index(fields=["job", "resolved_at"], name="comment_job_open")]

    def __str__(self) -> str:
        return f"{self.at_s:.1f} s: {self.text[:40]}"


class Viewer(models.Model):
    """Someone with a job's page open: one row per open socket, touched while it stays open, so every web
    process (and the batch grid) sees who is on a job. A row not touched for a minute is a socket that died
    with its process."""
    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="viewers")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    channel_name = models.CharField(max_length=200, unique=True)
    seen_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["job", "seen_at"], name="viewer_job_seen")]

    def __str__(self) -> str:
        return f"{self.user_id} on {self.job_id}"


class Engagement(models.Model):
    """What a delivered post earned on one platform, as last reported (figures are totals to date, so a newer
    report replaces an older one)."""
    render = models.ForeignKey(Render, on_delete=models.CASCADE, related_name="engagements")
    platform = models.CharField(max_length=30)
    views = models.PositiveBigIntegerField(default=0)
    likes = models.PositiveBigIntegerField(default=0)
    shares = models.PositiveBigIntegerField(default=0)
    watch_time_s = models.FloatField(default=0, help_text="Seconds watched in all, over every view.")
    comments = models.PositiveBigIntegerField(default=0)
    saves = models.PositiveBigIntegerField(default=0)
    reach = models.PositiveBigIntegerField(default=0, help_text="Accounts reached (Instagram).")
    reported_at = models.DateTimeField()
    received_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["render", "platform"]
        constraints = [models.UniqueConstraint(fields=["render", "platform"], name="one_engagement_per_platform")]

    def __str__(self) -> str:
        return f"{self.render.analytics_id} on {self.platform}: {self.views} views"


class Publication(models.Model):
    """One rendered version of a job posted to one platform account: the ledger that makes the post happen
    exactly once (pipeline/publish/__init__.py). It is written before the call that makes the post public
    (`publishing`) and again with the platform's post id (`published`); a repeated delivery reads it first.
    `log` keeps each step and the platform's answer, for the job's delivery log."""

    class State(models.TextChoices):
        NEW = "", "Not started"
        PREPARING = "preparing", "Uploading"
        PUBLISHING = "publishing", "Being published"
        PUBLISHED = "published", "Published"

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="publications")
    plan_version = models.PositiveIntegerField()
    destination = models.CharField(max_length=50, help_text="The destination's name when it was published.")
    platform = models.CharField(max_length=16)
    account = models.ForeignKey("presets.Account", null=True, on_delete=models.SET_NULL, related_name="publications")
    state = models.CharField(max_length=16, choices=State.choices, default=State.NEW, blank=True)
    steps = models.JSONField(default=dict, blank=True, help_text="The platform's ids met on the way.")
    post_id = models.CharField(max_length=100, blank=True)
    url = models.URLField(max_length=500, blank=True)
    log = models.JSONField(default=list, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    # The figures are read back hourly the first day, then daily for a month (jobs/services/insights.py).
    insights_due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    insights_pulled_at = models.DateTimeField(null=True, blank=True)
    insights_problem = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["job", "plan_version", "destination"]
        constraints = [models.UniqueConstraint(fields=["job", "plan_version", "destination"],
                                               name="one_publication_per_version_and_destination")]

    def __str__(self) -> str:
        return f"{self.job_id} v{self.plan_version} on {self.destination}: {self.state or 'not started'}"


class WorkerBeat(models.Model):
    """A worker process's heartbeat (jobs/beat.py): refreshed every few seconds while the process lives."""
    name = models.CharField(max_length=120, unique=True, help_text="host:pid")
    beat_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.beat_at:%H:%M:%S}"
