"""Preset writes: duplicate, brand uploads, and thumbnails drawn by the real renderer from a sample plan."""
from __future__ import annotations

import base64
import hashlib
import io
import json
import logging
import os
import re
import shutil
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils.text import slugify
from PIL import Image

from core.folders import scratch_root
from core.store import brand_fetch, brand_publish
from pipeline.context import LayerContext
from pipeline.contracts import JobInputs, PresetConfig
from pipeline.motion import still_time
from pipeline.registry import LayerInput
from presets.models import Preset
from presets.uploads import clean_font, clean_image

logger = logging.getLogger("presets")
SAMPLE_MATCHUP = "nfl-20261122-buf-kc"
THUMB_WIDTH = 270
THUMB_CACHE_S = 24 * 3600
# A carousel's first slides show its look; drawing every slide would slow each edit down.
THUMB_SLIDES = 3
# The preset samples kept on disk (about 3-6 MB each): every shipped preset's and the ones edited last.
SAMPLES_KEPT = 24


def brand_dir() -> Path:
    """This machine's brand folder, holding every upload (fetched from the object store when there is one)."""
    path = brand_fetch()
    path.mkdir(parents=True, exist_ok=True)
    return path


def preset_duplicate(*, preset: Preset) -> Preset:
    """A copy of the preset under a new slug, inactive until someone turns it on."""
    with transaction.atomic():
        base = f"{preset.slug}-copy"
        slug, n = base, 1
        while Preset.objects.filter(slug=slug).exists():
            n += 1
            slug = f"{base}-{n}"
        return Preset.objects.create(slug=slug, name=f"{preset.name} (copy)", kind=preset.kind,
                                     config=json.loads(json.dumps(preset.config)), active=False)


def preset_set_logo(*, preset: Preset, uploaded) -> str:
    """Check the upload, keep it re-encoded as PNG in the brand folder, and point the preset at it."""
    image = clean_image(uploaded)
    name = f"{preset.slug}-logo.png"
    target = brand_dir() / name
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    from pipeline.files import atomic_write_bytes

    atomic_write_bytes(target, buffer.getvalue())
    brand_publish(name)
    config = json.loads(json.dumps(preset.config))
    config.setdefault("brand", {})["logo"] = name
    preset.config = config
    preset.save(update_fields=["config", "updated_at"])
    return name


TEAM_LOGO_SIDE = 512


def preset_set_team_logo(*, preset: Preset, uploaded, team: str) -> str:
    """Check an uploaded logo of one team as a brand logo is checked, keep it re-encoded as a PNG (at most 512 px
    a side) under a name from its content, and show it for that team instead of the drawn crest."""
    from presets.uploads import UploadRejected

    team = (team or "").strip().upper()
    if not re.fullmatch(r"[A-Z]{2,4}", team):
        raise UploadRejected("give the team's abbreviation as the studio shows it (two to four letters, e.g. KC)")
    image = clean_image(uploaded).convert("RGBA")
    image.thumbnail((TEAM_LOGO_SIDE, TEAM_LOGO_SIDE))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    data = buffer.getvalue()
    # Named by content: a new logo changes the preset's L5 inputs, so cached crests are not reused.
    name = f"{slugify(preset.slug)}-team-{team}-{hashlib.sha256(data).hexdigest()[:12]}.png"
    from pipeline.files import atomic_write_bytes

    atomic_write_bytes(brand_dir() / name, data)
    brand_publish(name)
    config = json.loads(json.dumps(preset.config))
    config.setdefault("brand", {}).setdefault("team_logos", {})[team] = name
    preset.config = config
    preset.save(update_fields=["config", "updated_at"])
    return name


REFERENCES_MAX = 4
REFERENCE_SIDE = 1536


def preset_add_reference(*, preset: Preset, uploaded) -> str:
    """Check an uploaded reference image as a logo is checked, keep it re-encoded (at most 1536 px a side) under
    a name from its content, and add it to the preset's references (at most four)."""
    from presets.uploads import UploadRejected

    references = list(PresetConfig.model_validate(preset.config).brand.references)
    if len(references) >= REFERENCES_MAX:
        raise UploadRejected(f"the preset has {REFERENCES_MAX} reference images already; remove one first")
    image = clean_image(uploaded).convert("RGB")
    image.thumbnail((REFERENCE_SIDE, REFERENCE_SIDE))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    data = buffer.getvalue()
    # Named by content: a new picture changes the preset's L5 inputs, so the layer's cached art is not reused.
    name = f"{slugify(preset.slug)}-ref-{hashlib.sha256(data).hexdigest()[:12]}.jpg"
    from pipeline.files import atomic_write_bytes

    atomic_write_bytes(brand_dir() / name, data)
    brand_publish(name)
    if name not in references:
        config = json.loads(json.dumps(preset.config))
        config.setdefault("brand", {})["references"] = [*references, name]
        preset.config = config
        preset.save(update_fields=["config", "updated_at"])
    return name


def preset_remove_reference(*, preset: Preset, name: str) -> None:
    """Take a reference image off the preset (the file stays: other presets or earlier jobs may use it)."""
    references = list(PresetConfig.model_validate(preset.config).brand.references)
    if name not in references:
        raise ValueError(f"the preset has no reference image {name[:80]!r}")
    config = json.loads(json.dumps(preset.config))
    config["brand"]["references"] = [r for r in references if r != name]
    preset.config = config
    preset.save(update_fields=["config", "updated_at"])


def preset_add_font(*, preset: Preset, uploaded, role: str, family: str) -> str:
    """Check an uploaded font, keep it in the brand font folder, and use it for headings or body text."""
    if role not in ("heading_font", "body_font"):
        raise ValueError("role must be heading_font or body_font")
    data = clean_font(uploaded)
    stem = re.sub(r"[^A-Za-z0-9._-]", "-", Path(getattr(uploaded, "name", "font.ttf")).stem)[:60] or "font"
    name = f"{slugify(preset.slug)}-{stem}{'.otf' if data.startswith(b'OTTO') else '.ttf'}"
    folder = brand_dir() / "fonts"
    folder.mkdir(parents=True, exist_ok=True)
    from pipeline.files import atomic_write_bytes

    atomic_write_bytes(folder / name, data)
    brand_publish(f"fonts/{name}")
    config = json.loads(json.dumps(preset.config))
    config.setdefault("brand", {})[role] = {"family": family.strip() or stem, "file": name}
    preset.config = config
    preset.save(update_fields=["config", "updated_at"])
    return name


def _offline(config: PresetConfig) -> PresetConfig:
    """The same preset with the offline providers: thumbnails cost nothing and need no keys."""
    data = config.model_dump(mode="json")
    data["providers"] = {"data": {"name": "fixture"}, "ideas": {"name": "template", "options": data["providers"][
        "ideas"]["options"]}, "audio": {"name": "piper"}, "media": {"name": "procedural", "options": {
            k: v for k, v in data["providers"]["media"]["options"].items() if k == "style"}}}
    return PresetConfig.model_validate(data)


def _sample_key(pipeline, config: PresetConfig) -> str:
    """What the sample's L1..L5 outputs depend on: the preset fields each of those layers reads (the registry's
    config_keys) and the layers' versions. Fonts, colours, sizes and safe zones are not among them, so editing
    those reuses the outputs and only the plan and the frames are drawn again."""
    from pipeline.registry import _select

    parts = {spec.name: {"version": spec.version, **{key: _select(config, key) for key in spec.config_keys}}
             for spec in _sample_specs(pipeline)}
    return hashlib.sha256(json.dumps({"matchup": SAMPLE_MATCHUP, "layers": parts}, sort_keys=True,
                                     default=str).encode()).hexdigest()[:24]


def _sample_specs(pipeline):
    return pipeline.review_layers


def sample_outputs(config: PresetConfig):
    """The sample matchup's L1..L5 outputs for this preset (offline providers), computed once and kept in
    MEDIA_ROOT/presets/samples/<key>/; returns (pipeline, outputs, folder)."""
    from core.pipelines import current_pipeline

    pipeline = current_pipeline()
    offline = _offline(config)
    folder = scratch_root() / "presets" / "samples" / _sample_key(pipeline, offline)
    stored = folder / "outputs.json"
    if not stored.is_file():
        _compute_sample(pipeline, offline, folder)
        samples_prune(folder.parent, keep=SAMPLES_KEPT, spare=folder)
    else:
        os.utime(folder)  # used: the pruning keeps the samples used last
    saved = json.loads(stored.read_text())
    outputs = {spec.name: spec.output_model.model_validate(saved[spec.name], context={"base_dir": folder})
               for spec in _sample_specs(pipeline)}
    return pipeline, outputs, folder


def samples_prune(parent: Path, *, keep: int, spare: Path | None = None) -> int:
    """Remove all but the `keep` samples used last (each edit of the options L1..L5 read makes one, and they
    would otherwise fill the disk); returns how many were removed."""
    kept = sorted((p for p in parent.iterdir() if p.is_dir() and not p.name.startswith(".")),
                  key=lambda p: p.stat().st_mtime, reverse=True)
    removed = 0
    for old in kept[keep:]:
        if old != spare:
            shutil.rmtree(old, ignore_errors=True)
            removed += 1
    return removed


def _compute_sample(pipeline, offline: PresetConfig, folder: Path) -> None:
    """Run L1..L5 in a scratch folder and publish it whole under `folder` (a second writer finds it there)."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".sample-", dir=folder.parent))
    try:
        job = JobInputs(sport="nfl", matchup_id=SAMPLE_MATCHUP)
        options = {**settings.PIPELINE, "BRAND_DIR": brand_dir()}
        outputs = {}
        for spec in _sample_specs(pipeline):
            ctx = LayerContext(job_id="preset-sample", layer=spec.name, work_dir=scratch, options=options,
                               cache=cache)
            upstream = {name: outputs[name] for name in spec.needs}
            outputs[spec.name] = spec.run(LayerInput(job=job, preset=offline, upstream=upstream), ctx)
        (scratch / "outputs.json").write_text(json.dumps({n: o.model_dump(mode="json") for n, o in outputs.items()}))
        try:
            scratch.rename(folder)
        except OSError:
            # Another request published the same sample first: its copy is kept, this one is dropped below.
            logger.info("preset sample %s was published by another request", folder.name)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def sample_plan(config: PresetConfig, work_dir: Path | None = None, *, measure_fit: bool = True):
    """(plan, folder): the plan a job of this preset builds for the sample matchup, and the folder its files are
    in. The L1..L5 outputs are the preset's kept sample; with `work_dir`, they are computed there afresh."""
    if work_dir is None:
        pipeline, outputs, folder = sample_outputs(config)
    else:
        from core.pipelines import current_pipeline

        pipeline, folder = current_pipeline(), Path(work_dir) / "sample"
        _compute_sample(pipeline, _offline(config), folder)
        saved = json.loads((folder / "outputs.json").read_text())
        outputs = {spec.name: spec.output_model.model_validate(saved[spec.name], context={"base_dir": folder})
                   for spec in _sample_specs(pipeline)}
    ctx = LayerContext(job_id="preset-sample", layer=pipeline.review_after, work_dir=folder,
                       options={**settings.PIPELINE, "BRAND_DIR": brand_dir(), "MEASURE_FIT": measure_fit},
                       cache=cache)
    job = JobInputs(sport="nfl", matchup_id=SAMPLE_MATCHUP)
    return pipeline.build_plan(LayerInput(job=job, preset=_offline(config), upstream=outputs), ctx), folder


def _thumbnail(frame) -> str:
    image = Image.fromarray(frame)
    factor = image.width // THUMB_WIDTH
    if image.width == factor * THUMB_WIDTH:
        image = image.reduce(factor)  # a whole factor (1080 -> 270): a box filter, fast and clean
    else:
        image = image.resize((THUMB_WIDTH, round(image.height * THUMB_WIDTH / image.width)), Image.LANCZOS,
                             reducing_gap=2.0)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode()


def _captions_at(layer, times: list[float]):
    """The caption layer with only the groups shown at `times` (the others are never drawn in a thumbnail)."""
    shown = [group for group in layer.groups if any(group.start <= t < group.end for t in times)]
    return layer.model_copy(update={"groups": shown or layer.groups[:1]})


def sample_lengths(config: PresetConfig) -> list[dict]:
    """A reel's segments in the sample as they come out, beside the lengths the preset sets, with why they differ
    (pipeline/layers/l4_audio.lengths_explained). A carousel's slides last slide_seconds; a still has none."""
    from pipeline.layers.l4_audio import lengths_explained

    if config.format.kind != "reel":
        return []
    _, outputs, _ = sample_outputs(config)
    return lengths_explained(outputs["L4"], outputs["L2"], config.voice)


def preset_thumbnails(config: PresetConfig) -> list[dict]:
    """Frames drawn by L6's compositor from the sample plan: first and middle frame, or every slide."""
    from pipeline.render.compositor import Compositor

    key = "preset-thumbs:" + hashlib.sha256(config.model_dump_json().encode()).hexdigest()
    if (cached := cache.get(key)) is not None:
        return cached
    plan, folder = sample_plan(config, measure_fit=False)
    if plan.kind == "reel":
        first, middle = plan.scenes[0], plan.scenes[len(plan.scenes) // 2]
        picks = [("first frame", first), ("middle frame", middle)]
    else:
        picks = [(f"slide {i} of {len(plan.scenes)}" if plan.kind == "carousel" else "image", scene)
                 for i, scene in enumerate(plan.scenes[:THUMB_SLIDES], start=1)]
    # Only the scenes and caption lines drawn are prepared: the compositor pre-draws every layer it is given.
    times = [still_time(scene, [*scene.layers, *plan.overlay]) for _, scene in picks]
    overlay = [_captions_at(layer, times) if layer.type == "captions" else layer for layer in plan.overlay]
    shown = plan.model_copy(update={"scenes": list({scene.id: scene for _, scene in picks}.values()),
                                    "overlay": overlay})
    compositor = Compositor(shown, folder, keep_pictures=True)
    thumbs = []
    for label, scene in picks:
        t = still_time(scene, [*scene.layers, *plan.overlay])
        thumbs.append({"label": label, "t": round(t, 3), "src": _thumbnail(compositor.frame(t))})
    cache.set(key, thumbs, THUMB_CACHE_S)
    return thumbs
