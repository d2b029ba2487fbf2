from django.contrib import admin
from django.db.models import Count, F, FloatField, Sum
from django.db.models.functions import Cast, NullIf
from django.urls import reverse
from django.utils.html import format_html

from presets.forms import PresetForm
from presets.models import Account, Destination, Preset


@admin.register(Preset)
class PresetAdmin(admin.ModelAdmin):
    form = PresetForm
    list_display = ["name", "slug", "kind", "active", "views_per_post", "updated_at"]
    list_filter = ["kind", "active"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["builder"]

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        return type(form.__name__, (form,), {"user": request.user})

    def get_queryset(self, request):
        # The list ranks presets by what their delivered posts earned (jobs.Engagement), unranked ones last.
        views = Sum("jobs__renders__engagements__views")
        posts = Count("jobs__renders__engagements__render", distinct=True)
        return super().get_queryset(request).annotate(ranked_views=Cast(views, FloatField()) / NullIf(posts, 0))

    def get_ordering(self, request):
        return [F("ranked_views").desc(nulls_last=True), "name"]

    @admin.display(description="views per post", ordering="ranked_views")
    def views_per_post(self, obj: Preset):
        return "–" if obj.ranked_views is None else f"{obj.ranked_views:,.0f}"

    @admin.display(description="preset builder")
    def builder(self, obj: Preset):
        if obj.pk is None:
            return "Save the preset first."
        return format_html('<a href="{}">Open the builder: thumbnails, uploads, duplicate</a>',
                           reverse("previews:preset", kwargs={"slug": obj.slug}))


@admin.register(Destination)
class DestinationAdmin(admin.ModelAdmin):
    """Where L7 delivers: set up here by a desk admin, picked by name in a preset (never typed into one)."""

    list_display = ["name", "kind", "where", "updated_at"]
    list_filter = ["kind"]
    search_fields = ["name", "url", "folder"]

    @admin.display(description="where")
    def where(self, obj: Destination) -> str:
        if obj.account_id:
            return str(obj.account)
        return obj.url if obj.kind == Destination.Kind.WEBHOOK else f"EXPORT_DIR/{obj.folder}".rstrip("/")


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    """Connected on the studio's Accounts page (the platform's OAuth flow); shown here, never typed in."""

    list_display = ["platform", "handle", "status", "expires_at", "connected_at"]
    list_filter = ["platform", "status"]
    readonly_fields = ["platform", "external_id", "handle", "expires_at", "scope", "status", "problem",
                       "connected_by", "connected_at", "refreshed_at"]

    def has_add_permission(self, request) -> bool:
        return False
