"""What a reviewer can change on the review page. Applied on the server by pipeline.plan.apply_adjustments."""
from __future__ import annotations

from pydantic import Field, field_validator

from pipeline.contracts.base import Contract, HexColor


class Adjustments(Contract):
    text_scale: float = Field(default=1.0, ge=0.5, le=2.0, description="multiplies every text size")
    layer_scale: dict[str, float] = Field(default={}, description="per text layer size multipliers")
    timing_offset: float = Field(default=0.0, ge=-2.0, le=2.0,
                                 description="seconds added to when on-screen text appears")
    text_edits: dict[str, str] = Field(default={}, description="layer id -> new text")
    colors: dict[str, HexColor] = Field(default={}, description="layer id -> a colour from the brand palette")
    caption_edits: dict[str, str] = Field(default={}, description="caption group number -> its corrected words")

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

    def is_empty(self) -> bool:
        return self == Adjustments()
