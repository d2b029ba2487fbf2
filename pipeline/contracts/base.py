"""Shared building blocks for the layer contracts."""
from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path, PurePosixPath
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationInfo


class Contract(BaseModel):
    """Strict by default: an unknown field is an error, not something silently dropped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Sport(StrEnum):
    NFL = "nfl"
    NBA = "nba"
    MLB = "mlb"
    NHL = "nhl"
    NCAAF = "ncaaf"
    NCAAB = "ncaab"


class ContentKind(StrEnum):
    REEL = "reel"
    CAROUSEL = "carousel"
    STILL = "still"


_HEX = re.compile(r"^#[0-9A-Fa-f]{6}$")


def _hex_color(value: str) -> str:
    if not _HEX.match(value):
        raise ValueError(f"{value!r} is not a colour like #1A2B3C")
    return value.upper()


HexColor = Annotated[str, AfterValidator(_hex_color)]


def _job_file(value: str, info: ValidationInfo) -> str:
    """A file inside the job's folder, named relative to it.

    Paths are relative so that a job's outputs can be reused by another job (layer
    caching) and served only from inside that job's folder. When the caller passes
    `context={"base_dir": ...}` the file must also exist.
    """
    path = PurePosixPath(value)
    if path.is_absolute() or ".." in path.parts or not value or "\\" in value:
        raise ValueError(f"{value!r} must be a relative path inside the job folder")
    base_dir = (info.context or {}).get("base_dir")
    if base_dir is not None and not (Path(base_dir) / value).is_file():
        raise ValueError(f"file {value!r} does not exist in the job folder")
    return value


JobFile = Annotated[str, AfterValidator(_job_file)]
