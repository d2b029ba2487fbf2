"""What people call the parts of a plan: "Pick 1 headline", "Slide 3 (Pick 1)", "Caption line 4". Every message a
person reads (the review page's fields and errors, the draft's history, suggestions) names a scene, a layer or an
adjustment field through here, never by its id ("prop_1_title", "caption_edits.3"), so the page and the server say
the same thing."""
from __future__ import annotations

import re

from pipeline.contracts.plan import RenderPlan, TextLayer

SEGMENTS = {"hook": "Hook", "matchup": "Matchup", "cta": "Call to action"}
ROLES = {"headline": "headline", "body": "line under it", "stat": "stat", "cta": "call to action",
         "compliance": "responsible-gambling line", "stamp": "odds stamp"}
FIELDS = {"text_scale": "Text size", "timing_offset": "Text timing", "post_caption": "Post caption",
          "post_hashtags": "Hashtags", "adjustments": "These changes", "text_edits": "Words on screen",
          "colors": "Colours", "layer_scale": "Sizes", "caption_edits": "Captions", "alt_text": "Alt text",
          "captions_off": "Captions", "backgrounds": "Pictures"}


def segment_label(segment: str) -> str:
    """A script segment as people call it: "Hook", "Pick 2", "Call to action"."""
    return SEGMENTS.get(segment) or (f"Pick {segment.removeprefix('prop_')}" if segment.startswith("prop_")
                                     else segment.replace("_", " ").capitalize())


class Labels:
    def __init__(self, plan: RenderPlan) -> None:
        self.scenes: dict[str, str] = {}
        self.layers: dict[str, str] = {}
        carousel = plan.kind == "carousel"
        for index, scene in enumerate(plan.scenes):
            segment = scene.segment_id or scene.id
            name = segment_label(segment)
            if scene.id != segment:
                name += ", numbers"  # the segment's second shot
            self.scenes[scene.id] = f"Slide {index + 1} ({name})" if carousel else name
            for layer in scene.layers:
                if isinstance(layer, TextLayer):
                    self.layers[layer.id] = f"{self.scenes[scene.id]} {ROLES.get(layer.role, layer.role)}"
        for layer in plan.overlay:
            if isinstance(layer, TextLayer):
                self.layers[layer.id] = ROLES.get(layer.role, layer.role).capitalize()
        self.slides = {scene.id: f"slide {index + 1}" for index, scene in enumerate(plan.scenes)}

    def scene(self, scene_id: str) -> str:
        return self.scenes.get(scene_id, scene_id)

    def layer(self, layer_id: str) -> str:
        return self.layers.get(layer_id, layer_id)

    def field(self, field: str) -> str:
        """An adjustment field ("text_edits.prop_1_title") as the review page labels it ("Pick 1 headline")."""
        name, _, key = field.partition(".")
        if not key:
            return FIELDS.get(name, name.replace("_", " ").capitalize())
        if name in ("text_edits", "colors", "layer_scale"):
            what = {"text_edits": "words", "colors": "colour", "layer_scale": "size"}[name]
            return f"{self.layer(key)} ({what})"
        if name == "caption_edits" and key.isdigit():
            return f"Caption line {int(key) + 1}"
        if name == "alt_text":
            return f"Alt text, {self.slides.get(key, key)}"
        if name == "captions_off":
            return f"Captions during {self.scene(key)}"
        if name == "backgrounds":
            return f"Picture of {self.scene(key)}"
        return field

    def say(self, text: str) -> str:
        """A message with the ids in it replaced by their labels ("the text of hook_headline cannot be empty" ->
        "the text of Hook headline cannot be empty"). Only ids no word could be (with an underscore or a digit)
        are replaced, longest first, so "hook" in a sentence stays a word."""
        names = {**self.scenes, **self.layers}
        ids = sorted((i for i in names if "_" in i or any(c.isdigit() for c in i)), key=len, reverse=True)
        if not ids:
            return text
        pattern = re.compile(r"(?<![\w.])(" + "|".join(map(re.escape, ids)) + r")(?![\w])")
        return pattern.sub(lambda match: names[match.group(1)], text)

    def as_dict(self) -> dict:
        """For the review page, which labels its fields and the server's errors with these."""
        return {"scenes": self.scenes, "layers": self.layers}
