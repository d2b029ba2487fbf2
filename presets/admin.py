from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from presets.forms import PresetForm
from presets.models import Preset


@admin.register(Preset)
class PresetAdmin(admin.ModelAdmin):
    form = PresetForm
    list_display = ["name", "slug", "kind", "active", "updated_at"]
    list_filter = ["kind", "active"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["builder"]

    @admin.display(description="preset builder")
    def builder(self, obj: Preset):
        if obj.pk is None:
            return "Save the preset first."
        return format_html('<a href="{}">Open the builder: thumbnails, uploads, duplicate</a>',
                           reverse("previews:preset", kwargs={"slug": obj.slug}))
