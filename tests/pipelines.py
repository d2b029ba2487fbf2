"""A small pipeline of test-only layers, so the job machine is tested apart from the real layers.

Behaviour is chosen by the job's `matchup_id` ("fail-L2", "crash-L2", "slow-L2", "nan-L2": an output
figure that is NaN, "badasset-L2": an asset whose metadata the database refuses), so it also works
in real worker processes. Each layer writes a real file, which the job records as an asset.
"""
from __future__ import annotations

import hashlib
import time
from collections import Counter
from typing import Any

from PIL import Image
from pydantic import AwareDatetime, Field

from pipeline.context import LayerContext, RecordedAsset
from pipeline.contracts import OutputFile, RenderPlan, RenderResult
from pipeline.contracts.base import Contract, JobFile
from pipeline.errors import APIError
from pipeline.registry import LayerInput, LayerSpec, Pipeline
from pipeline.text import font_ref, layout

# (job_id, layer) -> how many times the layer's work ran in this process.
WORK_DONE: Counter = Counter()


class Note(Contract):
    text: str = Field(min_length=1)
    file: JobFile
    # Loosely typed on purpose: what a layer's free-form output can carry past its field types.
    figures: dict[str, Any] = {}


def _behaviour(inputs: LayerInput, layer: str) -> None:
    wanted = inputs.job.matchup_id or ""
    if wanted == f"fail-{layer}":
        raise APIError("GET /v1/games answered 503", status=503, layer=layer, provider="fakeapi")
    if wanted == f"bad-{layer}":
        raise APIError("GET /v1/games answered 401", status=401, layer=layer, provider="fakeapi")
    if wanted == f"crash-{layer}":
        raise RuntimeError("simulated bug")
    if wanted == f"slow-{layer}":
        time.sleep(2)


def _note_layer(name: str, needs: tuple[str, ...]):
    def run(inputs: LayerInput, ctx: LayerContext) -> Note:
        WORK_DONE[(ctx.job_id, name)] += 1
        _behaviour(inputs, name)
        upstream = " + ".join(out.text for out in inputs.upstream.values())
        text = f"{name}({upstream or inputs.job.sport})"
        path = ctx.layer_dir / "note.txt"
        path.write_text(text)
        ctx.progress(0.5, "half way")
        wanted = inputs.job.matchup_id or ""
        metadata = {"loudness": float("nan")} if wanted == f"badasset-{name}" else {}
        ctx.record_asset(RecordedAsset(path=ctx.rel(path), kind="note", metadata=metadata,
                                       sha256=hashlib.sha256(path.read_bytes()).hexdigest()))
        figures = {"spread": float("nan")} if wanted == f"nan-{name}" else {}
        return Note(text=text, file=ctx.rel(path), figures=figures)

    return LayerSpec(name=name, title=f"test {name}", run=run, output_model=Note, needs=needs,
                     config_keys=("segments",) if name == "L3" else ())


def build_plan(inputs: LayerInput, ctx: LayerContext) -> RenderPlan:
    font = font_ref("DejaVu Sans Bold", "DejaVuSans-Bold.ttf")
    box = {"x": 40, "y": 40, "width": 500, "height": 200}
    headline = inputs.upstream["L3"].text
    compliance = "21+ · Gambling problem? Call 1-800-GAMBLER"
    comp_box = {"x": 20, "y": 900, "width": 600, "height": 40}
    return RenderPlan.model_validate({
        "kind": "reel", "width": 640, "height": 960, "fps": 10, "duration": 2.0,
        "fonts": [font.model_dump()], "palette": ["#FFFFFF", "#FFD400"],
        "scenes": [{"id": "s1", "start": 0, "end": 2.0, "background": {"color": "#102030"}, "layers": [{
            "type": "text", "id": "headline", "role": "headline", "text": headline, "font": font.family,
            "size": 48, "base_size": 48, "color": "#FFFFFF", "box": box, "start": 0.2, "end": 2.0,
            "lines": [line.model_dump() for line in layout(headline, font_file=font.file, size=48,
                                                            box=_box(box))]}]}],
        "overlay": [{"type": "text", "id": "compliance", "role": "compliance", "text": compliance,
                     "font": font.family, "size": 20, "base_size": 20, "color": "#FFFFFF", "box": comp_box,
                     "start": 0, "end": 2.0, "editable": False,
                     "lines": [line.model_dump() for line in layout(compliance, font_file=font.file, size=20,
                                                                     box=_box(comp_box))]}],
    })


def _box(data):
    from pipeline.contracts.plan import Box

    return Box.model_validate(data)


def render(inputs: LayerInput, ctx: LayerContext) -> RenderResult:
    WORK_DONE[(ctx.job_id, "L6")] += 1
    _behaviour(inputs, "L6")
    plan = inputs.plan
    path = ctx.layer_dir / "still.png"
    Image.new("RGB", (plan.width, plan.height), "#102030").save(path)
    data = path.read_bytes()
    ctx.record_asset(RecordedAsset(path=ctx.rel(path), kind="image", sha256=hashlib.sha256(data).hexdigest(),
                                   width=plan.width, height=plan.height))
    return RenderResult(plan_version=inputs.plan_version, files=[OutputFile(
        kind="image", file=ctx.rel(path), sha256=hashlib.sha256(data).hexdigest(), bytes=len(data),
        width=plan.width, height=plan.height)])


def tiny_pipeline() -> Pipeline:
    return Pipeline(
        layers=(
            _note_layer("L1", ()),
            _note_layer("L2", ("L1",)),
            _note_layer("L3", ("L2",)),
            LayerSpec(name="L6", title="test render", run=render, output_model=RenderResult, cacheable=False),
        ),
        review_after="L3",
        build_plan=build_plan,
    )


def scenes_plan(inputs: LayerInput, ctx: LayerContext) -> RenderPlan:
    """The tiny plan in two scenes of one second on pictures, the headline in the second: two scene chunks."""
    from pipeline.layers.l5_media import procedural

    plan = build_plan(inputs, ctx).model_dump(mode="json")
    for index, colours in enumerate([("#00338D", "#E31837"), ("#0B0F1A", "#FFB81C")]):
        path = ctx.work_dir / f"bg{index}.jpg"
        procedural.energy(plan["width"], plan["height"], *colours, f"scene{index}").save(path, quality=90)
        ctx.record_asset(RecordedAsset(path=path.name, kind="background", sha256=hashlib.sha256(
            path.read_bytes()).hexdigest(), width=plan["width"], height=plan["height"]))
    headline = plan["scenes"][0]["layers"][0]
    headline.update(start=1.0, end=2.0)
    plan["scenes"] = [
        {"id": "s1", "start": 0, "end": 1.0, "layers": [],
         "background": {"asset": "bg0.jpg", "kenburns": {"from_scale": 1.0, "to_scale": 1.1}}},
        {"id": "s2", "start": 1.0, "end": 2.0, "layers": [headline],
         "background": {"asset": "bg1.jpg", "kenburns": {"from_scale": 1.1, "to_scale": 1.0}}}]
    return RenderPlan.model_validate(plan)


def with_real_render() -> Pipeline:
    """The tiny layers up to review, then the real L6 (with its render ahead) on a two-scene plan."""
    from pipeline.layers import l6_assembly

    base = tiny_pipeline()
    real_l6 = LayerSpec("L6", "assembly", l6_assembly.run, RenderResult, cacheable=False, help=l6_assembly.help,
                        ahead=l6_assembly.render_ahead)
    return Pipeline(layers=(*base.layers[:3], real_l6), review_after="L3", build_plan=scenes_plan)


class Slot(Note):
    publish_at: AwareDatetime


def _slot_layer(inputs: LayerInput, ctx: LayerContext) -> Slot:
    """The tiny L2 with a calendar slot two hours ahead, as the real L2 gives one before the game."""
    from datetime import UTC, datetime, timedelta

    note = _note_layer("L2", ("L1",)).run(inputs, ctx)
    return Slot(**note.model_dump(), publish_at=datetime.now(UTC) + timedelta(hours=2))


def with_delivery() -> Pipeline:
    """The tiny pipeline with a calendar slot from L2 and the real L7 after its render."""
    from pipeline.contracts import DistributionResult
    from pipeline.layers import l7_distribution

    base = tiny_pipeline()
    l2 = LayerSpec(name="L2", title="test L2", run=_slot_layer, output_model=Slot, needs=("L1",))
    l7 = LayerSpec("L7", "distribution", l7_distribution.run, DistributionResult, needs=("L6",),
                   applies=l7_distribution.applies, cacheable=False)
    return Pipeline(layers=(base.layers[0], l2, base.layers[2], base.layers[3], l7), review_after="L3",
                    build_plan=build_plan)


def _publishable_render(inputs: LayerInput, ctx: LayerContext) -> RenderResult:
    """A small real render of each kind: a reel is an H.264/AAC MP4 made by FFmpeg (1 s), a carousel three slides,
    a still one image, as the platforms are sent them."""
    import subprocess

    import imageio_ffmpeg

    WORK_DONE[(ctx.job_id, "L6")] += 1
    kind = inputs.preset.format.kind
    files = []

    def add(path, kind_of: str, **extra) -> None:
        data = path.read_bytes()
        ctx.record_asset(RecordedAsset(path=ctx.rel(path), kind=kind_of, sha256=hashlib.sha256(data).hexdigest()))
        files.append(OutputFile(kind=kind_of, file=ctx.rel(path), sha256=hashlib.sha256(data).hexdigest(),
                                bytes=len(data), **extra))

    if kind == "reel":
        path = ctx.layer_dir / "reel.mp4"
        subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i",
                        "color=c=0x102030:s=108x192:r=30:d=1", "-f", "lavfi", "-i", "sine=f=440:d=1:r=48000",
                        "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", "-movflags", "+faststart",
                        str(path)], check=True, timeout=60)
        add(path, "video", width=108, height=192, duration=1.0)
    else:
        for index in range(3 if kind == "carousel" else 1):
            path = ctx.layer_dir / f"slide-{index + 1}.jpg"
            Image.new("RGB", (108, 135), ("#102030", "#203040", "#304050")[index]).save(path, quality=90)
            add(path, "slide" if kind == "carousel" else "image", width=108, height=135)
    return RenderResult(plan_version=inputs.plan_version, files=files)


def with_publishing() -> Pipeline:
    """with_delivery, with an L6 that makes a real file of each kind to publish."""
    base = with_delivery()
    l6 = LayerSpec(name="L6", title="test render", run=_publishable_render, output_model=RenderResult,
                   cacheable=False)
    return Pipeline(layers=(*base.layers[:3], l6, base.layers[4]), review_after="L3", build_plan=plan_with_post)


POST_CAPTION = "Bills at Chiefs: the line moved two points since Monday.\n\n21+ · Gambling problem? Call 1-800-GAMBLER"


def plan_with_post(inputs: LayerInput, ctx: LayerContext) -> RenderPlan:
    """The tiny plan with the post copy a reviewer approves with it (per job, so no two posts share a text)."""
    plan = build_plan(inputs, ctx).model_dump(mode="json")
    plan["post"] = {"caption": POST_CAPTION.replace("Monday", f"Monday ({ctx.job_id[:8]})"),
                    "hashtags": ["#NFL", "#BillsMafia", "#ChiefsKingdom"], "alt_text": {"s1": "The matchup card"}}
    return RenderPlan.model_validate(plan)
