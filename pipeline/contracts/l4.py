"""L4 audio + timing: one narration track and where each segment sits in it."""
from __future__ import annotations

from pydantic import Field, model_validator

from pipeline.contracts.base import Contract, JobFile


class WordTiming(Contract):
    word: str
    start: float = Field(ge=0)
    end: float = Field(ge=0)


class SegmentTiming(Contract):
    segment_id: str
    start: float = Field(ge=0)
    end: float = Field(gt=0)
    words: list[WordTiming] = []

    @model_validator(mode="after")
    def _ordered(self) -> SegmentTiming:
        if self.end <= self.start:
            raise ValueError(f"segment {self.segment_id} ends before it starts")
        return self


class AudioPackage(Contract):
    narration: JobFile | None = Field(description="the spoken track; none for a carousel or a still, which nobody "
                                                  "hears (L4 then only times the slides)")
    sample_rate: int = Field(ge=8000, le=96000)
    duration: float = Field(gt=0)
    music: JobFile | None = None
    music_gain: float = Field(default=0.0, ge=0, le=1)
    segments: list[SegmentTiming] = Field(min_length=1)

    @model_validator(mode="after")
    def _timeline(self) -> AudioPackage:
        previous_end = 0.0
        for seg in self.segments:
            if seg.start + 1e-6 < previous_end:
                raise ValueError(f"segment {seg.segment_id} overlaps the one before it")
            previous_end = seg.end
        if previous_end > self.duration + 1e-3:
            raise ValueError("the last segment ends after the audio does")
        return self
