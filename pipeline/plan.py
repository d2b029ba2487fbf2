"""The RenderPlan builder and the one function that applies a reviewer's adjustments."""
from __future__ import annotations

import re

from pipeline.contracts import Adjustments, RenderPlan
from pipeline.contracts.plan import TextLayer, TextRole
from pipeline.errors import PipelineError
from pipeline.text import layout

_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?")
MIN_VISIBLE_S = 0.25


class AdjustmentError(PipelineError):
    """An adjustment that cannot be applied; `field` names it (e.g. text_edits.prop_1_headline)."""


def _check_targets(plan: RenderPlan, adjustments: Adjustments) -> dict[str, TextLayer]:
    texts = {layer.id: layer for layer in plan.all_layers() if isinstance(layer, TextLayer)}
    for group in ("layer_scale", "text_edits", "colors"):
        for layer_id in getattr(adjustments, group):
            field = f"{group}.{layer_id}"
            if layer_id not in texts:
                raise AdjustmentError(f"there is no text layer {layer_id!r} in this plan", field=field)
            if not texts[layer_id].editable:
                raise AdjustmentError(f"{layer_id} is the compliance text; it cannot be changed", field=field)
    for layer_id, color in adjustments.colors.items():
        if color not in plan.palette:
            raise AdjustmentError(f"{color} is not a brand colour (pick one of {', '.join(plan.palette)})",
                                  field=f"colors.{layer_id}")
    for layer_id, text in adjustments.text_edits.items():
        sourced = {f.text.lstrip("+") for f in texts[layer_id].sources}
        for number in _NUMBER.findall(text):
            if number.lstrip("+") not in sourced:
                raise AdjustmentError(
                    f"the number {number} in the new text of {layer_id} does not come from the data "
                    f"(it may show: {', '.join(sorted(sourced)) or 'no numbers'})", field=f"text_edits.{layer_id}")
    return texts


def apply_adjustments(plan: RenderPlan, adjustments: Adjustments) -> RenderPlan:
    """Return a new plan with the adjustments applied and the changed text laid out again.

    The compliance text is never editable, never smaller than built, and always
    spans the whole piece, whatever the adjustments say.
    """
    _check_targets(plan, adjustments)
    data = plan.model_dump(mode="json")
    scene_ranges = {scene["id"]: (scene["start"], scene["end"]) for scene in data["scenes"]}
    fonts = {font.family: font.file for font in plan.fonts}

    def adjust(layer: dict, scene_id: str | None) -> None:
        if layer["type"] != "text":
            return
        if layer["role"] == TextRole.COMPLIANCE:
            layer["size"] = max(layer["size"], layer["base_size"])
            layer["start"], layer["end"] = 0.0, plan.duration
            return
        layer["size"] = round(layer["base_size"] * adjustments.text_scale
                              * adjustments.layer_scale.get(layer["id"], 1.0), 2)
        layer["text"] = adjustments.text_edits.get(layer["id"], layer["text"])
        layer["color"] = adjustments.colors.get(layer["id"], layer["color"])
        if scene_id is not None and adjustments.timing_offset:
            low, high = scene_ranges[scene_id]
            start = min(max(layer["start"] + adjustments.timing_offset, low), high - MIN_VISIBLE_S)
            layer["start"], layer["end"] = round(start, 4), round(max(layer["end"], start + MIN_VISIBLE_S), 4)
            layer["end"] = min(layer["end"], high)
        lines = layout(layer["text"], font_file=fonts[layer["font"]], size=layer["size"],
                       box=TextLayer.model_validate(layer).box, align=layer["align"], valign=layer["valign"],
                       line_height=layer["line_height"])
        layer["lines"] = [line.model_dump() for line in lines]

    for scene in data["scenes"]:
        for layer in scene["layers"]:
            adjust(layer, scene["id"])
    for layer in data["overlay"]:
        adjust(layer, None)
    return RenderPlan.model_validate(data)
