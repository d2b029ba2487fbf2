"""L2 calendar: the segments a piece has, how long each should run, and when it publishes."""
from __future__ import annotations

import datetime as dt

from pipeline.context import LayerContext
from pipeline.contracts import CalendarPlan, ContentKind, DataPackage, SegmentKind
from pipeline.errors import DataError
from pipeline.registry import LayerInput

# Posts go up this long before the game, on a quarter hour, and never in the past.
LEAD_TIME = dt.timedelta(hours=3)
SLOT = dt.timedelta(minutes=15)


def publish_slot(game_time: dt.datetime, now: dt.datetime) -> dt.datetime:
    target = max(game_time - LEAD_TIME, now)
    seconds = (target - target.replace(minute=0, second=0, microsecond=0)).total_seconds()
    rounded = target.replace(minute=0, second=0, microsecond=0) + SLOT * -(-seconds // SLOT.total_seconds())
    return rounded


def pick_props(data: DataPackage, count: int) -> list:
    """The props worth talking about first: where recent form sits furthest from the line."""
    def edge(prop) -> float:
        form = prop.last5_avg if prop.last5_avg is not None else prop.season_avg
        return abs(form - prop.line) / prop.line if form is not None else 0.0

    ranked = sorted(data.matchup.props, key=lambda p: (-edge(p), p.id))
    return ranked[:count]


def run(inputs: LayerInput, ctx: LayerContext) -> CalendarPlan:
    data: DataPackage = inputs.upstream["L1"]
    rules = inputs.preset.segments
    kind = inputs.preset.format.kind
    props = pick_props(data, 1 if kind == ContentKind.STILL else rules.props)
    if not props and (kind == ContentKind.STILL or rules.props):
        raise DataError(f"matchup {data.matchup.id} has no props", layer="L2", field="matchup.props")
    segments = []
    for part in rules.order:
        if part == "props":
            segments += [{"id": f"prop_{index}", "kind": SegmentKind.PROP, "target_s": rules.segment_s,
                          "prop_id": prop.id} for index, prop in enumerate(props, start=1)]
        elif kind == ContentKind.STILL:
            continue  # a single image is one prop
        elif part == "hook" and rules.hook:
            segments.append({"id": "hook", "kind": SegmentKind.HOOK, "target_s": rules.hook_s})
        elif part == "matchup" and rules.matchup:
            segments.append({"id": "matchup", "kind": SegmentKind.MATCHUP, "target_s": rules.segment_s})
        elif part == "cta" and rules.cta:
            segments.append({"id": "cta", "kind": SegmentKind.CTA, "target_s": rules.cta_s})
    # Keep within the preset's length budget by dropping props from the end (never the hook or CTA).
    while sum(s["target_s"] for s in segments) > rules.max_total_s and sum(
            s["kind"] == SegmentKind.PROP for s in segments) > 1:
        last_prop = max(i for i, s in enumerate(segments) if s["kind"] == SegmentKind.PROP)
        segments.pop(last_prop)
    now = dt.datetime.now(dt.UTC)
    return CalendarPlan(kind=kind, publish_at=publish_slot(data.matchup.game_time, now), segments=segments)
