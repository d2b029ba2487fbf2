"""Preset writes: duplicate, brand uploads, and thumbnails drawn by the real renderer from a sample plan."""
from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import shutil
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils.text import slugify
from PIL import Image

from pipeline.context import LayerContext
from pipeline.contracts import JobInputs, PresetConfig
from pipeline.motion import still_time
from pipeline.registry import LayerInput
from presets.models import Preset
from presets.uploads import clean_font, clean_image

SAMPLE_MATCHUP = "nfl-20261122-buf-kc"
THUMB_WIDTH = 270
THUMB_CACHE_S = 24 * 3600


def brand_dir() -> Path:
    path = Path(settings.MEDIA_ROOT) / "brand"
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
    config = json.loads(json.dumps(preset.config))
    config.setdefault("brand", {})["logo"] = name
    preset.config = config
    preset.save(update_fields=["config", "updated_at"])
    return name


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
    config = json.loads(json.dumps(preset.config))
    config.setdefault("brand", {})[role] = {"family": family.strip() or stem, "file": name}
    preset.config = config
    preset.save(update_fields=["config", "updated_at"])
    return name


def _offline(config: PresetConfig) -> PresetConfig:
    """The same preset with the offline providers: thumbnails cost nothing and need no keys."""
    data = config.model_dump(mode="json")
    data["providers"] = {"data": {"name": "fixture"}, "ideas": {"name": "template", "options": data["providers"][
        "ideas"]["options"]}, "audio": {"name": "espeak"}, "media": {"name": "procedural", "options": {
            k: v for k, v in data["providers"]["media"]["options"].items() if k == "style"}}}
    return PresetConfig.model_validate(data)


def sample_plan(config: PresetConfig, work_dir: Path):
    """Run L1..L5 on a sample matchup with the offline providers and build the plan, as a job would."""
    from pipeline.layers import l1_data, l2_calendar, l3_ideas, l4_audio, l5_media
    from pipeline.plan import build_plan

    offline = _offline(config)
    job = JobInputs(sport="nfl", matchup_id=SAMPLE_MATCHUP)
    options = {**settings.PIPELINE, "BRAND_DIR": brand_dir()}
    outputs = {}
    ctx = None
    for name, module, needs in (("L1", l1_data, ()), ("L2", l2_calendar, ("L1",)), ("L3", l3_ideas, ("L1", "L2")),
                                ("L4", l4_audio, ("L2", "L3")), ("L5", l5_media, ("L1", "L3"))):
        ctx = LayerContext(job_id="preset-sample", layer=name, work_dir=work_dir, options=options, cache=cache)
        outputs[name] = module.run(LayerInput(job=job, preset=offline, upstream={n: outputs[n] for n in needs}), ctx)
    return build_plan(LayerInput(job=job, preset=offline, upstream=outputs), ctx)


def _thumbnail(frame) -> str:
    image = Image.fromarray(frame)
    image = image.resize((THUMB_WIDTH, round(image.height * THUMB_WIDTH / image.width)), Image.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode()


def preset_thumbnails(config: PresetConfig) -> list[dict]:
    """Frames drawn by L6's compositor from a sample plan: first and middle frame, or every slide."""
    from pipeline.render.compositor import Compositor

    key = "preset-thumbs:" + hashlib.sha256(config.model_dump_json().encode()).hexdigest()
    if (cached := cache.get(key)) is not None:
        return cached
    work = Path(tempfile.mkdtemp(prefix="preset-", dir=brand_dir().parent))
    try:
        plan = sample_plan(config, work)
        compositor = Compositor(plan, work)
        if plan.kind == "reel":
            middle = plan.scenes[len(plan.scenes) // 2]
            first = plan.scenes[0]
            picks = [("first frame", still_time(first, [*first.layers, *plan.overlay])),
                     ("middle frame", still_time(middle, [*middle.layers, *plan.overlay]))]
        else:
            picks = [(f"slide {i}" if plan.kind == "carousel" else "image",
                      still_time(scene, [*scene.layers, *plan.overlay]))
                     for i, scene in enumerate(plan.scenes, start=1)]
        thumbs = [{"label": label, "t": round(t, 3), "src": _thumbnail(compositor.frame(t))} for label, t in picks]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    cache.set(key, thumbs, THUMB_CACHE_S)
    return thumbs
