"""Image generation over HTTP: OpenAI images, Flux (BFL), Gemini images and a ComfyUI server.

Each provider is a function `generate(prompt, size) -> PIL.Image`. Request shapes follow each
provider's API reference; every answer is validated as a whole (wire models) before use. Generation
calls that only return a result are retried; ComfyUI's queueing POST is not.

A preset's reference images reach each provider the way it documents taking them: OpenAI's image edits
(`POST /v1/images/edits`, multipart, one `image[]` part each, gpt-image-1), Flux's `image_prompt` (Redux, on
the FLUX1.1 models) or `input_image`, `input_image_2`, … (Kontext), Gemini's `inline_data` parts beside the
prompt, and ComfyUI's `POST /upload/image` feeding the workflow's LoadImage node(s).
"""
from __future__ import annotations

import base64
import binascii
import io
import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image
from pydantic import Field

from pipeline.context import LayerContext
from pipeline.errors import APIError, ConfigurationError, ContractError, MediaGenerationError
from pipeline.files import image_from_bytes
from pipeline.http import provider_client
from pipeline.wire import Wire, parse_answer

Generate = Callable[[str, tuple[int, int]], Image.Image]
POLL_S = 1.0


@dataclass(frozen=True)
class Reference:
    name: str
    data: bytes
    mime: str

    @property
    def b64(self) -> str:
        return base64.b64encode(self.data).decode()


REFERENCE_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}


def load_references(paths) -> list[Reference]:
    """The preset's reference images as a provider is sent them; a file that is not one is named."""
    found = []
    for index, path in enumerate(paths):
        data = Path(path).read_bytes()
        try:
            with Image.open(io.BytesIO(data)) as probe:
                kind = probe.format
        except (OSError, Image.DecompressionBombError):
            kind = None
        if kind not in REFERENCE_FORMATS:
            raise ConfigurationError(f"reference image {Path(path).name!r} is not a PNG, JPEG or WebP", layer="L5",
                                     field=f"brand.references.{index}", hint="upload it again on the preset")
        found.append(Reference(Path(path).name, data, REFERENCE_FORMATS[kind]))
    return found


def _client(provider: str, options: dict, ctx: LayerContext, headers: dict):
    return provider_client(provider, layer="L5", ctx=ctx, options=options, headers=headers, read_timeout=120)


def _b64(value, *, provider: str, field: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, TypeError, ValueError) as exc:
        raise MediaGenerationError(f"answered {field} that is not base64 ({exc})", layer="L5", provider=provider,
                                   field=field) from exc


def _parse(model, answer, what: str, provider: str):
    return parse_answer(model, answer, what, provider=provider, layer="L5")


# The sizes each OpenAI image model accepts (OpenAI's API reference, images/create: `size`).
OPENAI_SIZES = {
    "gpt-image-1": ("1024x1024", "1024x1536", "1536x1024"),
    "dall-e-3": ("1024x1024", "1024x1792", "1792x1024"),
    "dall-e-2": ("256x256", "512x512", "1024x1024"),
}


def nearest_size(sizes: tuple[str, ...], size: tuple[int, int]) -> str:
    """The accepted size whose aspect ratio is closest to the format's (a cover crop takes the rest)."""
    want = size[0] / size[1]
    return min(sizes, key=lambda s: (abs(int(s.split("x")[0]) / int(s.split("x")[1]) - want),
                                     -int(s.split("x")[0]) * int(s.split("x")[1])))


class WireImageData(Wire):
    b64_json: str | None = None
    url: str | None = None


class WireImages(Wire):
    data: list[WireImageData] = Field(min_length=1)


def openai_images(options: dict, ctx: LayerContext, references: list[Reference] = ()) -> Generate:
    client = _client("openai", options, ctx, {"Authorization": f"Bearer {ctx.secret('openai')}"})
    model = options.get("model", "gpt-image-1")
    if model not in OPENAI_SIZES:
        raise ConfigurationError(f"unknown OpenAI image model {model!r} (known: {', '.join(OPENAI_SIZES)})",
                                 layer="L5", provider="openai", field="providers.media.options.model")
    if references and model != "gpt-image-1":
        raise ConfigurationError(f"{model} cannot take reference images; use gpt-image-1 or remove the preset's "
                                 "references", layer="L5", provider="openai", field="providers.media.options.model")

    def generate(prompt: str, size: tuple[int, int]) -> Image.Image:
        body = {"model": model, "prompt": prompt, "n": 1, "size": nearest_size(OPENAI_SIZES[model], size)}
        if references:
            # The edits endpoint takes the references as multipart files, the rest as form fields.
            path = "/v1/images/edits"
            sent = client.post(path, data={key: str(value) for key, value in body.items()},
                               files=[("image[]", (r.name, r.data, r.mime)) for r in references])
        else:
            if model != "gpt-image-1":
                # DALL-E answers with a short-lived URL unless asked for the bytes; gpt-image-1 always sends
                # base64 and refuses the parameter.
                body["response_format"] = "b64_json"
            path = "/v1/images/generations"
            sent = client.post(path, json=body)
        answer = _parse(WireImages, sent, f"the answer of POST {path}", "openai")
        image = answer.data[0]
        if image.b64_json:
            data = _b64(image.b64_json, provider="openai", field="data.0.b64_json")
        elif image.url:
            data = client.get_bytes(image.url)
        else:
            raise APIError("answered an image with neither b64_json nor url", status=200, retryable=True,
                           layer="L5", provider="openai", field="data.0")
        return image_from_bytes(data, what="the openai image", provider="openai")

    return generate


class WireFluxTask(Wire):
    id: str
    polling_url: str | None = None


class WireFluxSample(Wire):
    sample: str


class WireFluxResult(Wire):
    status: str
    result: WireFluxSample | None = None


FLUX_KONTEXT_INPUTS = ("input_image", "input_image_2", "input_image_3", "input_image_4")


def flux_references(model: str, references: list[Reference]) -> dict:
    """How BFL's models take reference images: Kontext edits from up to four `input_image*` fields; the other
    models take one picture as `image_prompt` (Redux), blended by `image_prompt_strength` on the Ultra model."""
    if not references:
        return {}
    if model.startswith("flux-kontext"):
        return {name: ref.b64 for name, ref in zip(FLUX_KONTEXT_INPUTS, references, strict=False)}
    return {"image_prompt": references[0].b64}


def flux(options: dict, ctx: LayerContext, references: list[Reference] = ()) -> Generate:
    client = _client("flux", options, ctx, {"x-key": ctx.secret("flux")})
    deadline_s = float(options.get("deadline_s", 180))
    model = options.get("model", "flux-pro-1.1")

    def generate(prompt: str, size: tuple[int, int]) -> Image.Image:
        width, height = (min(1440, s // 32 * 32) for s in size)
        path = f"/v1/{model}"
        body = {"prompt": prompt, **flux_references(model, references)}
        if model.startswith("flux-kontext") or model.endswith("-ultra"):
            # Kontext and Ultra take an aspect ratio, not a size.
            body["aspect_ratio"] = gemini_ratio(size)
        else:
            body.update(width=width, height=height)
        task = _parse(WireFluxTask, client.post(path, json=body), f"the answer of POST {path}", "flux")
        polling_url = task.polling_url or f"/v1/get_result?id={task.id}"
        deadline = time.monotonic() + deadline_s
        while time.monotonic() < deadline:
            result = _parse(WireFluxResult, client.get(polling_url), "the answer of GET get_result", "flux")
            if result.status == "Ready":
                if result.result is None:
                    raise APIError("answered Ready without result.sample", status=200, retryable=False,
                                   layer="L5", provider="flux", field="result.sample")
                return image_from_bytes(client.get_bytes(result.result.sample), what="the flux image",
                                        provider="flux")
            if result.status in ("Error", "Failed", "Content Moderated", "Request Moderated"):
                raise MediaGenerationError(f"flux refused the image: {result.status}", layer="L5", provider="flux",
                                           hint="change the prompt style in the preset")
            time.sleep(POLL_S)
        raise MediaGenerationError(f"flux did not finish within {deadline_s:.0f} s", layer="L5", provider="flux",
                                   retryable=True)

    return generate


# The aspect ratios Gemini's image models accept (generationConfig.imageConfig.aspectRatio).
GEMINI_RATIOS = ("1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9")


def gemini_ratio(size: tuple[int, int]) -> str:
    want = size[0] / size[1]
    return min(GEMINI_RATIOS, key=lambda r: abs(int(r.split(":")[0]) / int(r.split(":")[1]) - want))


class WireInline(Wire):
    data: str
    mime_type: str | None = Field(default=None, alias="mimeType")


class WirePart(Wire):
    text: str | None = None
    inline_data: WireInline | None = Field(default=None, alias="inlineData")


class WireContent(Wire):
    parts: list[WirePart] = []


class WireCandidate(Wire):
    content: WireContent


class WireGemini(Wire):
    candidates: list[WireCandidate] = Field(min_length=1)


def gemini_images(options: dict, ctx: LayerContext, references: list[Reference] = ()) -> Generate:
    client = _client("gemini", options, ctx, {"x-goog-api-key": ctx.secret("gemini")})
    model = options.get("model", "gemini-2.5-flash-image")
    # Reference pictures go beside the prompt as inline data parts, as the image-editing guide sends them.
    pictures = [{"inline_data": {"mime_type": r.mime, "data": r.b64}} for r in references]

    def generate(prompt: str, size: tuple[int, int]) -> Image.Image:
        path = f"/v1beta/models/{model}:generateContent"
        answer = _parse(WireGemini, client.post(path, json={
            "contents": [{"parts": [{"text": prompt}, *pictures]}],
            "generationConfig": {"responseModalities": ["IMAGE"], "imageConfig": {"aspectRatio": gemini_ratio(size)}},
        }), f"the answer of POST {path}", "gemini")
        for part in answer.candidates[0].content.parts:
            if part.inline_data is not None:
                data = _b64(part.inline_data.data, provider="gemini", field="inlineData.data")
                return image_from_bytes(data, what="the gemini image", provider="gemini")
        raise APIError("answered no image part", status=200, retryable=True, layer="L5", provider="gemini",
                       field="candidates.0.content.parts")

    return generate


class WireQueued(Wire):
    prompt_id: str


class WireComfyImage(Wire):
    filename: str
    subfolder: str = ""
    type: str = "output"


class WireComfyOutput(Wire):
    images: list[WireComfyImage] = []


class WireComfyStatus(Wire):
    status_str: str | None = None


class WireHistoryEntry(Wire):
    status: WireComfyStatus = WireComfyStatus()
    outputs: dict[str, WireComfyOutput] = {}


class WireUploaded(Wire):
    name: str
    subfolder: str = ""
    type: str = "input"


def comfyui(options: dict, ctx: LayerContext, references: list[Reference] = ()) -> Generate:
    """Queue a workflow on a ComfyUI server, poll its history, and fetch the output image.

    The workflow (API format JSON) comes from options["workflow"] (a path in the brand folder or an
    object); options["prompt_node"] names the node whose `text` input takes the prompt, and
    options["size_node"] (optional) the node with `width`/`height`. With reference images,
    options["reference_nodes"] names the LoadImage node(s) whose `image` input takes them (uploaded first with
    `POST /upload/image`), one reference per node.
    """
    # POST /prompt queues a generation: sent twice, it would run twice. Only a connection that failed
    # before the request went out is tried again; the polls (GET) are retried as usual.
    client = provider_client("comfyui", layer="L5", ctx=ctx, options=options, headers={}, read_timeout=120,
                             retry_posts=False)
    deadline_s = float(options.get("deadline_s", 300))
    workflow = options.get("workflow")
    if isinstance(workflow, str):
        brand_dir = Path(ctx.options.get("BRAND_DIR", ctx.work_dir)).resolve()
        path = (brand_dir / workflow).resolve()
        if brand_dir not in path.parents or not path.is_file():
            raise ConfigurationError(f"ComfyUI workflow {workflow!r} is not in the brand folder", layer="L5",
                                     field="providers.media.options.workflow")
        workflow = json.loads(path.read_text())
    if not isinstance(workflow, dict) or options.get("prompt_node") not in workflow:
        raise ConfigurationError("a ComfyUI workflow with a prompt_node is needed", layer="L5",
                                 field="providers.media.options.workflow")
    reference_nodes = options.get("reference_nodes") or []
    if references and (not isinstance(reference_nodes, list) or not reference_nodes
                       or any(node not in workflow for node in reference_nodes)):
        raise ConfigurationError("the preset has reference images, so the ComfyUI options need reference_nodes: "
                                 "the workflow's LoadImage node ids that take them", layer="L5",
                                 provider="comfyui", field="providers.media.options.reference_nodes")
    uploaded: list[str] = []
    upload_lock = threading.Lock()

    def upload_references() -> list[str]:
        # Once per layer run (its segments are made in parallel): the server keeps them in its input folder.
        with upload_lock:
            return uploaded or _upload()

    def _upload() -> list[str]:
        if not uploaded:
            for ref in references[: len(reference_nodes)]:
                answer = _parse(WireUploaded, client.post("/upload/image", data={"type": "input", "overwrite": "true"},
                                                          files={"image": (ref.name, ref.data, ref.mime)}),
                                "the answer of POST /upload/image", "comfyui")
                uploaded.append(f"{answer.subfolder}/{answer.name}" if answer.subfolder else answer.name)
        return uploaded

    def generate(prompt: str, size: tuple[int, int]) -> Image.Image:
        graph = json.loads(json.dumps(workflow))
        graph[options["prompt_node"]]["inputs"]["text"] = prompt
        if size_node := options.get("size_node"):
            graph[size_node]["inputs"].update({"width": size[0] // 8 * 8, "height": size[1] // 8 * 8})
        for node, name in zip(reference_nodes, upload_references() if references else [], strict=False):
            graph[node]["inputs"]["image"] = name
        queued = _parse(WireQueued, client.post("/prompt", json={"prompt": graph, "client_id": str(uuid.uuid4())}),
                        "the answer of POST /prompt", "comfyui")
        deadline = time.monotonic() + deadline_s
        while time.monotonic() < deadline:
            history = client.get(f"/history/{queued.prompt_id}")
            if not isinstance(history, dict):
                raise ContractError(f"GET /history/{queued.prompt_id} answered a {type(history).__name__}, not an "
                                    "object", layer="L5", provider="comfyui")
            if queued.prompt_id in history:
                entry = _parse(WireHistoryEntry, history[queued.prompt_id],
                               f"the answer of GET /history/{queued.prompt_id}", "comfyui")
                if entry.status.status_str == "error":
                    raise MediaGenerationError("the ComfyUI workflow failed", layer="L5", provider="comfyui")
                for output in entry.outputs.values():
                    for image in output.images:
                        data = client.get_bytes("/view", params=image.model_dump())
                        return image_from_bytes(data, what="the ComfyUI image", provider="comfyui")
            time.sleep(POLL_S)
        raise MediaGenerationError(f"ComfyUI did not finish within {deadline_s:.0f} s", layer="L5",
                                   provider="comfyui", retryable=True)

    return generate


PROVIDERS = {"openai_images": openai_images, "flux": flux, "gemini_images": gemini_images, "comfyui": comfyui}


def provider(name: str, options: dict, ctx: LayerContext, references: list[Reference] = ()) -> Generate:
    if name not in PROVIDERS:
        known = ", ".join(["procedural", *PROVIDERS])
        raise ConfigurationError(f"unknown media provider {name!r} (known: {known})", layer="L5",
                                 field="providers.media.name")
    return PROVIDERS[name](options, ctx, list(references))
