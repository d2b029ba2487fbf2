"""What a preset may say about each provider: the options each one takes, with their bounds.

A preset names a provider and tunes its content (a model, a voice, a style) and its patience (retries,
timeouts) within fixed bounds. Where a provider lives and the key it is called with are the operator's
(the environment, mediaengine/env.py): no option can name an address, so a key never leaves for a place a
preset editor chose. An option not listed here is refused, naming it.
"""
from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from pipeline.contracts.base import Contract

LLM_APIS = Literal["openai", "anthropic", "gemini"]


class NoOptions(Contract):
    """A provider that takes no options."""


class Patience(Contract):
    """How long and how often to wait for a provider over HTTP (pipeline/http.py): bounded, so a preset
    cannot hold a worker for ever."""

    retries: int = Field(default=None, ge=0, le=10)
    read_timeout: float = Field(default=None, gt=0, le=300, description="seconds")
    backoff_factor: float = Field(default=None, ge=0, le=5)
    backoff_max: float = Field(default=None, ge=0, le=60, description="seconds")


class ChatOptions(Patience):
    model: str = Field(default=None, min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._:/-]+$")


class PredictorOptions(ChatOptions):
    pass


class FixtureOptions(Contract):
    predictor: Literal["novig", "gemini", "anthropic", "none"] = "novig"
    predictor_options: PredictorOptions = PredictorOptions()


class GoatedBetsOptions(Patience):
    predictor: Literal["novig", "gemini", "anthropic", "none"] = "novig"
    predictor_options: PredictorOptions = PredictorOptions()


class BallDontLieOptions(GoatedBetsOptions):
    vendor: str = Field(default=None, min_length=1, max_length=40, pattern=r"^[a-z0-9_]+$")


class TemplateOptions(Contract):
    tone: Literal["hype", "analyst"] = "hype"


class LLMScriptOptions(ChatOptions):
    api: LLM_APIS = "openai"
    tone: Literal["hype", "analyst"] = "hype"


class OpenAISpeechOptions(Patience):
    model: str = Field(default=None, min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._:-]+$")
    voice: str = Field(default=None, min_length=1, max_length=40, pattern=r"^[a-z0-9_-]+$")


class ElevenLabsOptions(Patience):
    model: str = Field(default=None, min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._:-]+$")
    voice_id: str = Field(default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9]+$")


class ProceduralOptions(Contract):
    style: Literal["arena", "energy", "illustrated", "stat"] = None


class ImageModelOptions(Patience):
    style: Literal["arena", "energy", "illustrated", "stat"] = None
    model: str = Field(default=None, min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._:/-]+$")


class FluxOptions(ImageModelOptions):
    deadline_s: float = Field(default=None, gt=0, le=900)


class ComfyUIOptions(Patience):
    style: Literal["arena", "energy", "illustrated", "stat"] = None
    # A workflow file in the brand folder (a name, never a path out of it), or the workflow itself.
    workflow: str | dict[str, Any] = Field(default=None)
    prompt_node: str = Field(default=None, min_length=1, max_length=40)
    size_node: str = Field(default=None, min_length=1, max_length=40)
    reference_nodes: list[str] = Field(default=None, max_length=4)
    deadline_s: float = Field(default=None, gt=0, le=900)


# layer (the key under `providers`) -> provider name -> the options it takes.
PROVIDER_OPTIONS: dict[str, dict[str, type[Contract]]] = {
    "data": {"fixture": FixtureOptions, "balldontlie": BallDontLieOptions, "goatedbets": GoatedBetsOptions},
    "ideas": {"template": TemplateOptions, "llm": LLMScriptOptions},
    "audio": {"piper": NoOptions, "espeak": NoOptions, "openai_tts": OpenAISpeechOptions,
              "elevenlabs": ElevenLabsOptions},
    "media": {"procedural": ProceduralOptions, "openai_images": ImageModelOptions, "flux": FluxOptions,
              "gemini_images": ImageModelOptions, "comfyui": ComfyUIOptions},
}
