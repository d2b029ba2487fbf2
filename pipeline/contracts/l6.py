"""L6 assembly result: the files made from the approved plan, and what reading them back found."""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from pipeline.contracts.base import Contract, JobFile


class OutputFile(Contract):
    kind: Literal["video", "poster", "slide", "image", "captions"]
    file: JobFile
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    bytes: int = Field(gt=0)
    width: int | None = Field(default=None, gt=0, description="pictures and videos; not caption files")
    height: int | None = Field(default=None, gt=0)
    duration: float | None = None
    frames: int | None = None
    video_codec: str | None = None
    audio_codec: str | None = None
    scenes: int | None = Field(default=None, ge=1, description="videos: the scene chunks joined")
    scenes_reused: int | None = Field(default=None, ge=0, description="videos: chunks found in the scene cache")


class RenderResult(Contract):
    plan_version: int = Field(ge=1)
    files: list[OutputFile] = Field(min_length=1)
    timings: dict[str, float] = {}
    parity: dict[str, float] = Field(default={}, description="snapshot time -> SSIM against the approved canvas")
    differences: dict[str, dict] = Field(default={}, description="snapshot time -> where the render differs from "
                                                                   "the approved canvas in a way a person sees")
    colour: dict[str, float] = Field(default={}, description="moment -> ΔE of the brand colours in the video "
                                                             "(decoded as a BT.709 player does) against the stills")
