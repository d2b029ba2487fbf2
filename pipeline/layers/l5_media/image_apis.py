"""Image generation over HTTP: OpenAI images, Flux (BFL), Gemini images and a ComfyUI server.

Each provider is a function `generate(prompt, size) -> PIL.Image`. Generation has
no side effects, so POSTs are retried; every answer is checked before use.
"""
from __future__ import annotations

import base64
import binascii
import json
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from PIL import Image

from pipeline.context import LayerContext
from pipeline.errors import APIError, ConfigurationError, MediaGenerationError
from pipeline.files import image_from_bytes
from pipeline.http import dig, provider_client

Generate = Callable[[str, tuple[int, int]], Image.Image]
POLL_S = 1.0


def _client(provider: str, options: dict, ctx: LayerContext, headers: dict):
    return provider_client(provider, layer="L5", ctx=ctx, options=options, headers=headers, read_timeout=120)


def _b64(value, *, provider: str, field: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, TypeError, ValueError) as exc:
        raise MediaGenerationError(f"answered {field} that is not base64 ({exc})", layer="L5", provider=provider,
                                   field=field) from exc


def _get(answer, *path, provider: str):
    return dig(answer, *path, provider=provider, layer="L5")


def openai_images(options: dict, ctx: LayerContext) -> Generate:
    client = _client("openai", options, ctx, {"Authorization": f"Bearer {ctx.secret('openai')}"})

    def generate(prompt: str, size: tuple[int, int]) -> Image.Image:
        portrait = size[1] > size[0]
        answer = client.post("/v1/images/generations", json={
            "model": options.get("model", "gpt-image-1"), "prompt": prompt, "n": 1,
            "size": "1024x1536" if portrait else "1024x1024"})
        data = _b64(_get(answer, "data", 0, "b64_json", provider="openai"), provider="openai", field="b64_json")
        return image_from_bytes(data, what="the openai image", provider="openai")

    return generate


def flux(options: dict, ctx: LayerContext) -> Generate:
    client = _client("flux", options, ctx, {"x-key": ctx.secret("flux")})
    deadline_s = float(options.get("deadline_s", 180))

    def generate(prompt: str, size: tuple[int, int]) -> Image.Image:
        width, height = (min(1440, s // 32 * 32) for s in size)
        task = client.post(f"/v1/{options.get('model', 'flux-pro-1.1')}", json={
            "prompt": prompt, "width": width, "height": height})
        polling_url = task.get("polling_url") or f"/v1/get_result?id={_get(task, 'id', provider='flux')}"
        deadline = time.monotonic() + deadline_s
        while time.monotonic() < deadline:
            result = client.get(polling_url)
            status = result.get("status")
            if status == "Ready":
                sample = _get(result, "result", "sample", provider="flux")
                return image_from_bytes(client.get_bytes(sample), what="the flux image", provider="flux")
            if status in ("Error", "Failed", "Content Moderated", "Request Moderated"):
                raise MediaGenerationError(f"flux refused the image: {status}", layer="L5", provider="flux",
                                           hint="change the prompt style in the preset")
            time.sleep(POLL_S)
        raise MediaGenerationError(f"flux did not finish within {deadline_s:.0f} s", layer="L5", provider="flux",
                                   retryable=True)

    return generate


def gemini_images(options: dict, ctx: LayerContext) -> Generate:
    client = _client("gemini", options, ctx, {"x-goog-api-key": ctx.secret("gemini")})
    model = options.get("model", "gemini-2.5-flash-image")

    def generate(prompt: str, size: tuple[int, int]) -> Image.Image:
        answer = client.post(f"/v1beta/models/{model}:generateContent", json={
            "contents": [{"parts": [{"text": prompt}]}],
            "generationConfig": {"responseModalities": ["IMAGE"]}})
        parts = _get(answer, "candidates", 0, "content", "parts", provider="gemini")
        for part in parts if isinstance(parts, list) else []:
            inline = part.get("inlineData") or part.get("inline_data") if isinstance(part, dict) else None
            if inline and "data" in inline:
                data = _b64(inline["data"], provider="gemini", field="inlineData.data")
                return image_from_bytes(data, what="the gemini image", provider="gemini")
        raise APIError("answered no image part", status=200, retryable=True, layer="L5", provider="gemini",
                       field="candidates.0.content.parts")

    return generate


def comfyui(options: dict, ctx: LayerContext) -> Generate:
    """Queue a workflow on a ComfyUI server, poll its history, and fetch the output image.

    The workflow (API format JSON) comes from options["workflow"] (a path in the brand folder or an
    object); options["prompt_node"] names the node whose `text` input takes the prompt, and
    options["size_node"] (optional) the node with `width`/`height`.
    """
    client = _client("comfyui", options, ctx, {})
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

    def generate(prompt: str, size: tuple[int, int]) -> Image.Image:
        graph = json.loads(json.dumps(workflow))
        graph[options["prompt_node"]]["inputs"]["text"] = prompt
        if size_node := options.get("size_node"):
            graph[size_node]["inputs"].update({"width": size[0] // 8 * 8, "height": size[1] // 8 * 8})
        queued = client.post("/prompt", json={"prompt": graph, "client_id": str(uuid.uuid4())})
        prompt_id = _get(queued, "prompt_id", provider="comfyui")
        deadline = time.monotonic() + deadline_s
        while time.monotonic() < deadline:
            history = client.get(f"/history/{prompt_id}")
            entry = history.get(prompt_id) if isinstance(history, dict) else None
            if entry:
                status = entry.get("status", {})
                if status.get("status_str") == "error":
                    raise MediaGenerationError("the ComfyUI workflow failed", layer="L5", provider="comfyui")
                for output in entry.get("outputs", {}).values():
                    for image in output.get("images", []):
                        data = client.get_bytes("/view", params={
                            "filename": image["filename"], "subfolder": image.get("subfolder", ""),
                            "type": image.get("type", "output")})
                        return image_from_bytes(data, what="the ComfyUI image", provider="comfyui")
            time.sleep(POLL_S)
        raise MediaGenerationError(f"ComfyUI did not finish within {deadline_s:.0f} s", layer="L5",
                                   provider="comfyui", retryable=True)

    return generate


PROVIDERS = {"openai_images": openai_images, "flux": flux, "gemini_images": gemini_images, "comfyui": comfyui}


def provider(name: str, options: dict, ctx: LayerContext) -> Generate:
    if name not in PROVIDERS:
        known = ", ".join(["procedural", *PROVIDERS])
        raise ConfigurationError(f"unknown media provider {name!r} (known: {known})", layer="L5",
                                 field="providers.media.name")
    return PROVIDERS[name](options, ctx)
