"""L5 media: one picture per segment, every file present and checked."""
from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from pipeline.contracts.base import Contract, JobFile


class AssetRole(StrEnum):
    BACKGROUND = "background"
    CARD = "card"
    LOGO = "logo"


class MediaAsset(Contract):
    segment_id: str | None
    role: AssetRole
    file: JobFile
    width: int = Field(gt=0)
    height: int = Field(gt=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class MediaPackage(Contract):
    assets: list[MediaAsset] = Field(min_length=1)

    def for_segment(self, segment_id: str, role: AssetRole) -> MediaAsset | None:
        return next((a for a in self.assets if a.segment_id == segment_id and a.role == role), None)
