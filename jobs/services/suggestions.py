"""Suggestions at review (pipeline/suggestions.py) for a job, and the one fix that makes something new: another
picture for a scene, kept with the job's L5 files and offered as an adjustment (`backgrounds.<scene>`)."""
from __future__ import annotations

import hashlib
import logging

from django.core.cache import cache
from django.db import transaction

from core.pipelines import current_pipeline
from jobs import files
from jobs.locks import job_for_update
from jobs.models import Asset, Job
from jobs.services.collaboration import NotInReview
from jobs.services.errors import InvalidInput
from jobs.services.review import adjusted_plan, parse_adjustments
from jobs.services.runner import gather_inputs, layer_context, save_assets
from pipeline import suggestions
from pipeline.contracts import PresetConfig, RenderPlan
from pipeline.errors import PipelineError
from pipeline.layers.l3_ideas.llm import ChatClient
from pipeline.render.compositor import scene_stills

logger = logging.getLogger("jobs")
CRITIQUE_APIS = ("openai", "anthropic", "gemini")
CRITIQUE_CACHE_S = 24 * 3600
CRITIQUE_WIDTH = 540
MAX_ALTERNATIVES = 12


def critique_api(config: PresetConfig, secrets: dict) -> str | None:
    """The vision model the preset's critique uses: the one it names, or the first whose key is set."""
    wanted = config.preview.critique
    if wanted == "off":
        return None
    if wanted != "auto":
        return wanted
    return next((api for api in CRITIQUE_APIS if secrets.get(api, {}).get("api_key")), None)


def _critique(job: Job, plan: RenderPlan, config: PresetConfig) -> tuple[list[suggestions.Suggestion], dict]:
    ctx = layer_context(job.pk, "L5", files.job_files_fetch(job.pk))
    api = critique_api(config, ctx.secrets)
    if api is None:
        return [], {"api": None, "note": "no vision model key is set: the checks above ran offline"}
    # A plan is critiqued once, whoever asks: the model's answer is kept for a day under the plan's digest.
    key = "critique:" + hashlib.sha256(plan.model_dump_json().encode()).hexdigest()
    text = cache.get(key)
    if text is None:
        try:
            stills = scene_stills(plan, ctx.work_dir, width=CRITIQUE_WIDTH)
            chat = ChatClient(api, {}, ctx, layer="L5", field="preview.critique")
            text = chat.complete_with_images(
                suggestions.CRITIQUE_SYSTEM,
                suggestions.critique_prompt(plan, [{"scene": s, "t": t} for s, t, _ in stills]),
                [jpeg for _, _, jpeg in stills])
        except PipelineError as exc:
            # The deterministic suggestions stand; the page says why the model's are missing.
            logger.warning("the %s critique of job %s failed: %s", api, job.pk, exc.describe())
            return [], {"api": api, "note": f"the {api} critique is unavailable: {exc.describe()}"}
        cache.set(key, text, CRITIQUE_CACHE_S)
    try:
        return suggestions.parse_critique(text, plan), {"api": api, "note": ""}
    except ValueError as exc:
        cache.delete(key)
        return [], {"api": api, "note": f"the {api} critique was not in the expected shape ({str(exc)[:200]})"}


def review_suggestions_for(*, job: Job, adjustments: dict | None) -> dict:
    """The suggestions for the plan as the reviewer sees it (these adjustments applied), with the critique's
    state: which model gave it, or why there is none."""
    parsed = parse_adjustments(adjustments)
    plan = adjusted_plan(job, parsed)
    config = PresetConfig.model_validate(job.preset.config)
    found = suggestions.review_suggestions(plan, parsed, base_dir=files.job_files_fetch(job.pk),
                                           accent=config.brand.accent_color)
    critiques, critique = _critique(job, plan, config)
    return {"suggestions": [s.model_dump(mode="json") for s in [*found, *critiques]], "critique": critique}


def scene_picture_remake(*, job_id, scene: str, user=None) -> dict:
    """Make another picture for one scene with the preset's image provider; answer the adjustment that puts it
    in the plan ({"backgrounds.<scene>": path}). The picture is kept with the job's L5 files, so whichever
    machine renders the approved plan has it."""
    from pipeline.layers import l5_media

    if not isinstance(scene, str) or not scene:
        raise InvalidInput({"scene": ["name the scene whose picture to make again"]})
    job = Job.objects.select_related("preset").get(pk=job_id)
    if job.status != Job.Status.AWAITING_REVIEW:
        raise NotInReview(job)
    pipeline = current_pipeline()
    media_layer = "L5"
    if media_layer not in {spec.name for spec in pipeline.layers}:
        raise InvalidInput({"scene": ["this pipeline makes no pictures to make again"]})
    made = Asset.objects.filter(job=job, layer=media_layer, path__startswith=f"{media_layer}/alt/{scene}-").count()
    if made >= MAX_ALTERNATIVES:
        raise InvalidInput({"scene": [f"{made} other pictures of {scene} were made already: pick one of them"]})
    try:
        folder = files.job_files_fetch(job.pk)
        inputs = gather_inputs(job, pipeline, pipeline.spec(media_layer))
        ctx = layer_context(job.pk, media_layer, folder)
        asset = l5_media.remake(inputs, ctx, scene, made + 1)
        files.job_files_publish(job.pk, [(a.path, a.sha256) for a in ctx.assets])
    except PipelineError as exc:
        raise InvalidInput({"scene": [exc.describe()]}) from exc
    with transaction.atomic():
        if job_for_update(job.pk) is None:
            raise Job.DoesNotExist(job.pk)
        save_assets(job, media_layer, ctx.assets)
    logger.info("another picture of %s for job %s: %s", scene, job.pk, asset.file)
    return {"scene": scene, "file": asset.file, "changes": {f"backgrounds.{scene}": asset.file}}
