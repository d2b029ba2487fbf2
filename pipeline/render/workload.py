"""The render benchmark's fixed workload (shared/bench/make_workload.py) as a RenderPlan."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from pipeline.audio import write_wav
from pipeline.contracts import RenderPlan
from pipeline.contracts.plan import Box
from pipeline.text import font_ref, layout

AUDIO_RATE = 44100
COMPLIANCE = "21+ · Gambling problem? Call 1-800-GAMBLER"


def plan_from_workload(workload_dir: Path) -> RenderPlan:
    """Read workload.json (backgrounds are relative to its folder) and write the narration tone beside it."""
    spec = json.loads((workload_dir / "workload.json").read_text())
    style = spec["caption_style"]
    font = font_ref("DejaVu Sans Bold", "DejaVuSans-Bold.ttf")
    width, height, duration = spec["width"], spec["height"], spec["duration"]
    tone = spec["audio"]
    t = np.arange(int(duration * AUDIO_RATE)) / AUDIO_RATE
    write_wav(workload_dir / "narration.wav", tone["amplitude"] * np.sin(2 * np.pi * tone["hz"] * t), AUDIO_RATE)
    scenes = []
    for index, scene in enumerate(spec["scenes"]):
        span = scene["end"] - scene["start"]
        # As wide as needed: the workload's captions break only where their text has a newline.
        box = Box(x=style["x"], y=style["y"], width=2 * width, height=400)
        lines = layout(scene["caption"], font_file=font.file, size=style["size"], box=box, line_height=1.15)
        scenes.append({
            "id": f"s{index}", "start": scene["start"], "end": scene["end"],
            "background": {"asset": scene["background"], "kenburns": {
                "from_scale": 1.0, "to_scale": 1 + scene["kenburns_zoom_per_s"] * span}},
            "layers": [{"type": "text", "id": f"caption_{index}", "role": "body", "text": scene["caption"],
                        "font": font.family, "size": style["size"], "base_size": style["size"],
                        "color": style["color"], "stroke_color": style["stroke_color"],
                        "stroke_width": style["stroke_width"], "box": box.model_dump(),
                        "lines": [line.model_dump() for line in lines], "start": scene["start"],
                        "end": scene["end"]}]})
    comp_box = Box(x=40, y=height - 90, width=width - 80, height=60)
    return RenderPlan.model_validate({
        "kind": "reel", "title": "render benchmark", "width": width, "height": height, "fps": spec["fps"],
        "duration": duration, "fonts": [font.model_dump()], "palette": [style["color"]],
        "audio": [{"file": "narration.wav", "role": "narration", "gain": 1.0}], "scenes": scenes,
        "overlay": [{"type": "text", "id": "compliance", "role": "compliance", "text": COMPLIANCE,
                     "font": font.family, "size": 28, "base_size": 28, "color": "#FFFFFF", "box": comp_box.model_dump(),
                     "lines": [line.model_dump() for line in layout(COMPLIANCE, font_file=font.file, size=28,
                                                                     box=comp_box, align="center")],
                     "align": "center", "start": 0, "end": duration, "editable": False}]})
