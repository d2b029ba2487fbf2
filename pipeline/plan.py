"""The RenderPlan builder and the one function that applies a reviewer's adjustments."""
from __future__ import annotations

from pathlib import Path

from pipeline import design
from pipeline.contracts import Adjustments, RenderPlan
from pipeline.contracts.l3 import numbers_in
from pipeline.contracts.plan import MAX_TEXT_PX, TextLayer, TextRole
from pipeline.contracts.preset import LayoutRules
from pipeline.errors import AdjustmentError, PipelineError

MIN_VISIBLE_S = 0.25


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
    scenes = {scene.id for scene in plan.scenes}
    for scene_id in adjustments.backgrounds:
        if scene_id not in scenes:
            raise AdjustmentError(f"there is no scene {scene_id!r} in this plan", field=f"backgrounds.{scene_id}")
    for layer_id, text in adjustments.text_edits.items():
        _numbers_from_data(text, {f.text.lstrip("+") for f in texts[layer_id].sources},
                           f"the new text of {layer_id}", f"text_edits.{layer_id}")
    return texts


def _numbers_from_data(text: str, allowed: set[str], where: str, field: str) -> None:
    """A reviewer's words may only carry the numbers the data gave the place they go: refuse any other."""
    for number in numbers_in(text):
        if number not in allowed:
            raise AdjustmentError(f"the number {number} in {where} does not come from the data "
                                  f"(it may use: {', '.join(sorted(allowed)) or 'no numbers'})", field=field)


def _edit_post(plan: RenderPlan, post: dict, adjustments: Adjustments) -> None:
    """The reviewer's post copy: the caption's numbers must be the data's (as the plan shows them, or as the
    caption was written), the hashtags hashtags, the alt text for the plan's images."""
    from pipeline.post import parse_hashtags

    if adjustments.post_caption:
        allowed = {figure.text.lstrip("+") for layer in plan.all_layers() for figure in getattr(layer, "sources", [])}
        allowed |= {number.lstrip("-") for number in allowed} | set(numbers_in(plan.post.caption))
        _numbers_from_data(adjustments.post_caption, allowed, "the post caption", "post_caption")
        post["caption"] = adjustments.post_caption
    if adjustments.post_hashtags:
        try:
            tags = parse_hashtags(adjustments.post_hashtags)
        except ValueError as exc:
            raise AdjustmentError(str(exc), field="post_hashtags") from None
        if len(tags) > 30:
            raise AdjustmentError(f"{len(tags)} hashtags: Instagram takes at most 30", field="post_hashtags")
        post["hashtags"] = tags
    for scene_id, text in adjustments.alt_text.items():
        if scene_id not in plan.post.alt_text:
            raise AdjustmentError(f"{scene_id} is not an image of this piece", field=f"alt_text.{scene_id}")
        post["alt_text"][scene_id] = text


def apply_adjustments(plan: RenderPlan, adjustments: Adjustments, *, base_dir: Path) -> RenderPlan:
    """Return a new plan with the adjustments applied, held to the design rules (pipeline/design.py).

    The compliance text is never editable, never smaller than built, and always spans the whole piece,
    whatever the adjustments say. A wording that does not fit even at its floor size, or (with the
    `refuse` treatment) a colour that does not read, is refused with an AdjustmentError naming it.
    `base_dir` is the job's folder: contrast is measured against its pictures.
    """
    _check_targets(plan, adjustments)
    data = plan.model_dump(mode="json")
    scene_ranges = {scene["id"]: (scene["start"], scene["end"]) for scene in data["scenes"]}

    def adjust(layer: dict, scene_id: str | None) -> None:
        if layer["type"] != "text":
            return
        if layer["role"] == TextRole.COMPLIANCE:
            layer["size"] = max(layer["size"], layer["base_size"])
            layer["start"], layer["end"] = 0.0, plan.duration
            return
        # Held to the largest size a plan may set: a display face's stat at twice its size, scaled up twice
        # again, would be refused by the plan's own contract.
        layer["size"] = round(min(MAX_TEXT_PX, layer["base_size"] * adjustments.text_scale
                                  * adjustments.layer_scale.get(layer["id"], 1.0)), 2)
        layer["text"] = adjustments.text_edits.get(layer["id"], layer["text"])
        layer["color"] = adjustments.colors.get(layer["id"], layer["color"])
        if scene_id is not None and adjustments.timing_offset:
            low, high = scene_ranges[scene_id]
            start = min(max(layer["start"] + adjustments.timing_offset, low), high - MIN_VISIBLE_S)
            layer["start"], layer["end"] = round(start, 4), round(max(layer["end"], start + MIN_VISIBLE_S), 4)
            layer["end"] = min(layer["end"], high)

    for scene in data["scenes"]:
        # A segment's shots share its picture: one picked for its first shot is the numbers shot's too.
        if picture := adjustments.backgrounds.get(scene["id"]) or adjustments.backgrounds.get(
                scene.get("segment_id") or ""):
            if not _is_picture(base_dir / picture):
                raise AdjustmentError(f"{picture} is not a picture in this job's files",
                                      field=f"backgrounds.{scene['id']}", hint="ask for another image again")
            scene["background"]["asset"] = picture
        for layer in scene["layers"]:
            adjust(layer, scene["id"])
    for layer in data["overlay"]:
        adjust(layer, None)
    for layer in data["overlay"]:
        if layer["type"] == "captions" and adjustments.caption_edits:
            _correct_captions(layer, adjustments.caption_edits, {f.family: f for f in plan.fonts})
    if adjustments.caption_edits and not any(layer["type"] == "captions" for layer in data["overlay"]):
        raise AdjustmentError("this plan has no captions to correct", field="caption_edits")
    _captions_off(data, adjustments.captions_off, scene_ranges)
    _edit_post(plan, data["post"], adjustments)
    try:
        # A plan built before its floors were recorded (no min_size) takes the default floors.
        # The edited wordings are measured again: the fit meter shows the server's own verdict on them.
        design.enforce(data, base_dir=base_dir, min_sizes=dict(LayoutRules().min_sizes), picks=adjustments.colors,
                       measure=set(adjustments.text_edits))
    except AdjustmentError:
        raise
    except PipelineError as exc:
        raise AdjustmentError(exc.message, field=exc.field, hint=exc.hint) from exc
    adjusted = RenderPlan.model_validate(data)
    if breaches := design.violations(adjusted, base_dir):
        raise AdjustmentError("these changes break the layout: " + "; ".join(breaches[:3]), field="adjustments")
    return adjusted


def _captions_off(data: dict, scenes_off: dict[str, bool], scene_ranges: dict) -> None:
    """Captions not drawn while a scene a reviewer turned them off for shows: every group that starts in it (a
    group belongs to the scene it starts in, as it is spoken there). The groups stay in the plan for the caption
    files, which carry the whole speech."""
    if not scenes_off:
        return
    layer = next((layer for layer in data["overlay"] if layer["type"] == "captions"), None)
    for scene in scenes_off:
        if scene not in scene_ranges:
            raise AdjustmentError(f"this piece has no scene {scene[:40]!r} to turn captions off for",
                                  field=f"captions_off.{scene[:40]}", hint="reload the page")
        if layer is None:
            raise AdjustmentError("this plan has no captions to turn off", field=f"captions_off.{scene[:40]}")
    for group in layer["groups"]:
        group["shown"] = not any(low <= group["start"] < high for scene, (low, high) in scene_ranges.items()
                                 if scene in scenes_off)


def _sentence(words: str) -> str:
    """Words as a sentence of an alt text: a full stop unless they end on their own ("Your read?")."""
    words = words.strip()
    return words if words.endswith((".", "!", "?", ":")) else words + "."


def reel_of_slides(plan: RenderPlan) -> RenderPlan:
    """A carousel's slides as a 9:16 reel (what Reels, TikTok and Shorts take): each slide whole, at its full
    width, in the middle of the taller frame (the compositor frames it: RenderPlan.slide_height), every slide as
    long as the plan gives it. A plan already 9:16 or taller is its own reel."""
    height = round(plan.width * 16 / 9 / 2) * 2
    if plan.height >= height:
        return plan
    # The safe zones are guides for the slide's own frame; the reel is not reviewed on the canvas.
    return plan.model_copy(update={"height": height, "slide_height": plan.height, "safe_zones": []})


def _is_picture(path: Path) -> bool:
    """A JPEG or PNG file that decodes (a scene's background is drawn from it by both renderers)."""
    from PIL import Image, UnidentifiedImageError

    if path.suffix.lower() not in (".jpg", ".jpeg", ".png") or not path.is_file():
        return False
    try:
        with Image.open(path) as image:
            image.verify()
            return image.format in ("JPEG", "PNG")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        return False


def _correct_captions(layer: dict, edits: dict[str, str], fonts: dict) -> None:
    """A reviewer's corrected words for caption groups (a misspelt name): the group's time is kept, shared by
    its words as before (or by length, when the number of words changed), and the group is laid out again."""
    from pipeline import captions
    from pipeline.contracts.plan import Box

    sourced = {f["text"].lstrip("+") for f in layer.get("sources", [])}
    font = fonts[layer["font"]]
    box = Box.model_validate(layer["box"])
    for key, text in edits.items():
        field = f"caption_edits.{key}"
        index = int(key)
        if index >= len(layer["groups"]):
            raise AdjustmentError(f"there is no caption group {index} (there are {len(layer['groups'])})",
                                  field=field)
        _numbers_from_data(text, sourced, f"caption group {index}", field)
        group = layer["groups"][index]
        old = group["words"]
        group["said"] = " ".join(text.split())[:400]  # the caption files keep the reviewer's own case
        if all(word["text"] == word["text"].upper() for word in old):
            text = text.upper()
        new = text.split()
        if len(new) == len(old):
            timed = [(word, old_word["start"], old_word["end"]) for word, old_word in zip(new, old, strict=True)]
        else:
            span, total = group["end"] - group["start"], sum(len(word) for word in new)
            timed, cursor = [], group["start"]
            for word in new:
                length = span * len(word) / total
                timed.append((word, round(cursor, 4), round(cursor + length, 4)))
                cursor += length
        placed = captions.place(timed, font_file=font.file, size=layer["size"], box=box,
                                line_height=layer["line_height"], ascent=font.ascent)
        ink = design.caption_group_ink(placed, font_file=font.file, size=layer["size"], ascent=font.ascent,
                                       stroke=layer.get("stroke_width") or 0.0, line_height=layer["line_height"])
        if not design.inside(ink, design.box_rect(layer["box"])) or len(placed["lines_y"]) > 2:
            raise AdjustmentError(f"caption group {index} does not fit in two lines: shorten it", field=field)
        group["lines_y"], group["words"] = placed["lines_y"], placed["words"]


# ---------------------------------------------------------------------------------------------
# Building the plan from L1..L5 and the preset

# The layers whose outputs the builder reads (the registry declares them: pipeline/layers/__init__.py).
PLAN_NEEDS = ("L1", "L3", "L4", "L5")


class _Builder:
    """Lays out one plan. Sizes are designed for a 1080 px wide frame and scaled to the preset's width."""

    def __init__(self, inputs, ctx) -> None:
        from pipeline.text import font_ref

        self.preset = inputs.preset
        self.data = inputs.upstream["L1"]
        self.script = inputs.upstream["L3"]
        self.audio = inputs.upstream["L4"]
        self.media = inputs.upstream["L5"]
        fmt = self.preset.format
        self.width, self.height, self.kind = fmt.width, fmt.height, fmt.kind
        self.u = self.width / 1080
        brand = self.preset.brand
        self.heading = font_ref(brand.heading_font.family, brand.heading_font.file)
        self.body = font_ref(brand.body_font.family, brand.body_font.file)
        self.margin = brand.margin * self.u
        self.motion = self.preset.motion
        self.base_dir = ctx.work_dir
        # The fit meter's figures cost a few layouts per text; the preset editor's thumbnails do without.
        self.measure_fit = ctx.options.get("MEASURE_FIT", True)
        # The safe area: inside the margins and clear of the platform's own interface (safe zones).
        zones = self.preset.safe_zones
        w, h, m = self.width, self.height, self.margin
        self.zones = [(name, rect) for name, rect in (
            ("top", (0, 0, w, zones.top * h)), ("bottom", (0, (1 - zones.bottom) * h, w, h)),
            ("left", (0, 0, zones.left * w, h)), ("right", ((1 - zones.right) * w, 0, w, h))) if
            rect[2] > rect[0] and rect[3] > rect[1]]
        self.left = max(m, zones.left * w)
        self.right = w - max(m, zones.right * w)
        self.top = zones.top * h
        self.bottom = (1 - zones.bottom) * h

    def text(self, layer_id: str, role: str, text: str, *, font, size: float, box: tuple, start: float, end: float,
             color: str, align: str = "center", valign: str = "top", delay: float = 0.0, stroke: float = 0.0,
             sources=(), editable: bool = True, entrance: str | None = None, count: str | None = None) -> dict:
        from pipeline.contracts.plan import Box
        from pipeline.text import layout

        box_model = Box(x=box[0], y=box[1], width=box[2], height=box[3])
        size = round(size, 2)
        lines = layout(text, font_file=font.file, size=size, box=box_model, align=align, valign=valign)
        enter = entrance if entrance is not None else self.motion.text_entrance
        shown = {n for n in numbers_in(text)}
        return {
            "type": "text", "id": layer_id, "role": role, "text": text, "font": font.family, "size": size,
            "base_size": size, "color": color, "stroke_color": "#000000" if stroke else None,
            "stroke_width": round(stroke, 2), "align": align, "valign": valign, "box": box_model.model_dump(),
            "lines": [line.model_dump() for line in lines], "start": round(start + delay, 4), "end": round(end, 4),
            "editable": editable,
            "sources": [f.model_dump() for f in sources if f.text.lstrip("+") in shown],
            "motion": {"enter": enter if self.motion.entrance_s > 0 else "none",
                       "enter_s": self.motion.entrance_s if enter != "none" else 0.0,
                       "distance": round(90 * self.u, 2), "easing": "ease_out_cubic"},
            # A number that runs up to itself as its graphic grows (pipeline/motion.py count_text).
            **({"count": {"number": count, "duration": 0.6}} if count else {}),
        }

    def panel(self, layer_id: str, box: tuple, start: float, end: float, *, fill: str = "#0B0F1A",
              opacity: float = 0.78, delay: float = 0.0) -> dict:
        return {"type": "shape", "id": layer_id, "shape": "rounded_rect", "radius": round(28 * self.u, 2),
                "box": {"x": box[0], "y": box[1], "width": box[2], "height": box[3]}, "fill": fill,
                "fill_opacity": opacity, "start": round(start + delay, 4), "end": round(end, 4),
                "motion": {"enter": "fade" if self.motion.entrance_s > 0 else "none",
                           "enter_s": self.motion.entrance_s, "easing": "ease_out_cubic"}}

    def background(self, index: int, segment_id: str, start: float, end: float) -> dict:
        asset = self.media.for_segment(segment_id, "background")
        zoom = self.motion.kenburns * (end - start)
        if zoom <= 0:
            kenburns = None
        elif index % 2 == 0:
            kenburns = {"from_scale": 1.0, "to_scale": round(1 + zoom, 4), "from_x": 0.5, "from_y": 0.5,
                        "to_x": 0.5, "to_y": 0.44}
        else:
            kenburns = {"from_scale": round(1 + zoom, 4), "to_scale": 1.0, "from_x": 0.46, "from_y": 0.5,
                        "to_x": 0.5, "to_y": 0.5}
        return {"color": "#0B0F1A", "asset": asset.file if asset else None, "kenburns": kenburns}

    def scene_layers(self, segment, start: float, end: float) -> list[dict]:
        brand = self.preset.brand
        u, h = self.u, self.height
        x, inner = self.left, self.right - self.left
        head, body_size = brand.headline_size * u, brand.body_size * u
        figures = segment.figures
        sid = segment.id
        if self.kind == "still":
            return [
                self.text(f"{sid}_headline", "headline", segment.headline, font=self.heading, size=head * 0.9,
                          box=(x, h * 0.1, inner, h * 0.2), valign="bottom", start=start, end=end,
                          color=brand.text_color, sources=figures),
                self.panel(f"{sid}_card", (x, h * 0.34, inner, h * 0.36), start, end),
                self.text(f"{sid}_stat", "stat", segment.stat or segment.headline, font=self.heading,
                          size=head * 1.7, box=(x, h * 0.36, inner, h * 0.2), valign="middle", start=start,
                          end=end, color=brand.accent_color, sources=figures),
                self.text(f"{sid}_body", "body", segment.body or " ", font=self.body, size=body_size,
                          box=(x + 30 * u, h * 0.56, inner - 60 * u, h * 0.12), valign="top", start=start, end=end,
                          color=brand.text_color, sources=figures),
            ]
        # Below the logo's row at the top of the safe area; the card sits above the odds stamp and the
        # compliance band at its foot.
        top = max(self.top + 150 * u, h * (0.14 if self.kind == "reel" else 0.1))
        floor = self.content_bottom()
        # The piece's first headline is on screen from the first frame: the autoplayed first impression and the
        # platform's cover frame carry the hook, not an empty background waiting for it to fade in.
        head_h = h * 0.2
        layers = [self.text(f"{sid}_headline", "headline", segment.headline, font=self.heading, size=head,
                            box=(x, top, inner, head_h), valign="bottom", start=start, end=end,
                            color=brand.text_color if segment.kind.value != "hook" else brand.accent_color,
                            stroke=3 * u, sources=figures, entrance="none" if start <= 0 else None)]
        if segment.kind.value == "matchup":
            layers += self.badges(segment, layers[0], start, end)
        if segment.stat:
            card_h = h * (0.2 if self.kind == "reel" else 0.3)
            card_y = min(h * (0.56 if self.kind == "reel" else 0.42), floor - card_h - 20 * u)
            layers += [
                self.panel(f"{sid}_card", (x, card_y, inner, card_h), start, end, delay=0.1),
                self.text(f"{sid}_stat", "stat", segment.stat, font=self.heading, size=head * 1.35,
                          box=(x, card_y + card_h * 0.06, inner, card_h * 0.5), valign="middle", start=start,
                          end=end, color=brand.accent_color, delay=0.15, sources=figures),
            ]
            if segment.body:
                layers.append(self.text(f"{sid}_body", "body", segment.body, font=self.body, size=body_size * 0.9,
                                        box=(x + 30 * u, card_y + card_h * 0.58, inner - 60 * u, card_h * 0.38),
                                        valign="top", start=start, end=end, color=brand.text_color, delay=0.3,
                                        sources=figures))
        elif segment.body:
            layers.append(self.text(f"{sid}_body", "body", segment.body, font=self.body, size=body_size,
                                    box=(x, top + h * 0.22, inner, h * 0.2), valign="top", start=start, end=end,
                                    color=brand.text_color, stroke=2 * u, delay=0.2, sources=figures))
        return layers

    # -- data graphics: the numbers as shapes that grow, drawn by both renderers (grow entrances in motion.py) --

    def badges(self, segment, headline: dict, start: float, end: float) -> list[dict]:
        """The two teams' crests side by side above a one-line matchup headline, popping in one after the
        other."""
        matchup, u = self.data.matchup, self.u
        found = [self.media.badge(team.abbreviation) for team in (matchup.away, matchup.home)]
        if None in found or len(headline["lines"]) != 1:
            return []
        side = found[0].width
        gap = 40 * u
        top = headline["lines"][0]["y"] - side - 24 * u
        if top < self.top + 10 * u:
            return []
        centre = (self.left + self.right) / 2
        layers = []
        for index, asset in enumerate(found):
            x = centre - gap / 2 - side if index == 0 else centre + gap / 2
            layers.append({"type": "image", "id": f"{segment.id}_badge_{asset.team.lower()}", "asset": asset.file,
                           "box": {"x": round(x, 2), "y": round(top, 2), "width": side, "height": side},
                           "start": round(start + 0.15 + 0.15 * index, 4), "end": round(end, 4),
                           "motion": {"enter": "pop", "enter_s": 0.35, "easing": "ease_out_cubic"}})
        return layers

    METER_H = 150  # a meter's label, bar and the space after it, in pixels of a 1080 px wide frame

    def shot_split(self, segment, start: float, end: float) -> float | None:
        """Where a reel's prop or matchup segment cuts to its numbers shot: the start of the first sentence
        spoken after its first, when both shots get at least two seconds (a new picture every few seconds, as
        the feed expects); None to keep the segment one scene."""
        if self.kind != "reel" or not segment.stat or not self.has_graphic(segment) or end - start < 5.0:
            return None
        timing = next((t for t in self.audio.segments if t.segment_id == segment.id), None)
        if timing is None:
            return None
        for before, word in zip(timing.words, timing.words[1:], strict=False):
            if before.word.rstrip().endswith((".", "!", "?")) and start + 2.0 <= word.start - 0.08 <= end - 2.0:
                frame = round((word.start - 0.08) * self.preset.format.fps)
                return round(frame / self.preset.format.fps, 6)
        return None

    def numbers_layers(self, segment, start: float, end: float) -> list[dict]:
        """The numbers shot of a segment: what the figures look like, as meters that grow, under a title."""
        brand, u, h = self.preset.brand, self.u, self.height
        x, inner = self.left, self.right - self.left
        top = max(self.top + 150 * u, h * 0.2)
        matchup = self.data.matchup
        title = (matchup.prop(segment.prop_id).label.upper() if segment.kind.value == "prop"
                 else "WIN PROBABILITY")
        layers = [self.text(f"{segment.id}_numbers_title", "body", title, font=self.heading,
                            size=brand.headline_size * u * 0.8, box=(x, top, inner, h * 0.1), valign="bottom",
                            start=start, end=end, color=brand.accent_color, stroke=3 * u, editable=False,
                            entrance="fade")]
        band = top + h * 0.1 + 40 * u
        latest = max(start + 1.2, end - 3.6)  # the last arrival: nothing on screen stays unchanged for 4 s
        layers += self.data_graphic(segment, band, start, end, latest=latest)
        return layers

    def has_graphic(self, segment) -> bool:
        if segment.kind.value == "prop" and segment.prop_id:
            prop = self.data.matchup.prop(segment.prop_id)
            return prop.last5_avg is not None or prop.season_avg is not None
        return segment.kind.value == "matchup" and self.data.prediction is not None

    def meter(self, layer_id: str, label: str, fraction: float, top: float, start: float, end: float, *,
              fill: str, sources, count: str | None = None) -> list[dict]:
        """A labelled bar across the safe area: its track, and a fill that grows from the left to `fraction`."""
        u, brand = self.u, self.preset.brand
        x, inner = self.left, self.right - self.left
        label_h, bar_h = 70 * u, 44 * u
        bar_y = top + label_h + 10 * u
        grow = {"enter": "grow_right", "enter_s": 0.7, "easing": "ease_out_cubic"}
        return [
            self.text(f"{layer_id}_label", "body", label, font=self.body, size=50 * u, box=(x, top, inner, label_h),
                      valign="bottom", align="left", start=start, end=end, color=brand.text_color, stroke=2 * u,
                      sources=sources, editable=False, entrance="fade", count=count),
            {"type": "shape", "id": f"{layer_id}_track", "shape": "rounded_rect", "radius": round(bar_h / 2, 2),
             "box": {"x": x, "y": bar_y, "width": inner, "height": bar_h}, "fill": "#FFFFFF", "fill_opacity": 0.16,
             "start": round(start, 4), "end": round(end, 4),
             "motion": {"enter": "fade", "enter_s": 0.25, "easing": "ease_out_cubic"}},
            {"type": "shape", "id": f"{layer_id}_fill", "shape": "rounded_rect", "radius": round(bar_h / 2, 2),
             "box": {"x": x, "y": bar_y, "width": round(max(bar_h, inner * min(1.0, fraction)), 2),
                     "height": bar_h}, "fill": fill, "start": round(start + 0.15, 4), "end": round(end, 4),
             "motion": grow},
        ]

    STRIP_H = 420  # the last games' bars at their tallest, at 1080 px wide

    def game_strip(self, segment, prop, top: float, start: float, end: float, *, latest: float) -> list[dict]:
        """A prop's last games as bars that grow from a common foot, oldest first, each with its figure above it;
        the line across them arrives last, so the viewer sees how many games went over it. A bar on the pick's
        side of the line is in the accent colour."""
        from pipeline.contracts import Figure
        from pipeline.layers.l3_ideas.template import fmt

        brand, u = self.preset.brand, self.u
        index = [p.id for p in self.data.matchup.props].index(prop.id)
        x, inner = self.left, self.right - self.left
        gap = 28 * u
        label_h = 56 * u
        width = (inner - gap * (len(prop.last5) - 1)) / len(prop.last5)
        scale = max(*prop.last5, prop.line) * 1.08
        foot = top + label_h + self.STRIP_H * u
        over = (prop.last5_avg if prop.last5_avg is not None else sum(prop.last5) / len(prop.last5)) >= prop.line
        layers = []
        for game, value in enumerate(prop.last5):
            height = max(4 * u, self.STRIP_H * u * value / scale)
            arrives = start + 0.3 + 0.15 * game
            hit = value > prop.line if over else value < prop.line
            layers.append({"type": "shape", "id": f"{segment.id}_game{game + 1}", "shape": "rounded_rect",
                           "radius": round(10 * u, 2), "box": {"x": round(x + game * (width + gap), 2),
                                                                 "y": round(foot - height, 2),
                                                                 "width": round(width, 2), "height": round(height, 2)},
                           "fill": brand.accent_color if hit else brand.text_color,
                           "fill_opacity": 1.0 if hit else 0.55, "start": round(arrives, 4), "end": round(end, 4),
                           "motion": {"enter": "grow_up", "enter_s": 0.5, "easing": "ease_out_cubic"}})
            figure = Figure(text=fmt(value), field=f"matchup.props[{index}].last5[{game}]", value=value)
            layers.append(self.text(f"{segment.id}_game{game + 1}_value", "body", fmt(value), font=self.body,
                                    size=40 * u, box=(x + game * (width + gap) - gap / 2, foot - height - label_h,
                                                      width + gap, label_h), valign="bottom", start=arrives,
                                    end=end, color=brand.text_color, stroke=2 * u, sources=[figure],
                                    editable=False, entrance="fade", count=fmt(value)))
        line_y = foot - self.STRIP_H * u * prop.line / scale
        line_figure = Figure(text=fmt(prop.line), field=f"matchup.props[{index}].line", value=prop.line)
        layers += [
            {"type": "shape", "id": f"{segment.id}_line_mark", "shape": "rect",
             "box": {"x": round(x - 12 * u, 2), "y": round(line_y - 3 * u, 2), "width": round(inner + 24 * u, 2),
                     "height": round(6 * u, 2)}, "fill": "#FF3B5C", "start": round(latest, 4), "end": round(end, 4),
             "motion": {"enter": "grow_right", "enter_s": 0.4, "easing": "ease_out_cubic"}},
            self.text(f"{segment.id}_line_label", "body", f"THE LINE {fmt(prop.line)}", font=self.heading,
                      size=48 * u, box=(x, foot + 16 * u, inner, 64 * u), valign="top", align="left",
                      start=latest, end=end, color="#FF3B5C" if brand.accent_color != "#FF3B5C" else "#FFFFFF",
                      stroke=3 * u, sources=[line_figure], editable=False, entrance="fade"),
            self.text(f"{segment.id}_games_label", "body",
                      f"LAST {['THREE', 'FOUR', 'FIVE'][len(prop.last5) - 3]} GAMES", font=self.heading, size=48 * u,
                      box=(x, foot + 16 * u, inner, 64 * u), valign="top", align="right", start=start + 0.3,
                      end=end, color=brand.text_color, stroke=3 * u, editable=False, entrance="fade"),
        ]
        return layers

    def data_graphic(self, segment, top: float, start: float, end: float, *, latest: float) -> list[dict]:
        """What the segment's numbers look like: a prop's line against the player's recent average as two bars
        that grow to scale; the matchup's model probability for each side as meters. They arrive one after
        the other, the last at `latest`. Every number on them is an L1 field."""
        from pipeline.contracts import Figure
        from pipeline.layers.l3_ideas.template import fmt

        brand, u = self.preset.brand, self.u
        row = self.METER_H * u
        matchup = self.data.matchup
        if segment.kind.value == "prop" and segment.prop_id:
            prop = matchup.prop(segment.prop_id)
            form = prop.last5_avg if prop.last5_avg is not None else prop.season_avg
            if len(prop.last5) >= 3:
                return self.game_strip(segment, prop, top, start, end, latest=latest)
            if form is None:
                return []
            scale = max(prop.line, form) * 1.08
            form_name = "LAST FIVE AVG" if prop.last5_avg is not None else "SEASON AVG"
            over = form >= prop.line
            return [
                *self.meter(f"{segment.id}_line", f"THE LINE  {fmt(prop.line)}", prop.line / scale, top,
                            start + 0.3, end, fill=brand.text_color, sources=segment.figures),
                *self.meter(f"{segment.id}_form", f"{form_name}  {fmt(form)}", form / scale, top + row,
                            latest, end, fill=brand.accent_color if over else "#FF3B5C",
                            sources=segment.figures),
            ]
        forecast = self.data.prediction
        if segment.kind.value == "matchup" and forecast is not None:
            sides = sorted([(forecast.home_win_prob, matchup.home, "home"), (forecast.away_win_prob, matchup.away,
                                                                              "away")], key=lambda side: -side[0])
            layers = []
            for index, (probability, team, side) in enumerate(sides):
                percent = str(round(probability * 100))
                figure = Figure(text=percent, field=f"prediction.{side}_win_prob", value=probability)
                layers += self.meter(f"{segment.id}_{side}", f"{team.name.upper()}  {percent}%", probability,
                                     top + index * row, start + 0.3 if index == 0 else latest, end,
                                     fill=brand.accent_color if index == 0 else brand.text_color,
                                     sources=[figure], count=percent)
            x, inner = self.left, self.right - self.left
            layers.append(self.text(f"{segment.id}_analysis", "body", f"Our model · {forecast.label}",
                                    font=self.body, size=36 * u, box=(x, top + 2 * row, inner, 60 * u),
                                    valign="top", align="left", start=start, end=end, color=brand.text_color,
                                    stroke=2 * u, delay=min(0.9, latest - start), editable=False,
                                    entrance="fade"))
            return layers
        return []

    def transition(self, index: int, length: float) -> dict | None:
        """How a reel's scene comes in over the one before it: the preset's transition, at most a third of the
        scene (a carousel's slides are stills)."""
        motion = self.motion
        if self.kind != "reel" or index == 0 or motion.transition == "cut":
            return None
        return {"kind": motion.transition, "duration": round(min(motion.transition_s, length / 3), 4)}

    def band_height(self) -> float:
        return self.preset.compliance.size * self.u * 2 * 1.15 + 40 * self.u

    def has_captions(self) -> bool:
        return self.kind == "reel" and self.preset.captions.enabled and any(s.words for s in self.audio.segments)

    def caption_box(self) -> tuple[float, float, float, float]:
        """Two lines of captions just above the odds stamp: inside the safe area, clear of the scene's text."""
        size = self.preset.captions.size * self.u
        height = size * (1.15 * 2 + 0.4)
        return (self.left, self.overlay_top() - height - 10 * self.u, self.right - self.left, height)

    def content_bottom(self) -> float:
        """Where the scenes' own text and cards must end: above the captions, or the overlay."""
        if self.has_captions():
            return self.caption_box()[1] - 16 * self.u
        return self.overlay_top()

    def overlay_top(self) -> float:
        """Where the overlay's texts begin, from the foot of the safe area up: the band, then the odds stamp."""
        return self.bottom - self.band_height() - 24 * self.u * 1.6 - 10 * self.u

    @property
    def duration(self) -> float:
        """L4's timing: a reel lasts as long as its narration; a carousel's slides (and a still) each last the
        preset's slide_seconds, as its reel shows them."""
        return self.audio.duration

    def scene_times(self) -> list[tuple[float, float]]:
        timings = {t.segment_id: t for t in self.audio.segments}
        times = []
        for index, segment in enumerate(self.script.segments):
            timing = timings[segment.id]
            end = self.audio.duration if index == len(self.script.segments) - 1 else timing.end
            times.append((timing.start, end))
        return times

    def overlay(self) -> list[dict]:
        compliance = self.preset.compliance
        u, m, w = self.u, self.margin, self.width
        duration = self.duration
        size = compliance.size * u
        band_h = self.band_height()
        stamp_size = 24 * u
        # The compliance band sits at the foot of the safe area: a platform's own captions and buttons
        # would cover it lower down.
        band_y = self.bottom - band_h
        layers = [
            {"type": "shape", "id": "compliance_band", "shape": "rect", "fill": "#000000", "fill_opacity": 0.6,
             "box": {"x": 0, "y": band_y, "width": w, "height": band_h}, "start": 0, "end": duration},
            self.text("compliance", "compliance", compliance.text, font=self.body, size=size,
                      box=(max(m * 0.5, self.left - m * 0.5), band_y + 20 * u,
                           min(w - m, self.right - self.left + m), band_h - 40 * u), valign="middle", start=0,
                      end=duration, color="#FFFFFF", editable=False, entrance="none"),
        ]
        as_of = self.data.odds_as_of
        stamp = f"Odds as of {as_of:%b} {as_of.day}, {as_of:%H:%M} UTC"
        layers.append(self.text("odds_stamp", "stamp", stamp, font=self.body, size=stamp_size,
                                box=(self.left, band_y - stamp_size * 1.6 - 4 * u, self.right - self.left,
                                     stamp_size * 1.5), valign="bottom", align="right", start=0, end=duration,
                                color="#FFFFFF", editable=False, entrance="none"))
        logo = next((a for a in self.media.assets if a.role == "logo"), None)
        if logo is not None:
            side = 150 * u
            scale = side / max(logo.width, logo.height)
            lw, lh = logo.width * scale, logo.height * scale
            # Top left of the safe area (the right-hand column of a reel is the platform's).
            lx = self.left if self.zones else w - m * 0.6 - lw
            ly = self.top + 10 * u if self.zones else m * 0.6
            layers.append({"type": "image", "id": "logo", "asset": logo.file, "start": 0, "end": duration,
                           "box": {"x": lx, "y": ly, "width": lw, "height": lh}})
        if self.has_captions():
            layers.append(self.captions())
        return layers

    def captions(self) -> dict:
        """The narration's timed words as a caption layer: grouped, timed and laid out (pipeline/captions.py)."""
        from pipeline import captions
        from pipeline.contracts.plan import Box

        style = self.preset.captions
        spoken = [w for segment in self.audio.segments for w in segment.words if w.word.strip()]
        words = [((w.word.upper() if style.uppercase else w.word), w.start, w.end) for w in spoken]
        x, y, width, height = self.caption_box()
        box = Box(x=x, y=y, width=width, height=height)
        size, floor = style.size * self.u, min(style.size, style.min_size) * self.u
        stroke = round(max(2.0, size * 0.08), 2)
        font = self.heading
        groups = captions.group_words(words, max_words=style.max_words, max_chars=style.max_chars)
        laid = []
        pending = list(groups)
        while pending:
            group = pending.pop(0)
            placed = self.fit_caption(group, box, size, floor, stroke)
            if placed is None and len(group) > 1:
                # Even at the smallest size the group does not fit: show it as two.
                half = len(group) // 2
                pending[:0] = [group[:half], group[half:]]
                continue
            if placed is None:
                raise PipelineError(f"the caption word {group[0][0]!r} does not fit the caption box", layer="L5",
                                    hint="lower the captions' size or raise the preset's width")
            laid.append((group, placed))
        timed = captions.timed_groups([group for group, _ in laid], self.audio.duration)
        laid = laid[: len(timed)]  # groups with no time left before the end are dropped
        out = []
        said_from = 0  # the groups take the words in order: each one's words as spoken, in their own case
        for (start, end, words_timed), (group, placed) in zip(timed, laid, strict=True):
            for word, (_, word_start, word_end) in zip(placed["words"], words_timed, strict=False):
                word["start"], word["end"] = round(word_start, 4), round(max(word_end, word_start + 1e-3), 4)
            said = " ".join(w.word for w in spoken[said_from:said_from + len(group)])
            said_from += len(group)
            out.append({"start": round(start, 4), "end": round(end, 4), "lines_y": placed["lines_y"],
                        "words": placed["words"], "size": placed["size"], "said": said[:400]})
        # One size for the whole layer: the smallest any group needed; every group is laid out again at it (a
        # smaller size can wrap differently, so the size steps down until all of them fit).
        size = min(group.pop("size") for group in out)
        while True:
            again = [self.fit_caption(words_group, box, size, size, stroke) for words_group, _ in laid]
            if all(again):
                break
            if size <= floor + 1e-6:
                raise PipelineError("the captions do not fit their box at the smallest caption size", layer="L5",
                                    hint="lower the captions' words per line or their smallest size")
            size = max(floor, round(size * design.SHRINK * 2) / 2)
        for group, placed in zip(out, again, strict=True):
            group["lines_y"] = placed["lines_y"]
            for word, placed_word in zip(group["words"], placed["words"], strict=False):
                word["x"], word["width"], word["line"] = placed_word["x"], placed_word["width"], placed_word["line"]
        figures = [f for segment in self.script.segments for f in segment.figures]
        highlight = style.highlight_color or self.preset.brand.accent_color
        return {"type": "captions", "id": "captions", "font": font.family, "size": size, "color": style.color,
                "highlight_color": highlight, "highlight": style.highlight,
                "box_color": design.outline_for(highlight), "stroke_color": design.outline_for(
                    style.color), "stroke_width": stroke, "box": box.model_dump(), "line_height": 1.15,
                "groups": out, "sources": [f.model_dump() for f in figures], "start": 0,
                "end": self.audio.duration, "min_size": round(floor, 2)}

    def fit_caption(self, group, box, size: float, floor: float, stroke: float) -> dict | None:
        from pipeline import captions

        font = self.heading
        while True:
            placed = captions.place(group, font_file=font.file, size=size, box=box, line_height=1.15,
                                    ascent=font.ascent)
            ink = design.caption_group_ink(placed, font_file=font.file, size=size, ascent=font.ascent,
                                           stroke=stroke, line_height=1.15)
            if design.inside(ink, design.box_rect(box.model_dump())) and len(placed["lines_y"]) <= 2:
                placed["size"] = size
                return placed
            if size <= floor + 1e-6:
                return None
            size = max(floor, round(size * design.SHRINK * 2) / 2)

    def post_copy(self) -> dict:
        """The post's caption and hashtags as L3 wrote them, and for each image (a carousel's slides, a still) a
        description for people who cannot see it, in the words on it."""
        from pipeline.post import parse_hashtags

        alt = {}
        if self.kind != "reel":
            segments = self.script.segments
            for number, segment in enumerate(segments, 1):
                # a player's name as the data spells it ("CeeDee Lamb"); a matchup ("DAL @ PHI") as written; a
                # hook as a sentence
                headline = (self.data.matchup.prop(segment.prop_id).player if segment.kind.value == "prop"
                            and segment.prop_id else segment.headline if "@" in segment.headline
                            else segment.headline.capitalize())
                words = [_sentence(headline)]
                if segment.stat:
                    # "OVER 94.5" read as "Over 94.5"; a spread ("PHI -6.5") keeps its team's letters
                    side, _, rest = segment.stat.partition(" ")
                    stat = f"{side.capitalize()} {rest}" if side in ("OVER", "UNDER") else segment.stat
                    words.append(_sentence(stat))
                if segment.body:
                    words.append(_sentence(segment.body.replace(" · ", ", ")))
                prefix = f"Slide {number} of {len(segments)}: " if len(segments) > 1 else ""
                alt[segment.id] = (prefix + " ".join(words))[:1000]
        try:
            tags = parse_hashtags(" ".join(self.script.hashtags))[:30]
        except ValueError:
            tags = []  # an LLM's odd tag: the reviewer adds the tags on the review page
        return {"caption": self.script.caption, "hashtags": tags, "alt_text": alt}

    def build(self) -> RenderPlan:
        scenes = []
        for segment, (start, end) in zip(self.script.segments, self.scene_times(), strict=True):
            split = self.shot_split(segment, start, end)
            index = len(scenes)
            scenes.append({"id": segment.id, "segment_id": segment.id, "start": round(start, 6),
                           "end": round(split or end, 6),
                           "background": self.background(index, segment.id, start, split or end),
                           "layers": self.scene_layers(segment, start, split or end),
                           "transition": self.transition(index, (split or end) - start)})
            if split is not None:
                # The segment's numbers shot: its picture again, zooming the other way, crossfaded in.
                scenes.append({"id": f"{segment.id}_numbers", "segment_id": segment.id, "start": split,
                               "end": round(end, 6), "background": self.background(index + 1, segment.id, split, end),
                               "layers": self.numbers_layers(segment, split, end),
                               "transition": {"kind": "crossfade", "duration": round(min(0.3, (end - split) / 3), 4)}})
        audio = [{"file": self.audio.narration, "role": "narration", "gain": 1.0}] if self.audio.narration else []
        if self.audio.music:
            audio.append({"file": self.audio.music, "role": "music", "gain": self.audio.music_gain})
        brand = self.preset.brand
        data = {
            "kind": self.kind, "title": self.script.title, "width": self.width, "height": self.height,
            "fps": self.preset.format.fps, "duration": self.duration,
            "fonts": [self.heading.model_dump(), *([self.body.model_dump()] if self.body.family !=
                                                  self.heading.family else [])],
            "palette": brand.palette, "audio": audio, "loudness_lufs": self.preset.voice.loudness_lufs,
            "scenes": scenes, "overlay": self.overlay(),
            "odds_as_of": self.data.odds_as_of.isoformat(), "legibility": self.preset.layout.legibility,
            "safe_zones": [{"name": name, "box": {"x": r[0], "y": r[1], "width": r[2] - r[0], "height": r[3] - r[1]}}
                           for name, r in self.zones],
            "post": self.post_copy(),
        }
        design.enforce(data, base_dir=self.base_dir, min_sizes=dict(self.preset.layout.min_sizes),
                       measure=self.measure_fit)
        for item in design.texts(data):
            item[0]["base_size"] = item[0]["size"]
        plan = RenderPlan.model_validate(data)
        if breaches := design.violations(plan, self.base_dir):
            raise PipelineError("the plan breaks the design rules: " + "; ".join(breaches[:3]), layer="L5",
                                hint="this preset's layout cannot hold this script; check its sizes and margins")
        return plan


def build_plan(inputs, ctx) -> RenderPlan:
    """L3 + L4 + L5 + the preset -> the RenderPlan both renderers draw."""
    return _Builder(inputs, ctx).build()
