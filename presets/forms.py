import json

from django import forms
from django.forms.fields import InvalidJSONInput

from presets.models import Preset, config_errors


class ReadableJSONField(forms.JSONField):
    """JSON shown indented, so a person can edit a preset's config."""

    def prepare_value(self, value):
        if isinstance(value, InvalidJSONInput):
            return value
        return json.dumps(value, indent=2, ensure_ascii=False)


class PresetForm(forms.ModelForm):
    """Shows each config problem as its own sentence, naming the field inside the config."""

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
        return cleaned
