"""L7 distribution result."""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from pipeline.contracts.base import Contract


class DistributionResult(Contract):
    destination: Literal["folder", "webhook"]
    location: str = Field(min_length=1, description="the folder written, or the URL posted to")
    delivered: list[str] = Field(min_length=1)
    idempotency_key: str = Field(min_length=1)
    status_code: int | None = None
