"""L5 media: one picture per segment, every file present and checked."""
from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from pipeline.contracts.base import Contract, JobFile


class AssetRole(StrEnum):
    BACKGROUND = "background"
    CARD = "card"
    LOGO = "logo"
    BADGE = "badge"  # a team's crest: drawn from its colours and abbreviation, or the brand's own logo of it


class MediaAsset(Contract):
    segment_id: str | None
    role: AssetRole
    file: JobFile
    width: int = Field(gt=0)
    height: int = Field(gt=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    team: str | None = Field(default=None, pattern=r"^[A-Z]{2,4}$", description="whose badge (its abbreviation)")


class MediaPackage(Contract):
    assets: list[MediaAsset] = Field(min_length=1)

    def for_segment(self, segment_id: str, role: AssetRole) -> MediaAsset | None:
        return next((a for a in self.assets if a.segment_id == segment_id and a.role == role), None)

    def badge(self, team: str) -> MediaAsset | None:
        return next((a for a in self.assets if a.role == AssetRole.BADGE and a.team == team), None)
