"""Every failure the pipeline can report, each with the layer it happened in,
whether trying again can help, and a message a person can act on.

A job that fails stores `layer`, `error_type` (the class name), `message` and
`retryable` from one of these.
"""
from __future__ import annotations


class PipelineError(Exception):
    """Base class. `hint` tells the reader what to do about it."""

    retryable = False
    default_hint = ""

    def __init__(self, message: str, *, layer: str = "", hint: str = "", retryable: bool | None = None,
                 provider: str = "", field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.layer = layer
        self.provider = provider
        self.field = field
        if retryable is not None:
            self.retryable = retryable
        # After `retryable`: the default hint depends on it.
        self.hint = hint or self.default_hint

    @property
    def error_type(self) -> str:
        return type(self).__name__

    def describe(self) -> str:
        """The full sentence shown to people: where, what, and what to do."""
        where = " ".join(part for part in (self.layer, self.provider) if part)
        text = f"{where}: {self.message}" if where else self.message
        if self.field and self.field not in self.message:
            text += f" (field: {self.field})"
        if self.hint:
            text += f" — {self.hint}"
        return text

    def __str__(self) -> str:
        return self.describe()

    @classmethod
    def from_validation(cls, exc, *, what: str, layer: str = "", provider: str = "") -> PipelineError:
        """Turn a pydantic ValidationError into one readable sentence naming each bad field."""
        fields = field_messages(exc, root="(root)")
        problems = [f"{name}: {message}" for name, messages in fields.items() for message in messages]
        more = f" and {len(problems) - 5} more" if len(problems) > 5 else ""
        first_field = next((name for name in fields if name != "(root)"), "")
        return cls(f"{what} is invalid — {'; '.join(problems[:5])}{more}", layer=layer, provider=provider,
                   field=first_field)


class AdjustmentError(PipelineError):
    """An adjustment a reviewer asked for that cannot be applied; `field` names it (e.g. text_edits.prop_1_headline)."""


def field_messages(exc, *, root: str = "__all__", prefix: str = "") -> dict[str, list[str]]:
    """The one reading of a pydantic ValidationError: {dotted field: [messages in words]}, in the order pydantic
    found them (`root` names an error of the whole object; `prefix` goes before every field)."""
    found: dict[str, list[str]] = {}
    for err in exc.errors():
        field = ".".join(str(part) for part in err.get("loc", ()))
        name = f"{prefix}.{field}" if prefix and field else (prefix or field or root)
        found.setdefault(name, []).append(str(err.get("msg", "invalid")).removeprefix("Value error, "))
    return found


class ContractError(PipelineError):
    """Data crossing a layer boundary does not match its contract."""

    default_hint = "the upstream data is malformed; check the provider's output or its configuration"

class ConfigurationError(PipelineError):
    """A preset, a provider option or a setting is missing or wrong."""

    default_hint = "fix the preset or the environment variable named here, then retry"


class ProviderError(PipelineError):
    """An outside service answered badly or not at all."""


class APIError(ProviderError):
    """An HTTP API failed: status, method and path are in the message (never the key). `body` and `headers` keep
    the start of the answer, for a client that reads the provider's own error codes from it."""

    body = ""
    headers: dict = {}

    def __init__(self, message: str, *, status: int | None = None, **kwargs) -> None:
        self.status = status
        if "retryable" not in kwargs or kwargs["retryable"] is None:
            kwargs["retryable"] = status is None or status == 429 or status >= 500
        super().__init__(message, **kwargs)

    @property
    def default_hint(self) -> str:  # type: ignore[override]
        if self.retryable:
            return "the service is unavailable or overloaded; retry the job later"
        return "the request was refused; check the API key and the provider options in the preset"


class DataError(PipelineError):
    """The sports data asked for does not exist (no game that day, unknown matchup)."""

    default_hint = "pick another date or matchup"


class ScriptError(PipelineError):
    """L3 could not produce a usable script."""


class AudioGenerationError(PipelineError):
    """L4 could not produce narration or timings."""


class MediaGenerationError(PipelineError):
    """L5 could not produce or check an image."""


class FFmpegError(PipelineError):
    """An FFmpeg run failed, hung or is missing; `stderr` holds its last output."""

    def __init__(self, message: str, *, stderr: str = "", **kwargs) -> None:
        self.stderr = stderr
        super().__init__(message, **kwargs)


class RenderError(PipelineError):
    """L6 could not render the plan or its output failed the read-back checks."""


class DistributionError(PipelineError):
    """L7 could not hand the files on."""


class LayerTimeoutError(PipelineError):
    """A layer ran past its time limit on every attempt."""

    retryable = True
    default_hint = "the layer kept running out of time; retry, or raise LAYER_TIMEOUT_S"


class StoreError(PipelineError):
    """The object store holding the job's files refused, lost or garbled one."""

    retryable = True
    default_hint = "check that the object store (STORAGE_URL) is reachable, then retry the job"
