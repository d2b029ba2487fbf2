"""Destinations become a desk admin's rows; presets name one. Provider options lose base_url (the operator's,
in the environment).

A preset's old `providers.distribution` ({"name": "folder", "options": {"path": ...}} or {"name": "webhook",
"options": {"url": ...}}) becomes a Destination, and the preset names it. A folder outside EXPORT_DIR cannot be
kept (L7 no longer writes there): it becomes EXPORT_DIR itself. A webhook keeps its address; it is checked on
every delivery, so one the rules now refuse fails its delivery in words until a desk admin fixes it.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from pathlib import Path  # noqa: E402


def _folder_under_export(path: str) -> str:
    if not path:
        return ""
    root = Path(settings.PIPELINE["EXPORT_DIR"]).resolve()
    target = Path(path).resolve()
    return target.relative_to(root).as_posix() if root in target.parents else ""


def destinations_from_presets(apps, schema_editor):
    Preset = apps.get_model("presets", "Preset")
    Destination = apps.get_model("presets", "Destination")
    for preset in Preset.objects.order_by("pk"):
        config = preset.config if isinstance(preset.config, dict) else {}
        providers = config.get("providers") or {}
        changed = False
        for layer in ("data", "ideas", "audio", "media"):
            options = (providers.get(layer) or {}).get("options")
            if isinstance(options, dict) and "base_url" in options:
                options.pop("base_url")
                changed = True
        old = providers.get("distribution")
        if isinstance(old, dict) and old.get("name") in ("folder", "webhook"):
            options = old.get("options") or {}
            if old["name"] == "folder":
                folder = _folder_under_export(str(options.get("path") or ""))
                wanted = {"kind": "folder", "folder": folder, "url": ""}
            else:
                wanted = {"kind": "webhook", "folder": "", "url": str(options.get("url") or "")[:500]}
            found = Destination.objects.filter(**wanted).order_by("pk").first()
            if found is None:
                base, n = old["name"], 1
                name = base
                while Destination.objects.filter(name=name).exists():
                    n += 1
                    name = f"{base}-{n}"
                found = Destination.objects.create(name=name, **wanted)
            providers["distribution"] = {"name": found.name}
            changed = True
        if changed:
            preset.config = config
            preset.save(update_fields=["config"])


class Migration(migrations.Migration):

    dependencies = [
        ('presets', '0002_desk_permissions'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='Destination',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.SlugField(help_text="What presets call it (providers.distribution.name), like 'desk-folder'.", unique=True)),
                ('kind', models.CharField(choices=[('folder', 'Folder under the export folder'), ('webhook', 'Webhook (POST with signed file links)')], max_length=16)),
                ('folder', models.CharField(blank=True, help_text='Folder: a folder inside EXPORT_DIR (blank: EXPORT_DIR itself).', max_length=200)),
                ('url', models.URLField(blank=True, help_text="Webhook: the receiver's https address.", max_length=500)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
            ],
            options={
                'ordering': ['name'],
            },
        ),
        migrations.AddField(
            model_name='preset',
            name='preview_off_by',
            field=models.ForeignKey(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.RunPython(destinations_from_presets, migrations.RunPython.noop),
    ]
