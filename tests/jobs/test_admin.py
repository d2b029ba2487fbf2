"""The admin: presets refuse bad config with field errors in words; jobs show their runs and files."""
import json

import pytest

from jobs import services
from pipeline.contracts import PresetConfig
from presets.models import Preset

pytestmark = pytest.mark.django_db


def post_preset(client, config, kind="reel"):
    return client.post("/admin/presets/preset/add/", {
        "slug": "new-reel", "name": "New reel", "kind": kind, "active": "on", "config": json.dumps(config)})


def test_bad_config_is_refused_with_field_errors(client, admin_user):
    client.force_login(admin_user)
    # when
    response = post_preset(client, {"format": {"kind": "reel", "width": 12, "height": 1920},
                                    "brand": {"palette": ["#FFFFFF", "not-a-colour"]}})
    # then
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["config"]
    assert any(e.startswith("format.width:") and "greater than or equal to 320" in e for e in errors)
    assert any(e.startswith("brand.palette.1:") and "not a colour" in e for e in errors)
    assert not Preset.objects.filter(slug="new-reel").exists()


def test_config_kind_must_match(client, admin_user):
    client.force_login(admin_user)
    response = post_preset(client, {"format": {"kind": "still", "width": 1080, "height": 1080}}, kind="reel")
    assert "must match the kind" in str(response.context["adminform"].form.errors["kind"])


def test_non_object_config_is_refused(client, admin_user):
    client.force_login(admin_user)
    response = post_preset(client, [1, 2, 3])
    assert "JSON object" in str(response.context["adminform"].form.errors["config"])


def test_good_config_is_saved(client, admin_user):
    client.force_login(admin_user)
    response = post_preset(client, {"format": {"kind": "reel", "width": 1080, "height": 1920}})
    assert response.status_code == 302
    assert PresetConfig.model_validate(Preset.objects.get(slug="new-reel").config).format.height == 1920


@pytest.mark.django_db(transaction=True)
def test_job_admin_shows_layer_runs_and_file_links(client, admin_user, tiny_pipeline, preset):
    job = services.job_create(preset=preset, inputs={"sport": "nfl", "matchup_id": "g"})
    client.force_login(admin_user)
    response = client.get(f"/admin/jobs/job/{job.pk}/change/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "L3/note.txt" in body and f"/studio/jobs/{job.pk}/files/L3/note.txt" in body
    assert "Awaiting review" in body
    file_response = client.get(f"/studio/jobs/{job.pk}/files/L3/note.txt")
    assert file_response.status_code == 200
    assert b"".join(file_response.streaming_content) == b"L3(L2(L1(nfl)))"


def test_load_presets_ships_three_valid_presets(db):
    from django.core.management import call_command

    call_command("load_presets")
    slugs = set(Preset.objects.values_list("slug", flat=True))
    assert slugs == {"reel_hype", "carousel_illustrated", "single_image_stat"}
    for preset in Preset.objects.all():
        preset.full_clean()
        assert PresetConfig.model_validate(preset.config).preview.enabled
