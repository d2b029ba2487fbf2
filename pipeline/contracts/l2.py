"""L2 calendar: which segments a piece has, how long each should run, and when it publishes."""
from __future__ import annotations

from enum import StrEnum

from pydantic import AwareDatetime, Field, model_validator

from pipeline.contracts.base import ContentKind, Contract


class SegmentKind(StrEnum):
    HOOK = "hook"
    MATCHUP = "matchup"
    PROP = "prop"
    CTA = "cta"


class SegmentPlan(Contract):
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    kind: SegmentKind
    target_s: float = Field(gt=0, le=60)
    prop_id: str | None = None

    @model_validator(mode="after")
    def _prop_segments_name_a_prop(self) -> SegmentPlan:
        if (self.kind == SegmentKind.PROP) != (self.prop_id is not None):
            raise ValueError("a prop segment names exactly one prop_id, and only prop segments do")
        return self


class CalendarPlan(Contract):
    kind: ContentKind
    publish_at: AwareDatetime
    segments: list[SegmentPlan] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> CalendarPlan:
        if len({s.id for s in self.segments}) != len(self.segments):
            raise ValueError("segment ids must be unique")
        return self
