from django.contrib import admin, messages
from django.utils.html import format_html, format_html_join

from jobs import services
from jobs.models import Asset, Job, JobEvent, LayerRun, PlanVersion, Render


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class LayerRunInline(ReadOnlyInline):
    model = LayerRun
    fields = ["layer", "attempt", "status", "duration_s", "progress", "reused_from", "error_type", "error_message"]
    readonly_fields = fields


class AssetInline(ReadOnlyInline):
    model = Asset
    fields = ["layer", "kind", "link", "width", "height", "duration", "bytes"]
    readonly_fields = fields

    @admin.display(description="file")
    def link(self, obj: Asset):
        return format_html('<a href="{}">{}</a>', obj.get_absolute_url(), obj.path)


class PlanVersionInline(ReadOnlyInline):
    model = PlanVersion
    fields = ["number", "note", "adjustments", "created_by", "approved_by", "approved_at"]
    readonly_fields = fields


class RenderInline(ReadOnlyInline):
    model = Render
    fields = ["plan_version", "status", "outputs", "timings", "parity", "error_message", "finished_at"]
    readonly_fields = fields

    @admin.display(description="files")
    def outputs(self, obj: Render):
        return format_html_join(", ", '<a href="/studio/jobs/{}/files/{}">{}</a>',
                                ((obj.job_id, f["file"], f["file"]) for f in obj.files))


class JobEventInline(ReadOnlyInline):
    model = JobEvent
    fields = ["seq", "type", "payload", "created_at"]
    readonly_fields = fields
    ordering = ["-seq"]


class PresetFilter(admin.RelatedFieldListFilter):
    """Presets by name: the preset admin's own ordering ranks by an annotation only its list has."""

    def field_admin_ordering(self, field, request, model_admin):
        return ["name"]


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ["short_id", "preset", "status", "current_layer", "failed_layer", "created_by", "created_at"]
    list_filter = ["status", ("preset", PresetFilter), "failed_layer"]
    search_fields = ["id", "error_message"]
    readonly_fields = ["id", "preset", "inputs", "status", "current_layer", "failed_layer", "error_type",
                       "error_message", "retryable", "reject_reason", "created_by", "created_at", "started_at",
                       "review_ready_at", "finished_at", "studio_link"]
    fields = readonly_fields
    inlines = [LayerRunInline, PlanVersionInline, RenderInline, AssetInline, JobEventInline]
    actions = ["retry", "cancel"]

    def has_add_permission(self, request) -> bool:
        # Jobs are created from the studio or `manage.py create_job`, which validate their inputs.
        return False

    @admin.display(description="job")
    def short_id(self, obj: Job) -> str:
        return str(obj.id)[:8]

    @admin.display(description="review page")
    def studio_link(self, obj: Job):
        return format_html('<a href="{}">open in the studio</a>', obj.get_absolute_url())

    # The studio's rules, not the admin's model permissions: retrying needs rerun_job, cancelling change_job.
    def has_rerun_permission(self, request) -> bool:
        return request.user.has_perm("jobs.rerun_job")

    @admin.action(description="Retry the failed layer", permissions=["rerun"])
    def retry(self, request, queryset):
        self._each(request, queryset, services.job_retry, "queued again")

    @admin.action(description="Cancel", permissions=["change"])
    def cancel(self, request, queryset):
        self._each(request, queryset, services.job_cancel, "cancelled")

    def _each(self, request, queryset, action, done: str) -> None:
        for job in queryset:
            try:
                action(job_id=job.pk, user=request.user)
            except (services.IllegalTransition, services.InvalidInput) as exc:
                self.message_user(request, f"{str(job.pk)[:8]}: {exc}", messages.ERROR)
            else:
                self.message_user(request, f"{str(job.pk)[:8]}: {done}", messages.SUCCESS)
