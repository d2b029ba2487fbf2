"""6. Bad input everywhere gets field errors, never a 500, and loses nothing."""
import json

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jobs import services
from jobs.models import Job
from presets.models import Preset

pytestmark = pytest.mark.django_db(transaction=True)
QUICK = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                          HealthCheck.too_slow])

# NaN and infinity included: Python's json module reads them, so a form or a request body can carry them.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12)
config_like = st.fixed_dictionaries({}, optional={
    "format": st.dictionaries(st.sampled_from(["kind", "width", "height", "fps"]), json_values, max_size=4),
    "brand": st.dictionaries(st.sampled_from(["palette", "text_color", "headline_size", "logo"]), json_values),
    "segments": st.dictionaries(st.sampled_from(["props", "hook", "max_total_s"]), json_values),
    "compliance": st.dictionaries(st.sampled_from(["text", "size"]), json_values),
    "providers": json_values, "voice": json_values})


@pytest.fixture
def admin_client(admin_user):
    client = Client()
    client.force_login(admin_user)
    return client


@QUICK
@given(config=st.one_of(config_like, json_values))
def test_preset_admin_never_500s(admin_client, config):
    """given: any JSON as a preset's config, in the admin's add form
    when: it is saved
    then: the preset is created, or the form comes back with field errors; never a 500"""
    response = admin_client.post("/admin/presets/preset/add/", {
        "slug": "fuzzed", "name": "Fuzzed", "kind": "reel", "active": "on", "config": json.dumps(config)})
    assert response.status_code in (200, 302)
    if response.status_code == 200:
        assert response.context["adminform"].form.errors
    Preset.objects.filter(slug="fuzzed").delete()


@QUICK
@given(data=st.dictionaries(st.sampled_from(["preset", "sport", "date", "matchup_id", "batch", "junk"]),
                            st.text(max_size=30), max_size=6))
def test_start_form_never_500s(staff_client, preset, data):
    """given: any text in any of the start form's fields
    when: the form is posted
    then: a job starts (302), or the form comes back (400) with no job made"""
    count = Job.objects.count()
    response = staff_client.post("/studio/", data)
    assert response.status_code in (302, 400)
    if response.status_code == 400:
        assert Job.objects.count() == count


@QUICK
@given(inputs=json_values)
def test_job_inputs_are_refused_with_field_errors(preset, inputs):
    """given: any JSON as a job's inputs
    when: a job is created from them
    then: it is made, or refused with errors naming the fields"""
    try:
        services.job_create(preset=preset, inputs=inputs if isinstance(inputs, dict) else {"value": inputs},
                            start=False)
    except services.InvalidInput as exc:
        assert exc.errors


@pytest.fixture
def job(tiny_pipeline, preset):
    return services.job_create(preset=preset, inputs={"sport": "nfl", "matchup_id": "g"})


@QUICK
@given(adjustments=st.one_of(json_values, st.fixed_dictionaries({}, optional={
    "text_scale": json_values, "timing_offset": json_values, "text_edits": json_values, "colors": json_values,
    "layer_scale": json_values})))
def test_adjustments_never_500(staff_client, job, adjustments):
    """given: a job in review and any JSON as adjustments
    when: they are posted to the plan endpoint
    then: the adjusted plan comes back, or field errors (400); never a 500"""
    response = staff_client.post(f"/studio/jobs/{job.pk}/plan", json.dumps({"adjustments": adjustments}),
                                 content_type="application/json")
    assert response.status_code in (200, 400), response.content
    if response.status_code == 400:
        assert response.json()["errors"]


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'{"adjustments": "big"}', b"\xff\xfe", b'{"reason": 5}',
                                  b'{"snapshots": "x"}', b'{"snapshots": {"1.0": 5}}'])
@pytest.mark.parametrize("action", ["plan", "approve", "reject", "skip-preview"])
def test_malformed_posts_are_answered_in_words(staff_client, job, action, body):
    """given: a job in review
    when: a body that is not JSON, or JSON of the wrong shape, is posted to one of its actions
    then: the answer is field errors, an error in words, or the action's result; never a 500"""
    response = staff_client.post(f"/studio/jobs/{job.pk}/{action}", body, content_type="application/json")
    assert response.status_code in (200, 400, 409)
    assert response.status_code != 500
    data = response.json()
    assert data.get("errors") or data.get("error") or data.get("status") or data.get("plan")
