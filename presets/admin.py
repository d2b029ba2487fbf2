from django.contrib import admin

from presets.forms import PresetForm
from presets.models import Preset


@admin.register(Preset)
class PresetAdmin(admin.ModelAdmin):
    form = PresetForm
    list_display = ["name", "slug", "kind", "active", "updated_at"]
    list_filter = ["kind", "active"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
