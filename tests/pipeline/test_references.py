"""A preset's reference images reach each image provider in the request shape it documents (the fakes in
tests/fakes/upstream.py check those shapes), and the offline art takes their palette and texture."""
import base64
import io
import json

import numpy as np
import pytest
from PIL import Image

from pipeline.errors import ConfigurationError
from pipeline.layers.l5_media import image_apis, procedural
from tests.fakes import upstream as fake
from tests.pipeline.test_providers import ctx_for


def picture(colour, size=(64, 64), fmt="JPEG") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, fmt)
    return buffer.getvalue()


@pytest.fixture
def references(tmp_path):
    paths = []
    for index, colour in enumerate([(220, 30, 200), (20, 200, 220)]):
        path = tmp_path / f"ref-{index}.jpg"
        path.write_bytes(picture(colour))
        paths.append(path)
    return image_apis.load_references(paths)


def test_openai_sends_references_to_image_edits_as_multipart_files(upstream, tmp_path, references):
    fake.serve_openai_images(upstream)
    fake.serve_openai_image_edits(upstream)
    generate = image_apis.openai_images({"model": "gpt-image-1"}, ctx_for(upstream, tmp_path, "L5"), references)
    image = generate("a stadium", (1080, 1920))
    assert image.width > 0 and not upstream.requests_to("/v1/images/generations")
    parts = fake.multipart_fields(upstream.requests_to("/v1/images/edits")[0])
    files = [(name, data) for name, filename, data in parts if filename]
    fields = {name: data.decode() for name, filename, data in parts if filename is None}
    assert [name for name, _ in files] == ["image[]", "image[]"]
    assert [data for _, data in files] == [r.data for r in references]
    assert fields["prompt"] == "a stadium" and fields["size"] == "1024x1536" and fields["model"] == "gpt-image-1"


def test_an_openai_model_without_edits_refuses_references_naming_the_field(upstream, tmp_path, references):
    with pytest.raises(ConfigurationError, match="cannot take reference images") as caught:
        image_apis.openai_images({"model": "dall-e-3"}, ctx_for(upstream, tmp_path, "L5"), references)
    assert caught.value.field == "providers.media.options.model"


@pytest.mark.parametrize("model, keys", [("flux-pro-1.1", {"image_prompt", "width", "height"}),
                                         ("flux-kontext-pro", {"input_image", "input_image_2", "aspect_ratio"})])
def test_flux_takes_references_as_its_model_documents(upstream, tmp_path, monkeypatch, references, model, keys):
    monkeypatch.setattr(image_apis, "POLL_S", 0.01)
    fake.serve_flux(upstream)
    image = image_apis.flux({"model": model}, ctx_for(upstream, tmp_path, "L5"), references)("a stadium", (1080, 1920))
    assert image.size == (64, 96)
    sent = json.loads(upstream.requests_to(f"/v1/{model}")[0].body)
    assert set(sent) == {"prompt", *keys}
    first = sent.get("image_prompt") or sent["input_image"]
    assert base64.b64decode(first) == references[0].data
    if model.startswith("flux-kontext"):
        assert sent["aspect_ratio"] == "9:16" and base64.b64decode(sent["input_image_2"]) == references[1].data


def test_gemini_gets_references_as_inline_data_parts(upstream, tmp_path, references):
    fake.serve_gemini_images(upstream)
    image_apis.gemini_images({}, ctx_for(upstream, tmp_path, "L5"), references)("a stadium", (1080, 1920))
    parts = json.loads(upstream.requests_to("/v1beta/models/")[0].body)["contents"][0]["parts"]
    assert parts[0] == {"text": "a stadium"}
    assert [p["inline_data"]["mime_type"] for p in parts[1:]] == ["image/jpeg", "image/jpeg"]
    assert [base64.b64decode(p["inline_data"]["data"]) for p in parts[1:]] == [r.data for r in references]


WORKFLOW = {"6": {"class_type": "CLIPTextEncode", "inputs": {"text": ""}},
            "10": {"class_type": "LoadImage", "inputs": {"image": "placeholder.png"}},
            "11": {"class_type": "LoadImage", "inputs": {"image": "placeholder.png"}}}


def test_comfyui_uploads_references_once_and_feeds_the_load_image_nodes(upstream, tmp_path, monkeypatch, references):
    monkeypatch.setattr(image_apis, "POLL_S", 0.01)
    fake.serve_comfyui(upstream)
    generate = image_apis.comfyui({"workflow": WORKFLOW, "prompt_node": "6", "reference_nodes": ["10", "11"]},
                                  ctx_for(upstream, tmp_path, "L5"), references)
    generate("a stadium", (1080, 1920))
    generate("a crowd", (1080, 1920))
    assert len(upstream.requests_to("/upload/image")) == 2  # two references, once each for both images
    graph = json.loads(upstream.requests_to("/prompt")[1].body)["prompt"]
    assert [graph[node]["inputs"]["image"] for node in ("10", "11")] == ["ref-0.jpg", "ref-1.jpg"]
    assert upstream.uploads["ref-0.jpg"] == references[0].data


def test_comfyui_without_reference_nodes_is_a_configuration_error(upstream, tmp_path, references):
    with pytest.raises(ConfigurationError, match="reference_nodes") as caught:
        image_apis.comfyui({"workflow": WORKFLOW, "prompt_node": "6"}, ctx_for(upstream, tmp_path, "L5"), references)
    assert caught.value.field == "providers.media.options.reference_nodes"


def test_a_reference_that_is_not_a_picture_is_named(tmp_path):
    path = tmp_path / "notes.jpg"
    path.write_bytes(b"not a picture at all")
    with pytest.raises(ConfigurationError, match="notes.jpg") as caught:
        image_apis.load_references([path])
    assert caught.value.field == "brand.references.0"


def test_the_offline_art_takes_the_references_palette_and_texture():
    """given a plain team-colour background and a magenta, finely striped reference,
    when the look is applied, the art moves towards magenta, gains the stripes' detail, and is the same every time."""
    art = procedural.energy(270, 480, "#00338D", "#C60C30", "seed")
    stripes = np.zeros((256, 256, 3), np.uint8)
    stripes[:, ::4] = (255, 60, 230)
    stripes[:, 1::4] = (120, 10, 110)
    look = procedural.reference_look([Image.fromarray(stripes)])
    styled = procedural.apply_look(art, look)
    before, after = np.asarray(art, np.float32), np.asarray(styled, np.float32)
    magenta = np.array([1.0, -1.0, 1.0]) / np.sqrt(3)
    assert (after.mean((0, 1)) - before.mean((0, 1))) @ magenta > 5
    detail = lambda a: np.abs(np.diff(a.mean(2), axis=1)).mean()  # noqa: E731
    assert detail(after) > detail(before) * 1.3
    again = procedural.apply_look(art, procedural.reference_look([Image.fromarray(stripes)]))
    assert np.array_equal(np.asarray(again), np.asarray(styled))
