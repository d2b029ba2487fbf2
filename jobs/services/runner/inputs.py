"""What a layer runs on: whether it may run now, the finished outputs it needs, the approved plan after review,
and the plan built from everything up to review."""
from __future__ import annotations

from pydantic import BaseModel, ValidationError

from jobs.models import Job, LayerRun
from jobs.selectors import approved_plan_version
from pipeline.context import LayerContext
from pipeline.contracts import JobInputs, PresetConfig, RenderPlan
from pipeline.errors import ConfigurationError, ContractError
from pipeline.registry import LayerInput, LayerSpec, Pipeline

S = Job.Status


def runnable(job: Job, pipeline: Pipeline, layer: str) -> bool:
    if pipeline.is_after_review(layer):
        return job.status in (S.APPROVED, S.RENDERING)
    return job.status in (S.QUEUED, S.RUNNING)


def finished_layers(job: Job) -> set[str]:
    return set(job.layer_runs.filter(status__in=[LayerRun.Status.DONE, LayerRun.Status.REUSED])
               .values_list("layer", flat=True))


def next_unfinished(job: Job, pipeline: Pipeline) -> str | None:
    """The layer the job should run next, if it may run now."""
    name = pipeline.next_unfinished(finished_layers(job), PresetConfig.model_validate(job.preset.config))
    return name if name is not None and runnable(job, pipeline, name) else None


def finished_output(job: Job, layer: str) -> dict | None:
    run = job.layer_runs.filter(layer=layer, status__in=[LayerRun.Status.DONE, LayerRun.Status.REUSED]).first()
    return run.output if run else None


def gather_inputs(job: Job, pipeline: Pipeline, spec: LayerSpec) -> LayerInput:
    """Load and validate what the layer needs: the job's inputs, its preset, upstream outputs, the plan."""
    base = {"base_dir": job.work_dir}
    try:
        job_inputs = JobInputs.model_validate(job.inputs)
    except ValidationError as exc:
        raise ContractError.from_validation(exc, what="the job's inputs", layer=spec.name) from exc
    try:
        preset = PresetConfig.model_validate(job.preset.config)
    except ValidationError as exc:
        raise ConfigurationError.from_validation(exc, what=f"preset {job.preset.slug!r}", layer=spec.name) from exc
    upstream: dict[str, BaseModel] = {}
    for need in spec.needs:
        output = finished_output(job, need)
        if output is None:
            raise ContractError(f"{need} has not finished, but {spec.name} needs its output", layer=spec.name)
        model = pipeline.spec(need).output_model
        try:
            upstream[need] = model.model_validate(output, context=base)
        except ValidationError as exc:
            raise ContractError.from_validation(exc, what=f"the stored {need} output", layer=spec.name) from exc
    plan = version = None
    snapshots: dict[str, str] = {}
    if pipeline.is_after_review(spec.name):
        approved = approved_plan_version(job)
        if approved is None:
            raise ContractError("no approved plan version to render", layer=spec.name)
        plan, version = RenderPlan.model_validate(approved.plan, context=base), approved.number
        snapshots = approved.snapshots or {}
    return LayerInput(job=job_inputs, preset=preset, upstream=upstream, plan=plan, plan_version=version,
                      snapshots=snapshots)


def build_plan_for(job_id, pipeline: Pipeline, inputs: LayerInput, review_output: BaseModel,
                   ctx: LayerContext) -> RenderPlan:
    """Build the RenderPlan from every layer's output up to review (the plan builder reads them all)."""
    upstream = dict(inputs.upstream)
    finished = LayerRun.objects.filter(job_id=job_id, status__in=[LayerRun.Status.DONE, LayerRun.Status.REUSED])
    outputs = dict(finished.values_list("layer", "output"))
    for name in pipeline.plan_inputs():
        if name not in upstream and name in outputs:
            upstream[name] = pipeline.spec(name).output_model.model_validate(outputs[name])
    upstream[pipeline.review_after] = review_output
    plan_inputs = LayerInput(job=inputs.job, preset=inputs.preset, upstream=upstream)
    return RenderPlan.model_validate(pipeline.build_plan(plan_inputs, ctx).model_dump(mode="json"),
                                     context={"base_dir": ctx.work_dir})

