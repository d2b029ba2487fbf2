"""L3 ideas: the script. Every number on screen is tied to the L1 field it came from."""
from __future__ import annotations

import re

from pydantic import Field, model_validator

from pipeline.contracts.base import Contract
from pipeline.contracts.l2 import SegmentKind

# A number as a word of its own: "275.5", "-2.5", "+114"; not the digits inside "49ers" or "76ers".
_NUMBER = re.compile(r"(?<![\w.])[-+]?\d+(?:\.\d+)?(?![\w])")


def numbers_in(text: str) -> list[str]:
    """The numbers in a text, without a leading plus, as they must appear in a Figure's text."""
    return [number.lstrip("+") for number in _NUMBER.findall(text)]


class Figure(Contract):
    """A number as shown, and the L1 field it comes from (a path into DataPackage)."""

    text: str = Field(min_length=1)
    field: str = Field(pattern=r"^(matchup|prediction)(\.[a-z_0-9]+|\[\d+\])+$")
    value: float


class ScriptSegment(Contract):
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    kind: SegmentKind
    narration: str = Field(min_length=1, max_length=600)
    headline: str = Field(min_length=1, max_length=80)
    body: str = Field(default="", max_length=160)
    stat: str = Field(default="", max_length=40)
    prop_id: str | None = None
    figures: list[Figure] = []

    @model_validator(mode="after")
    def _numbers_have_sources(self) -> ScriptSegment:
        shown = {f.text.lstrip("+") for f in self.figures}
        for text in (self.headline, self.body, self.stat):
            for number in numbers_in(text):
                if number not in shown:
                    raise ValueError(f"segment {self.id}: the number {number!r} on screen has no source figure")
        return self


class Script(Contract):
    title: str = Field(min_length=1, max_length=120)
    caption: str = Field(default="", max_length=2200, description="the social post's caption")
    hashtags: list[str] = []
    segments: list[ScriptSegment] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> Script:
        if len({s.id for s in self.segments}) != len(self.segments):
            raise ValueError("segment ids must be unique")
        return self
