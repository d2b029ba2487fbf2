from django import forms

from pipeline.contracts import Sport
from presets.models import Preset


class StartJobForm(forms.Form):
    preset = forms.ModelChoiceField(queryset=Preset.objects.filter(active=True), to_field_name="slug")
    sport = forms.ChoiceField(choices=[(s.value, s.value.upper()) for s in Sport])
    date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    matchup_id = forms.CharField(required=False, max_length=100, label="Matchup")
    variants = forms.TypedChoiceField(choices=[(1, "1"), (2, "2"), (3, "3")], coerce=int, initial=1,
                                      help_text="Other copy and art from the same data, to choose from.")
    batch = forms.BooleanField(required=False, help_text="Review it in the batch grid with the other batch jobs.")
    auto_approve = forms.BooleanField(required=False, label="Render without review",
                                      help_text="Approve the plan as built and render straight away.")

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        # Only someone who may publish without review is offered it (the service refuses it for anyone else).
        if user is None or not user.has_perm("jobs.publish_unreviewed"):
            del self.fields["auto_approve"]

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("date") and not cleaned.get("matchup_id"):
            raise forms.ValidationError("Pick a date or a matchup.")
        return cleaned

    def job_inputs(self) -> dict:
        data = self.cleaned_data
        return {"sport": data["sport"], "date": data["date"].isoformat() if data.get("date") else None,
                "matchup_id": data.get("matchup_id") or None, "batch": data.get("batch", False),
                "auto_approve": data.get("auto_approve", False)}


class RejectForm(forms.Form):
    reason = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
