"""Shared building blocks for the layer contracts."""
from __future__ import annotations

import math
import re
from enum import StrEnum
from pathlib import Path, PurePosixPath
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationInfo


class Contract(BaseModel):
    """Strict by default: an unknown field is an error, not something silently dropped.

    NaN and infinities are refused too: they pass Python's json module but no database stores them
    as JSON, and no figure on screen can be "NaN"."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)


def non_finite_path(value, path: str = "") -> str | None:
    """The dotted path of the first NaN or infinity inside decoded JSON-like data, or None.

    For the places typed loosely (a provider's free-form options, a layer's output as a whole)
    where the field types themselves cannot refuse them."""
    if isinstance(value, float) and not math.isfinite(value):
        return path or "(root)"
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list | tuple):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        found = non_finite_path(item, f"{path}.{key}" if path else str(key))
        if found:
            return found
    return None


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
