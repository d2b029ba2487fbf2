"""Which layers a job runs, in what order, and where it pauses for review.

A `Pipeline` is plain data. The jobs app loads the one named by the
`PIPELINE["FACTORY"]` setting, so tests can run the job machine with small
layers of their own, in this process or in real worker processes.
"""
from __future__ import annotations

import hashlib
import importlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field

from pydantic import BaseModel

from pipeline.context import LayerContext
from pipeline.contracts import JobInputs, PresetConfig, RenderPlan


@dataclass(frozen=True)
class LayerInput:
    job: JobInputs
    preset: PresetConfig
    upstream: dict[str, BaseModel] = field(default_factory=dict)
    plan: RenderPlan | None = None
    plan_version: int | None = None
    # Canvas snapshots the reviewer's page sent at approval ({time: PNG/JPEG data URL}), for the parity check.
    snapshots: dict[str, str] = field(default_factory=dict)


LayerFn = Callable[[LayerInput, LayerContext], BaseModel]
PlanBuilder = Callable[[LayerInput, LayerContext], RenderPlan]


@dataclass(frozen=True)
class LayerSpec:
    name: str
    title: str
    run: LayerFn
    output_model: type[BaseModel]
    needs: tuple[str, ...] = ()
    # Dotted paths into PresetConfig that this layer's output depends on: changing
    # any other preset field leaves its input hash, and so its cached output, alone.
    config_keys: tuple[str, ...] = ()
    version: str = "1"
    timeout_s: int | None = None
    # Whether the layer's output may be reused by another job with the same input hash,
    # and for how long (None: for as long as the files exist).
    cacheable: bool = True
    cache_ttl_s: float | None = None
    # Whether the layer runs at all for a preset (L7 only when the preset names a destination), and
    # what the job page says when it does not.
    applies: Callable[[PresetConfig], bool] = lambda preset: True
    skipped_because: str = "the preset does not use this layer"
    # Whether the job's variant number changes this layer's output (L3 copy, L5 art).
    uses_variant: bool = False
    # Work another worker can do while the layer runs (L6: render unclaimed chunks), asked for with ctx.fan_out.
    help: Callable[[LayerInput, LayerContext], object] | None = None
    # Work that can be done before the job is approved (L6: render the plan's scene chunks while it waits for
    # review): ahead(inputs with the plan, ctx, give_way) -> chunks rendered; raises when give_way() says stop.
    ahead: Callable[[LayerInput, LayerContext, Callable[[], bool]], int] | None = None


@dataclass(frozen=True)
class Pipeline:
    """The pipeline's wiring, in one place: the layers in order, the one after which a job waits for review,
    the layers whose outputs the plan builder reads, and (the first layer after review) the one that renders the
    approved plan. Every caller reads these from here."""
    layers: tuple[LayerSpec, ...]
    review_after: str
    build_plan: PlanBuilder
    # The layers whose outputs the plan builder reads (every layer up to review, when not named).
    plan_needs: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        names = [spec.name for spec in self.layers]
        if self.review_after not in names:
            raise ValueError(f"review_after {self.review_after!r} is not a layer of this pipeline")
        if names[-1] == self.review_after:
            raise ValueError("no layer follows review to render the approved plan")
        for need in self.plan_needs:
            if need not in names[: names.index(self.review_after) + 1]:
                raise ValueError(f"the plan needs {need}, which does not run before review")
        for spec in self.layers:
            for need in spec.needs:
                if need not in names[: names.index(spec.name)]:
                    raise ValueError(f"{spec.name} needs {need}, which does not run before it")

    @property
    def names(self) -> list[str]:
        return [spec.name for spec in self.layers]

    def spec(self, name: str) -> LayerSpec:
        for spec in self.layers:
            if spec.name == name:
                return spec
        raise KeyError(f"no layer {name!r} in this pipeline (it has {', '.join(self.names)})")

    def first(self) -> str:
        return self.layers[0].name

    def next_after(self, name: str, preset: PresetConfig | None = None) -> str | None:
        """The next layer after `name` that applies to the preset (all of them when no preset is given)."""
        names = self.names
        for following in names[names.index(name) + 1:]:
            if preset is None or self.spec(following).applies(preset):
                return following
        return None

    def is_after_review(self, name: str) -> bool:
        return self.names.index(name) > self.names.index(self.review_after)

    @property
    def review_layers(self) -> list[LayerSpec]:
        """The layers a job runs before it waits for review, the review layer last."""
        return list(self.layers[: self.names.index(self.review_after) + 1])

    @property
    def render_layer(self) -> str:
        """The layer that renders the approved plan: the first after review."""
        return self.names[self.names.index(self.review_after) + 1]

    def plan_inputs(self) -> tuple[str, ...]:
        """The layers whose outputs the plan builder is given."""
        return self.plan_needs or tuple(spec.name for spec in self.review_layers)

    def next_unfinished(self, finished: set[str], preset: PresetConfig) -> str | None:
        """The first layer that applies to the preset and has not finished (None: the job has run them all)."""
        return next((spec.name for spec in self.layers if spec.name not in finished and spec.applies(preset)),
                    None)


def load(dotted: str) -> Pipeline:
    """Call the factory at `module.function` and return its Pipeline."""
    module_name, _, attr = dotted.rpartition(".")
    factory = getattr(importlib.import_module(module_name), attr)
    pipeline = factory()
    if not isinstance(pipeline, Pipeline):
        raise TypeError(f"{dotted} returned {type(pipeline).__name__}, not a Pipeline")
    return pipeline


def _select(config: PresetConfig, dotted: str):
    value = config
    for part in dotted.split("."):
        value = getattr(value, part)
    return value.model_dump(mode="json") if isinstance(value, BaseModel) else value


def input_hash(spec: LayerSpec, inputs: LayerInput) -> str:
    """A digest of everything the layer's output depends on.

    Upstream outputs are part of it, so an unchanged upstream output (for example
    after a preset change that only touched a later layer) keeps the hash the same
    and the cached output is reused.
    """
    payload = {
        "layer": spec.name,
        "version": spec.version,
        # How a job is reviewed does not change what a layer makes; which variant it is, and its place in the
        # day's batch, do, for the layers that write variants (copy and art) only.
        "job": inputs.job.model_dump(mode="json", exclude={"batch", "auto_approve"} | (
            set() if spec.uses_variant else {"variant", "slot"})),
        "config": {key: _select(inputs.preset, key) for key in spec.config_keys},
        "upstream": {name: out.model_dump(mode="json") for name, out in sorted(inputs.upstream.items())},
        "plan": inputs.plan.model_dump(mode="json") if inputs.plan else None,
    }
    encoded = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(encoded.encode()).hexdigest()
