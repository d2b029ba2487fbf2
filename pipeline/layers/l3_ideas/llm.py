"""L3 through a language model over HTTP: OpenAI-compatible chat completions, Anthropic messages, Gemini.

The model is given the data and the segment plan and asked for JSON in the
Script contract's shape. Its answer is validated (contract and sources); when it
is invalid the errors are sent back once for a repair, and a second bad answer
fails the layer in words.
"""
from __future__ import annotations

import base64
import json

from pydantic import ValidationError

from pipeline.context import LayerContext
from pipeline.contracts import CalendarPlan, DataPackage, PresetConfig, Script
from pipeline.errors import APIError, ConfigurationError, ScriptError, field_messages
from pipeline.http import dig, provider_client
from pipeline.layers.l3_ideas.sources import check_sources

APIS = {"openai", "anthropic", "gemini"}
DEFAULT_MODELS = {"openai": "gpt-4o-mini", "anthropic": "claude-sonnet-4-5", "gemini": "gemini-2.5-flash"}

SYSTEM = """You write short social video scripts for a sports-betting media brand.
Answer with one JSON object only, matching this JSON schema:
{schema}
Rules:
- One script segment per planned segment, with the same id, kind and prop_id, in the same order.
- headline: at most 80 characters, upper case. stat: at most 40. body: at most 160. narration: one or two
  spoken sentences.
- Every number you write (in headline, stat, body or narration) must come from the data, and each must be
  listed in that segment's figures with its exact text, the path of the data field it comes from (like
  matchup.props[0].line or matchup.spread) and the field's value.
- No counts, dates or times unless they are data fields. Never invent odds or lines."""


class ChatClient:
    """Sends one chat turn list to the configured API and returns the model's text."""

    def __init__(self, api: str, options: dict, ctx: LayerContext, *, layer: str = "L3",
                 field: str = "providers.ideas.options.api") -> None:
        if api not in APIS:
            raise ConfigurationError(f"unknown LLM api {api!r} (known: {', '.join(sorted(APIS))})", layer=layer,
                                     field=field)
        self.api, self.layer = api, layer
        self.model = options.get("model", DEFAULT_MODELS[api])
        key = ctx.secret(api)
        headers = {"openai": {"Authorization": f"Bearer {key}"},
                   "anthropic": {"x-api-key": key, "anthropic-version": "2023-06-01"},
                   "gemini": {"x-goog-api-key": key}}[api]
        # Generating text has no side effects, so a failed POST may be sent again.
        self.client = provider_client(api, layer=layer, ctx=ctx, options=options, headers=headers)

    def complete(self, system: str, turns: list[dict]) -> str:
        if self.api == "openai":
            answer = self.client.post("/v1/chat/completions", json={
                "model": self.model, "response_format": {"type": "json_object"}, "temperature": 0.8,
                "messages": [{"role": "system", "content": system}, *turns]})
            return _dig(answer, ["choices", 0, "message", "content"], self.api, self.layer)
        if self.api == "anthropic":
            answer = self.client.post("/v1/messages", json={
                "model": self.model, "max_tokens": 2000, "system": system, "messages": turns})
            return _dig(answer, ["content", 0, "text"], self.api, self.layer)
        contents = [{"role": "model" if t["role"] == "assistant" else "user", "parts": [{"text": t["content"]}]}
                    for t in turns]
        answer = self.client.post(f"/v1beta/models/{self.model}:generateContent", json={
            "systemInstruction": {"parts": [{"text": system}]}, "contents": contents,
            "generationConfig": {"responseMimeType": "application/json"}})
        return _dig(answer, ["candidates", 0, "content", "parts", 0, "text"], self.api, self.layer)


    def complete_with_images(self, system: str, text: str, images: list[bytes], mime: str = "image/jpeg") -> str:
        """One user turn of text and pictures, in each API's documented image shape: OpenAI's `image_url` parts
        with data URLs, Anthropic's base64 `image` blocks, Gemini's `inline_data` parts."""
        encoded = [base64.b64encode(image).decode() for image in images]
        if self.api == "openai":
            content = [{"type": "text", "text": text}, *({"type": "image_url", "image_url": {
                "url": f"data:{mime};base64,{data}"}} for data in encoded)]
            answer = self.client.post("/v1/chat/completions", json={
                "model": self.model, "response_format": {"type": "json_object"},
                "messages": [{"role": "system", "content": system}, {"role": "user", "content": content}]})
            return _dig(answer, ["choices", 0, "message", "content"], self.api, self.layer)
        if self.api == "anthropic":
            content = [*({"type": "image", "source": {"type": "base64", "media_type": mime, "data": data}}
                         for data in encoded), {"type": "text", "text": text}]
            answer = self.client.post("/v1/messages", json={
                "model": self.model, "max_tokens": 1500, "system": system,
                "messages": [{"role": "user", "content": content}]})
            return _dig(answer, ["content", 0, "text"], self.api, self.layer)
        parts = [{"text": text}, *({"inline_data": {"mime_type": mime, "data": data}} for data in encoded)]
        answer = self.client.post(f"/v1beta/models/{self.model}:generateContent", json={
            "systemInstruction": {"parts": [{"text": system}]}, "contents": [{"role": "user", "parts": parts}],
            "generationConfig": {"responseMimeType": "application/json"}})
        return _dig(answer, ["candidates", 0, "content", "parts", 0, "text"], self.api, self.layer)


def _dig(answer, path: list, api: str, layer: str) -> str:
    value = dig(answer, *path, provider=api, layer=layer)
    if not isinstance(value, str):
        raise APIError(f"answered a {type(value).__name__} where text was expected", status=200,
                       retryable=False, layer=layer, provider=api)
    return value


def _parse(text: str, data: DataPackage) -> Script:
    cleaned = text.strip().removeprefix("```json").removeprefix("```").removesuffix("```").strip()
    script = Script.model_validate(json.loads(cleaned))
    check_sources(script, data)
    return script


def write_script(data: DataPackage, calendar: CalendarPlan, preset: PresetConfig, options: dict,
                 ctx: LayerContext) -> Script:
    chat = ChatClient(options.get("api", "openai"), options, ctx)
    system = SYSTEM.format(schema=json.dumps(Script.model_json_schema()))
    request = json.dumps({"data": data.model_dump(mode="json"), "segments": calendar.model_dump(mode="json")[
        "segments"], "tone": options.get("tone", "hype"), "hashtags": preset.hashtags,
        "variant": options.get("variant", 0)})
    turns = [{"role": "user", "content": request}]
    problem = ""
    for attempt in (1, 2):
        text = chat.complete(system, turns)
        try:
            return _parse(text, data)
        except json.JSONDecodeError as exc:
            problem = f"the answer is not JSON ({exc.msg} at character {exc.pos})"
        except ValidationError as exc:
            problem = "; ".join(f"{field}: {', '.join(messages)}"
                                for field, messages in list(field_messages(exc, root="(root)").items())[:8])
        except ScriptError as exc:
            problem = exc.message
        ctx.logger.warning("L3 %s answer %s was invalid: %s", chat.api, attempt, problem)
        turns += [{"role": "assistant", "content": text},
                  {"role": "user", "content": f"That answer is invalid: {problem}. Answer again with the "
                                              "corrected JSON object only."}]
    raise ScriptError(f"the {chat.api} model gave an invalid script twice: {problem}", layer="L3",
                      provider=chat.api, retryable=True, hint="retry, or switch the preset to the template writer")
