"""Suggestions at review for a real job: the offline checks, a vision model's critique in its documented shape
(cached per plan), one-click fixes through the shared draft, and another image for a scene."""
import json

import pytest
from django.core.cache import cache

from jobs.models import Asset, Job
from tests.fakes import upstream as fake
from tests.jobs.test_pipeline_e2e import create, shipped, small_reel  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db(transaction=True)
CRITIQUE = [{"scene": "matchup", "layer": None, "problem": "The versus art crowds the spread line."}]


@pytest.fixture
def reel(shipped):  # noqa: F811
    cache.clear()
    job = create(small_reel(shipped))
    job.refresh_from_db()
    assert job.status == Job.Status.AWAITING_REVIEW, job.error_message
    return job


def post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def suggest(client, job, adjustments=None):
    answer = post(client, f"/studio/jobs/{job.pk}/suggestions", {"adjustments": adjustments or {}})
    assert answer.status_code == 200, answer.content
    return answer.json()


def test_offline_the_deterministic_checks_run_and_say_so(reel, staff_client, settings):
    settings.PROVIDER_SECRETS = {**settings.PROVIDER_SECRETS, **{api: {"api_key": "", "base_url": ""} for api in (
        "openai", "anthropic", "gemini")}}
    data = suggest(staff_client, reel)
    assert data["critique"] == {"api": None, "note": "no vision model key is set: the checks above ran offline"}
    assert not [s for s in data["suggestions"] if s["check"] in ("sharpness", "exposure")]  # the shipped art is fine


def test_a_long_wording_gets_a_shorter_one_that_applies(reel, staff_client):
    """given a reviewer's wording the guard must shrink, the fit suggestion's fix, saved into the draft, is
    accepted by the design guard."""
    plan = reel.plan_versions.get(number=1).plan
    layer = next(layer for scene in plan["scenes"] for layer in scene["layers"]
                 if layer["type"] == "text" and layer.get("editable", True) and layer["role"] == "headline")
    wording = "THE BILLS ARE REALLY GOING TO WIN THIS ONE FOR SURE TONIGHT AT HOME"
    edits = {"text_edits": {layer["id"]: wording}}
    fit = [s for s in suggest(staff_client, reel, edits)["suggestions"] if s["check"] == "fit"]
    assert fit and fit[0]["layer"] == layer["id"]
    changes = fit[0]["fix"]["changes"]
    assert len(changes[f"text_edits.{layer['id']}"]) < len(wording)
    assert post(staff_client, f"/studio/jobs/{reel.pk}/draft", {"changes": {f"text_edits.{layer['id']}": wording},
                                                                "seen": 0}).status_code == 200
    saved = post(staff_client, f"/studio/jobs/{reel.pk}/draft", {"changes": changes, "seen": 1})
    assert saved.status_code == 200, saved.content


@pytest.mark.parametrize("api, serve", [("openai", fake.serve_openai_vision),
                                        ("anthropic", fake.serve_anthropic_vision),
                                        ("gemini", fake.serve_gemini_vision)])
def test_with_a_key_the_vision_model_critiques_the_frames_once_per_plan(reel, staff_client, settings, upstream,
                                                                       api, serve):
    serve(upstream, CRITIQUE)
    settings.PROVIDER_SECRETS = {**settings.PROVIDER_SECRETS, api: {"api_key": "key", "base_url": upstream.url}}
    preset = reel.preset
    preset.config = {**preset.config, "preview": {**preset.config.get("preview", {}), "critique": api}}
    preset.save()
    data = suggest(staff_client, reel)
    critiques = [s for s in data["suggestions"] if s["check"] == "critique"]
    assert data["critique"] == {"api": api, "note": ""}
    assert critiques == [{"id": "critique:0", "check": "critique", "scene": "matchup", "layer": None,
                          "message": CRITIQUE[0]["problem"], "fix": None}]
    path = {"openai": "/v1/chat/completions", "anthropic": "/v1/messages", "gemini": "/v1beta/models/"}[api]
    sent = json.loads(upstream.requests_to(path)[0].body)
    content = sent["contents"][-1]["parts"] if api == "gemini" else sent["messages"][-1]["content"]
    pictures = [p for p in content if p.get("type") in ("image_url", "image") or "inline_data" in p]
    assert len(pictures) == len(reel.plan_versions.get(number=1).plan["scenes"])
    suggest(staff_client, reel)
    assert len(upstream.requests_to(path)) == 1  # the same plan is not sent twice


def test_a_vision_model_that_fails_leaves_the_other_suggestions_and_says_why(reel, staff_client, settings,
                                                                             upstream):
    upstream.route("POST", "/v1/chat/completions", lambda seen: fake._openai_error("Invalid API key", "auth"))
    settings.PROVIDER_SECRETS = {**settings.PROVIDER_SECRETS, "openai": {"api_key": "bad", "base_url": upstream.url}}
    data = suggest(staff_client, reel)
    assert data["critique"]["api"] == "openai" and "unavailable" in data["critique"]["note"]
    assert "400" in data["critique"]["note"]


def test_another_image_for_a_scene_is_kept_and_used_by_the_draft(reel, staff_client):
    """when the reviewer asks for another image of the hook, a new picture is made and kept with the job's
    files, and the draft that uses it puts it in the plan (and an approval renders that plan)."""
    first_scene = reel.plan_versions.get(number=1).plan["scenes"][0]
    made = post(staff_client, f"/studio/jobs/{reel.pk}/picture", {"scene": first_scene["id"]})
    assert made.status_code == 200, made.content
    file = made.json()["file"]
    assert file == f"L5/alt/{first_scene['id']}-1.jpg" and (reel.work_dir / file).is_file()
    assert Asset.objects.filter(job=reel, path=file, kind="background").exists()
    assert (reel.work_dir / file).read_bytes() != (reel.work_dir / first_scene["background"]["asset"]).read_bytes()
    saved = post(staff_client, f"/studio/jobs/{reel.pk}/draft", {"changes": made.json()["changes"], "seen": 0})
    assert saved.status_code == 200, saved.content
    assert saved.json()["plan"]["scenes"][0]["background"]["asset"] == file
    again = post(staff_client, f"/studio/jobs/{reel.pk}/picture", {"scene": first_scene["id"]})
    assert again.json()["file"].endswith("-2.jpg")


@pytest.mark.parametrize("body", [{}, {"scene": ""}, {"scene": 3}, {"scene": "nowhere"}])
def test_another_image_of_no_scene_is_refused_in_words(reel, staff_client, body):
    answer = post(staff_client, f"/studio/jobs/{reel.pk}/picture", body)
    assert answer.status_code == 400 and answer.json()["errors"]["scene"]


@pytest.mark.parametrize("which", ["missing", "the narration"])
def test_a_background_that_is_not_a_picture_of_the_job_is_refused(reel, staff_client, which):
    """A scene's background can only become a picture in the job's files: a missing file, or one of its other
    files (the narration, which L6 could not draw), is refused naming the field."""
    scene = reel.plan_versions.get(number=1).plan["scenes"][0]["id"]
    path = "L5/alt/elsewhere.jpg" if which == "missing" else reel.assets.filter(kind="narration").first().path
    answer = post(staff_client, f"/studio/jobs/{reel.pk}/draft", {"changes": {f"backgrounds.{scene}": path}, "seen": 0})
    assert answer.status_code == 400 and f"backgrounds.{scene}" in answer.json()["errors"]
