"""The motion formulas' table: pipeline/motion.py evaluated over every easing, entrance, exit, Ken Burns and
caption case at many moments, written as JSON for `node --test tests/js/` to hold static/previews/motion.js to.

    python -m tests.js.motion_table OUT.json
"""
from __future__ import annotations

import itertools
import json
import sys
from pathlib import Path
from types import SimpleNamespace

from pipeline import motion
from pipeline.contracts.plan import Background, CaptionGroup, Easing, Entrance, Motion, Scene, ShapeLayer

MOMENTS = [i / 40 for i in range(-4, 45)]  # before, through and after a one-second span, on odd fractions too


def _shape(**fields) -> ShapeLayer:
    return ShapeLayer.model_validate({"type": "shape", "id": "s", "shape": "rect", "fill": "#FFFFFF",
                                      "box": {"x": 0, "y": 0, "width": 10, "height": 10}, **fields})


def table() -> dict:
    easings = [{"name": name.value, "p": p, "value": motion.ease(name, p)}
               for name in Easing for p in [*MOMENTS, -0.5, 1.5]]
    layers = []
    for enter, easing, exit_s, enter_s, opacity in itertools.product(
            Entrance, Easing, (0.0, 0.3), (0.0, 0.25, 0.6), (1.0, 0.55)):
        layer = _shape(start=0.1, end=0.9, opacity=opacity, motion=Motion(
            enter=enter, enter_s=enter_s, exit="fade" if exit_s else "none", exit_s=exit_s, easing=easing,
            distance=140))
        data = layer.model_dump(mode="json")
        for t in MOMENTS:
            state = motion.layer_state(layer, t)
            layers.append({"layer": data, "t": t, "state": {"alpha": state.alpha, "dx": state.dx, "dy": state.dy,
                                                            "scale": state.scale, "sx": state.sx, "sy": state.sy}})
    kenburns = []
    scene = Scene.model_validate({"id": "a", "start": 0.0, "end": 1.0, "layers": [], "background": {}})
    for easing, (from_scale, to_scale), (from_x, to_x), sizes in itertools.product(
            Easing, ((1.0, 1.2), (1.3, 1.0), (1.0, 1.0)), ((0.5, 0.5), (0.1, 0.9), (0.95, 0.0)),
            (((1080, 1920), (1080, 1920)), ((2000, 1000), (1080, 1920)), ((640, 960), (1080, 1350)))):
        background = Background.model_validate({"kenburns": {"from_scale": from_scale, "to_scale": to_scale,
                                                             "from_x": from_x, "to_x": to_x, "from_y": to_x,
                                                             "to_y": from_x, "easing": easing}})
        for t in MOMENTS:
            kenburns.append({"background": background.model_dump(mode="json"), "scene": {"start": 0.0, "end": 1.0},
                             "t": t, "image": sizes[0], "out": sizes[1],
                             "view": list(motion.kenburns_view(background, scene, t, *sizes))})
    still = Background.model_validate({})
    for t in MOMENTS[::8]:
        kenburns.append({"background": still.model_dump(mode="json"), "scene": {"start": 0.0, "end": 1.0}, "t": t,
                         "image": (1200, 1600), "out": (1080, 1920),
                         "view": list(motion.kenburns_view(still, scene, t, (1200, 1600), (1080, 1920)))})
    captions = []
    groups = [CaptionGroup.model_validate({"start": 0.1, "end": 0.5, "lines_y": [0], "words": [
        {"text": "ONE", "start": 0.1, "end": 0.25, "line": 0, "x": 0, "width": 10},
        {"text": "TWO", "start": 0.3, "end": 0.5, "line": 0, "x": 12, "width": 10}]}),
        CaptionGroup.model_validate({"start": 0.6, "end": 0.95, "lines_y": [0], "words": [
            {"text": "THREE", "start": 0.6, "end": 0.95, "line": 0, "x": 0, "width": 10}]})]
    layer = {"start": 0.05, "end": 0.9, "groups": [g.model_dump(mode="json") for g in groups]}
    captions_layer = SimpleNamespace(start=layer["start"], end=layer["end"], groups=groups)  # what it reads
    # The same groups with the second one turned off for its scene: nothing is up while it would be.
    hidden = [groups[0], groups[1].model_copy(update={"shown": False})]
    hidden_layer = {"start": 0.05, "end": 0.9, "groups": [g.model_dump(mode="json") for g in hidden]}
    for data, read in ((layer, captions_layer), (hidden_layer, SimpleNamespace(start=0.05, end=0.9, groups=hidden))):
        for t in [*MOMENTS, 0.25, 0.3, 0.5, 0.6]:
            group, word = motion.caption_state(read, t)
            captions.append({"layer": data, "t": t, "state": [group, word]})
    transitions = []
    scenes = [Scene.model_validate({"id": "a", "start": 0.0, "end": 0.3, "background": {}}),
              Scene.model_validate({"id": "b", "start": 0.3, "end": 0.7, "background": {},
                                    "transition": {"kind": "push", "duration": 0.25}}),
              Scene.model_validate({"id": "c", "start": 0.7, "end": 1.0, "background": {}})]
    for t in MOMENTS:
        moving = motion.transition_at(scenes, t)
        transitions.append({"t": t, "at": None if moving is None else [moving[0].id, moving[1]]})
    looks = [{"kind": kind, "p": p, "height": height, "look": list(motion.transition_look(kind, p, height))}
             for kind in ("crossfade", "push", "zoom") for p in MOMENTS if 0 <= p <= 1
             for height in (1920, 1350, 641)]
    counts = []
    for number in ("71", "94.5", "0.25", "1234567", "6"):
        layer = SimpleNamespace(start=0.1, count=SimpleNamespace(number=number, duration=0.6))
        for t in MOMENTS:
            counts.append({"layer": {"start": 0.1, "count": {"number": number, "duration": 0.6}}, "t": t,
                           "text": motion.count_text(layer, t)})
    return {"easings": easings, "layers": layers, "kenburns": kenburns, "captions": captions, "counts": counts,
            "scenes": [scene.model_dump(mode="json") for scene in scenes], "transitions": transitions,
            "looks": looks}


if __name__ == "__main__":
    Path(sys.argv[1]).write_text(json.dumps(table()))
