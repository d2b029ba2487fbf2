import datetime as dt

from django import forms
from django.utils import timezone

from jobs.services.calendar import matchup_to_start
from pipeline.contracts import Sport
from pipeline.errors import PipelineError
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
    after_kickoff = forms.BooleanField(required=False, label="Start it although the game has kicked off",
                                       help_text="A pregame post for a game under way: only when you mean it.")

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        # Only someone who may publish without review is offered it (the service refuses it for anyone else).
        if user is None or not user.has_perm("jobs.publish_unreviewed"):
            del self.fields["auto_approve"]

    def clean(self):
        """Refuse, in words, a job that is sure to fail or to say the wrong thing: a day with no games in the
        preset's data source, or a game that has already kicked off (unless the desk means it)."""
        cleaned = super().clean()
        preset, sport = cleaned.get("preset"), cleaned.get("sport")
        if not cleaned.get("date") and not cleaned.get("matchup_id"):
            cleaned["date"] = timezone.localdate()  # what the matchup picker lists with no date: today's
        if preset is None or sport is None or self.errors:
            return cleaned
        try:
            matchup = matchup_to_start(preset=preset, sport=sport, date=cleaned.get("date"),
                                       matchup_id=cleaned.get("matchup_id") or "")
        except PipelineError as exc:
            if not exc.retryable:  # an outage is L1's to retry; a wrong id or a bad answer is the form's
                self.add_error("matchup_id", exc.describe())
            return cleaned
        if matchup is None:
            self.add_error("date", f"{sport.upper()}: no games on {cleaned['date']:%-d %B %Y} in this preset's "
                                   "data source. Pick another date or sport.")
        elif matchup.game_time <= dt.datetime.now(dt.UTC) and not cleaned.get("after_kickoff"):
            self.add_error("after_kickoff", f"{matchup.away.full_name} @ {matchup.home.full_name} kicked off at "
                                            f"{matchup.game_time:%H:%M UTC on %-d %B}: its post would go out after "
                                            "the start. Pick another game, or tick this box to make it anyway.")
        return cleaned

    def job_inputs(self) -> dict:
        data = self.cleaned_data
        return {"sport": data["sport"], "date": data["date"].isoformat() if data.get("date") else None,
                "matchup_id": data.get("matchup_id") or None, "batch": data.get("batch", False),
                "auto_approve": data.get("auto_approve", False)}


class RejectForm(forms.Form):
    reason = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class FindJobsForm(forms.Form):
    """The studio list's search and filters (a GET form: the address says what is shown)."""
    q = forms.CharField(label="Search", required=False, max_length=100,
                        widget=forms.TextInput(attrs={"placeholder": "team, player or game", "type": "search"}))
    preset = forms.ModelChoiceField(queryset=Preset.objects.order_by("name"), required=False, to_field_name="slug",
                                    empty_label="Any preset")
    status = forms.ChoiceField(required=False)
    day = forms.DateField(label="Game day", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    archived = forms.BooleanField(label="Show archived", required=False)

    def __init__(self, *args, **kwargs) -> None:
        from jobs.models import Job

        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", "Any status"), *Job.Status.choices]

    def filters(self) -> dict:
        """The filters to apply: none of a field that was not valid (its error shows beside it)."""
        self.is_valid()  # the valid fields' values are in cleaned_data either way
        data = self.cleaned_data
        return {"q": (data.get("q") or "").strip(), "preset": data.get("preset"), "status": data.get("status") or "",
                "day": data.get("day"), "archived": bool(data.get("archived"))}

    @property
    def active(self) -> bool:
        return any(self.filters().values())
