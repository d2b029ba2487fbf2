import json

from django import forms
from django.forms.fields import InvalidJSONInput

from presets.models import Destination, Preset, config_errors


class ReadableJSONField(forms.JSONField):
    """JSON shown indented, so a person can edit a preset's config."""

    def prepare_value(self, value):
        if isinstance(value, InvalidJSONInput):
            return value
        return json.dumps(value, indent=2, ensure_ascii=False)


class PresetForm(forms.ModelForm):
    """Shows each config problem as its own sentence, naming the field inside the config.

    `user` (set by the view or the admin) is who saves: turning review off (preview.enabled false) needs the
    permission to publish without review, and the preset then records who did, for every approval it makes."""

    user = None

    config = ReadableJSONField(widget=forms.Textarea(attrs={"rows": 28, "class": "code", "spellcheck": "false"}))

    class Meta:
        model = Preset
        fields = ["slug", "name", "kind", "active", "config"]

    def clean(self):
        cleaned = super().clean()
        config = cleaned.get("config")
        if config is None:
            return cleaned
        if not isinstance(config, dict):
            self.add_error("config", "The config must be a JSON object, like {\"format\": {...}}.")
            return cleaned
        errors = config_errors(config)
        for field, messages in errors.items():
            for message in messages:
                self.add_error("config", f"{field}: {message}")
        if not errors and cleaned.get("kind") and config["format"]["kind"] != cleaned["kind"]:
            self.add_error("kind", f"The config's format.kind is {config['format']['kind']!r}; "
                                   f"it must match the kind chosen here.")
        if not errors:
            self._check_destination(config)
            self._check_review_switch(config)
        return cleaned

    def _check_destination(self, config: dict) -> None:
        choice = (config.get("providers") or {}).get("distribution") or {}
        named = [("providers.distribution.name", choice.get("name"))] + [
            (f"providers.distribution.also.{i}", also) for i, also in enumerate(choice.get("also") or [])]
        for where, name in named:
            if isinstance(name, str) and name and not Destination.objects.filter(name=name).exists():
                known = ", ".join(Destination.objects.values_list("name", flat=True)) or "none yet"
                self.add_error("config", f"{where}: no destination is called {name!r} (set up: {known}); a desk "
                                         "admin adds destinations under Destinations in the admin, or connects an "
                                         "account on the Accounts page")

    def _check_review_switch(self, config: dict) -> None:
        review_on = (config.get("preview") or {}).get("enabled", True)
        if review_on:
            self.instance.preview_off_by = None
            return
        was_off = self.instance.pk is not None and not ((Preset.objects.filter(pk=self.instance.pk)
                                                         .values_list("config", flat=True).first() or {})
                                                        .get("preview") or {}).get("enabled", True)
        if was_off and self.instance.preview_off_by_id is not None:
            return  # already off, allowed by someone who may: editing other fields keeps it so
        if self.user is None or not self.user.has_perm("jobs.publish_unreviewed"):
            self.add_error("config", "preview.enabled: turning review off publishes every job of this preset "
                                     "without anyone looking; only a desk admin may (permission to publish "
                                     "without review)")
            return
        self.instance.preview_off_by = self.user
