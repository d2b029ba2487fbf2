"""Reference images on a preset: uploaded with the logo's checks, served to the builder, read by L5 (which re-runs
when they change), and refused in words when a named file is not there."""
import io

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from pipeline.contracts import PresetConfig
from pipeline.errors import ConfigurationError
from tests.conftest import desk_member
from tests.pipeline.test_layers import run_through_l5, shipped


def jpeg(colour=(200, 40, 160), size=(300, 200)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "JPEG")
    return buffer.getvalue()


@pytest.fixture
def designer(db):
    client = Client()
    client.force_login(desk_member("dee", "designer"))
    return client


def upload(client, data: bytes, name="look.jpg"):
    return client.post("/studio/presets/test-reel/upload/reference", {"file": SimpleUploadedFile(name, data)},
                       follow=True)


def test_a_reference_image_is_checked_kept_served_and_removed(preset, designer):
    page = upload(designer, jpeg()).content.decode()
    preset.refresh_from_db()
    [name] = preset.config["brand"]["references"]
    assert name.startswith("test-reel-ref-") and name.endswith(".jpg") and "saved as" in page
    served = designer.get(f"/studio/presets/test-reel/references/{name}")
    assert served.status_code == 200 and Image.open(io.BytesIO(b"".join(served.streaming_content))).size == (300, 200)
    assert designer.get("/studio/presets/test-reel/references/other.jpg").status_code == 404
    designer.post(f"/studio/presets/test-reel/references/{name}/remove")
    preset.refresh_from_db()
    assert preset.config["brand"]["references"] == []
    assert designer.get(f"/studio/presets/test-reel/references/{name}").status_code == 404


@pytest.mark.parametrize("data, says", [(b"<html><script>x</script></html>" + jpeg(), "HTML or script"),
                                        (b"GIF89a not really", "not an image"), (b"", "empty")])
def test_a_bad_reference_is_refused_with_the_logo_checks(preset, designer, data, says):
    page = upload(designer, data).content.decode()
    assert "was refused" in page and says in page
    preset.refresh_from_db()
    assert preset.config.get("brand", {}).get("references", []) == []


def test_a_fifth_reference_is_refused(preset, designer):
    for shade in range(4):
        upload(designer, jpeg((40 * shade, 80, 120)))
    page = upload(designer, jpeg((250, 250, 0))).content.decode()
    assert "4 reference images already" in page
    preset.refresh_from_db()
    assert len(preset.config["brand"]["references"]) == 4


def with_references(*names) -> PresetConfig:
    config = shipped("reel_hype").model_dump(mode="json")
    config["brand"]["references"] = list(names)
    return PresetConfig.model_validate(config)


def test_l5_re_runs_when_the_references_change():
    from pipeline.contracts import JobInputs
    from pipeline.layers import default_pipeline
    from pipeline.registry import LayerInput, input_hash

    spec = next(layer for layer in default_pipeline().layers if layer.name == "L5")
    job = JobInputs.model_validate({"sport": "nfl", "date": "2026-11-22"})
    assert input_hash(spec, LayerInput(job=job, preset=shipped("reel_hype"), upstream={})) != input_hash(
        spec, LayerInput(job=job, preset=with_references("a-ref-0123456789ab.jpg"), upstream={}))


def test_the_offline_art_of_a_preset_with_references_takes_their_look(tmp_path):
    """given the same job with and without a magenta reference (in the brand folder, here the layer's folder),
    the art with it is pinker."""
    styled_dir = tmp_path / "styled"
    styled_dir.mkdir()
    Image.new("RGB", (200, 200), (240, 20, 200)).save(styled_dir / "pink.jpg")
    plain = run_through_l5(tmp_path / "plain")[1]["L5"]
    styled = run_through_l5(styled_dir, preset=with_references("pink.jpg"))[1]["L5"]

    def mean_colour(package, folder):
        first = next(a for a in package.assets if a.role == "background")
        return np.asarray(Image.open(folder / first.file).convert("RGB"), np.float32).mean((0, 1))

    assert (mean_colour(styled, styled_dir) - mean_colour(plain, tmp_path / "plain")) @ np.array([1, -1, 1]) > 10


def test_a_reference_the_brand_folder_lacks_stops_l5_naming_the_field(tmp_path):
    with pytest.raises(ConfigurationError, match="reference image 'gone.jpg'") as caught:
        run_through_l5(tmp_path, preset=with_references("gone.jpg"))
    assert caught.value.field == "brand.references.0" and caught.value.layer == "L5"


def png(colour=(250, 10, 10, 255), size=(400, 300)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", size, colour).save(buffer, "PNG")
    return buffer.getvalue()


def test_a_teams_own_logo_is_uploaded_and_shown_instead_of_the_drawn_crest(preset, designer, media_root, tmp_path):
    """given: a designer uploads the brand's own logo of the Chiefs on the preset page
    then: it is kept re-encoded under a name from its content, and the matchup scene shows it for KC while the
    Bills keep the crest drawn from their colours (transparent around the shield), both above the headline"""
    from django.conf import settings

    page = designer.post("/studio/presets/test-reel/upload/team", {"team": "kc", "file": SimpleUploadedFile(
        "chiefs.png", png())}, follow=True).content.decode()
    preset.refresh_from_db()
    name = preset.config["brand"]["team_logos"]["KC"]
    assert name.startswith("test-reel-team-KC-") and "saved as" in page and "Set for: KC" in page
    config = shipped("reel_hype").model_dump(mode="json")
    config["brand"]["team_logos"] = {"KC": name}
    _, outputs, plan = run_through_l5(tmp_path, preset=PresetConfig.model_validate(config),
                                      matchup_id="nfl-20261122-buf-kc", brand_dir=settings.MEDIA_ROOT / "brand")
    matchup = next(scene for scene in plan.scenes if scene.id == "matchup")
    crests = [layer for layer in matchup.layers if layer.type == "image"]
    assert [layer.id for layer in crests] == ["matchup_badge_buf", "matchup_badge_kc"]
    headline = next(layer for layer in matchup.layers if layer.id == "matchup_headline")
    assert all(layer.box.y + layer.box.height <= headline.lines[0].y for layer in crests)
    drawn = np.asarray(Image.open(tmp_path / crests[0].asset))
    own = np.asarray(Image.open(tmp_path / crests[1].asset))
    assert drawn.shape[2] == 4 and drawn[0, 0, 3] == 0 and drawn[drawn.shape[0] // 2, drawn.shape[1] // 2, 3] == 255
    assert tuple(own[own.shape[0] // 2, own.shape[1] // 2]) == (250, 10, 10, 255)


@pytest.mark.parametrize("team, data, says", [("K C", png(), "abbreviation"), ("KC", b"GIF89a", "not an image"),
                                               ("", png(), "abbreviation")])
def test_a_bad_team_logo_is_refused_in_words(preset, designer, team, data, says):
    page = designer.post("/studio/presets/test-reel/upload/team", {"team": team, "file": SimpleUploadedFile(
        "x.png", data)}, follow=True).content.decode()
    assert "was refused" in page and says in page
    preset.refresh_from_db()
    assert preset.config.get("brand", {}).get("team_logos", {}) == {}


def test_l5_re_runs_when_a_teams_logo_changes():
    """A team logo uploaded later is drawn: L5's cached crests are not reused."""
    from pipeline.contracts import JobInputs
    from pipeline.layers import default_pipeline
    from pipeline.registry import LayerInput, input_hash

    spec = next(layer for layer in default_pipeline().layers if layer.name == "L5")
    job = JobInputs.model_validate({"sport": "nfl", "date": "2026-11-22"})
    config = shipped("reel_hype").model_dump(mode="json")
    config["brand"]["team_logos"] = {"KC": "a-team-KC-0123456789ab.png"}
    assert input_hash(spec, LayerInput(job=job, preset=shipped("reel_hype"), upstream={})) != input_hash(
        spec, LayerInput(job=job, preset=PresetConfig.model_validate(config), upstream={}))
