"""What a reviewer can change on the review page. Applied on the server by pipeline.plan.apply_adjustments."""
from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from pipeline.contracts.base import Contract, HexColor, JobFile


class Adjustments(Contract):
    text_scale: float = Field(default=1.0, ge=0.5, le=2.0, description="multiplies every text size")
    layer_scale: dict[str, float] = Field(default={}, description="per text layer size multipliers")
    timing_offset: float = Field(default=0.0, ge=-2.0, le=2.0,
                                 description="seconds added to when on-screen text appears")
    text_edits: dict[str, str] = Field(default={}, description="layer id -> new text")
    colors: dict[str, HexColor] = Field(default={}, description="layer id -> a colour from the brand palette")
    caption_edits: dict[str, str] = Field(default={}, description="caption group number -> its corrected words")
    backgrounds: dict[str, JobFile] = Field(default={}, description="scene id -> another picture made for it "
                                                                     "(the review's 'another image')")
    # The post that goes with the piece (RenderPlan.post); empty: as L3 wrote it.
    post_caption: str = Field(default="", max_length=2200, description="the post's caption")
    post_hashtags: str = Field(default="", max_length=3100, description="the post's hashtags, space separated")
    alt_text: dict[str, str] = Field(default={}, description="scene id -> the image's description")
    captions_off: dict[str, bool] = Field(default={}, description="scene id -> true: no captions drawn while it "
                                                                   "shows (they would repeat its own text)")

    @field_validator("layer_scale")
    @classmethod
    def _scales_in_range(cls, value: dict[str, float]) -> dict[str, float]:
        for layer_id, scale in value.items():
            if not 0.5 <= scale <= 2.0:
                raise ValueError(f"scale for {layer_id} must be between 0.5 and 2.0")
        return value

    @field_validator("text_edits")
    @classmethod
    def _edits_are_text(cls, value: dict[str, str]) -> dict[str, str]:
        for layer_id, text in value.items():
            if not text.strip():
                raise ValueError(f"the text of {layer_id} cannot be empty")
            if len(text) > 400:
                raise ValueError(f"the text of {layer_id} is longer than 400 characters")
        return {k: v.strip() for k, v in value.items()}

    @field_validator("caption_edits")
    @classmethod
    def _caption_edits(cls, value: dict[str, str]) -> dict[str, str]:
        for group, text in value.items():
            if not group.isdigit():
                raise ValueError(f"caption group {group!r} is not a number")
            if not text.strip() or len(text) > 120:
                raise ValueError(f"the words of caption group {group} must be 1 to 120 characters")
        return {k: " ".join(v.split()) for k, v in value.items()}

    @field_validator("post_caption", "post_hashtags")
    @classmethod
    def _post_text(cls, value: str) -> str:
        return value.strip()

    @field_validator("alt_text")
    @classmethod
    def _alt_text(cls, value: dict[str, str]) -> dict[str, str]:
        for scene, text in value.items():
            if not text.strip() or len(text) > 1000:
                raise ValueError(f"the alt text of {scene} must be 1 to 1000 characters")
        return {k: " ".join(v.split()) for k, v in value.items()}

    @field_validator("captions_off")
    @classmethod
    def _captions_off(cls, value: dict[str, bool]) -> dict[str, bool]:
        return {scene: True for scene, off in value.items() if off}  # false is captions as built: no entry

    def is_empty(self) -> bool:
        return self == Adjustments()

    # ------------------------------------------------------------------ fields (the shared draft's unit)
    # A field is one thing a reviewer sets: "text_scale", "timing_offset", or one entry of a per-layer map
    # ("text_edits.s2-title"). Two reviewers editing one draft merge field by field, the later write winning.

    def fields(self) -> dict[str, Any]:
        """Every field that differs from the plan as built, by its dotted name."""
        out: dict[str, Any] = {}
        for name in SCALARS:
            if getattr(self, name) != type(self).model_fields[name].default:
                out[name] = getattr(self, name)
        for name in MAPS:
            for key, value in getattr(self, name).items():
                out[f"{name}.{key}"] = value
        return out

    def with_fields(self, changes: dict[str, Any]) -> Adjustments:
        """These adjustments with some fields set (None: back to the plan as built); validated again.

        Raises ValueError naming a field that is not one."""
        data = self.model_dump(mode="json")
        for field, value in changes.items():
            name, _, key = field.partition(".") if isinstance(field, str) else ("", "", "")
            if name in SCALARS and not key:
                data[name] = type(self).model_fields[name].default if value is None else value
            elif name in MAPS and key and len(key) <= 80:
                if value is None:
                    data[name].pop(key, None)
                else:
                    data[name][key] = value
            else:
                raise ValueError(f"{str(field)[:80]!r} is not something a reviewer can adjust")
        return type(self).model_validate(data)


SCALARS = ("text_scale", "timing_offset", "post_caption", "post_hashtags")
MAPS = ("layer_scale", "text_edits", "colors", "caption_edits", "backgrounds", "alt_text", "captions_off")


def _scale(value: float) -> str:
    return f"{round(value * 100)} %"


def describe_changes(before: Adjustments, after: Adjustments, labels=None) -> list[str]:
    """What changed between two sets of adjustments, as sentences a person reads (plan versions, drafts,
    rollbacks); with the plan's `labels` (pipeline/labels.py), layers and scenes named as the page names them."""
    layer = labels.layer if labels else str
    scene_name = labels.scene if labels else str
    slide = (lambda key: labels.slides.get(key, key)) if labels else str
    changes = []
    if before.text_scale != after.text_scale:
        changes.append(f"All text size {_scale(before.text_scale)} → {_scale(after.text_scale)}")
    if before.timing_offset != after.timing_offset:
        changes.append(f"Text timing {before.timing_offset:+.2f} s → {after.timing_offset:+.2f} s")
    for name in sorted(set(before.layer_scale) | set(after.layer_scale)):
        old, new = before.layer_scale.get(name, 1.0), after.layer_scale.get(name, 1.0)
        if old != new:
            changes.append(f"Size of {layer(name)} {_scale(old)} → {_scale(new)}")
    for what, name in (("Text", "text_edits"), ("Colour", "colors"), ("Caption", "caption_edits")):
        old_map, new_map = getattr(before, name), getattr(after, name)
        for key in sorted(set(old_map) | set(new_map)):
            old, new = old_map.get(key), new_map.get(key)
            if old == new:
                continue
            # "Caption line 3", as the Captions panel numbers its lines; "Text of Pick 1 headline"
            label = f"{what} line {int(key) + 1}" if name == "caption_edits" else f"{what} of {layer(key)}"
            if new is None:
                changes.append(f"{label} set back to the original")
            elif name == "colors":
                changes.append(f"{label} changed to {new}")
            else:
                changes.append(f"{label} changed to “{new}”")
    if before.post_caption != after.post_caption:
        changes.append("Post caption set back to the original" if not after.post_caption else "Post caption edited")
    if before.post_hashtags != after.post_hashtags:
        changes.append("Hashtags set back to the original" if not after.post_hashtags
                       else f"Hashtags changed to “{after.post_hashtags[:120]}”")
    for scene in sorted(set(before.alt_text) | set(after.alt_text)):
        if before.alt_text.get(scene) != after.alt_text.get(scene):
            changes.append(f"Alt text of {slide(scene)} set back to the original" if scene not in after.alt_text
                           else f"Alt text of {slide(scene)} changed to “{after.alt_text[scene][:120]}”")
    for scene in sorted(set(before.captions_off) ^ set(after.captions_off)):
        changes.append(f"Captions off during {scene_name(scene)}" if scene in after.captions_off
                       else f"Captions back on during {scene_name(scene)}")
    for scene in sorted(set(before.backgrounds) | set(after.backgrounds)):
        if before.backgrounds.get(scene) != after.backgrounds.get(scene):
            changes.append(f"Picture of {scene_name(scene)} set back to the original"
                           if scene not in after.backgrounds else f"Picture of {scene_name(scene)} replaced")
    return changes
