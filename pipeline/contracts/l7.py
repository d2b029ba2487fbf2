"""L7 distribution result."""
from __future__ import annotations

import uuid
from typing import Literal

from pydantic import Field

from pipeline.contracts.base import Contract


class DistributionResult(Contract):
    destination: Literal["folder", "webhook"]
    location: str = Field(min_length=1, description="the folder written, or the URL posted to")
    delivered: list[str] = Field(min_length=1)
    idempotency_key: str = Field(min_length=1)
    status_code: int | None = None


def analytics_id(job_id, plan_version: int) -> str:
    """The id a delivered post carries (every file of it, in the delivery's metadata) and its engagement
    figures are reported under: one per rendered plan version, short enough for a caption or a UTM tag."""
    return f"me-{uuid.UUID(str(job_id)).hex[:12]}-v{int(plan_version)}"
