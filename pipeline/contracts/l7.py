"""L7 distribution result."""
from __future__ import annotations

import uuid
from typing import Literal

from pydantic import Field

from pipeline.contracts.base import Contract

DestinationKind = Literal["folder", "webhook", "instagram", "tiktok", "youtube", "x"]


class Delivered(Contract):
    """One destination's delivery: where it went and what it answered (a platform: the post's id and link)."""

    name: str = Field(min_length=1)
    destination: DestinationKind
    location: str = Field(min_length=1, description="the folder written, the URL posted to, or the account")
    delivered: list[str] = Field(min_length=1)
    idempotency_key: str = Field(min_length=1)
    status_code: int | None = None
    post_id: str = ""
    url: str = ""
    note: str = ""


class DistributionResult(Contract):
    # The first destination's, as before several could be named (earlier results and their readers keep it).
    destination: DestinationKind
    location: str = Field(min_length=1, description="the folder written, or the URL posted to")
    delivered: list[str] = Field(min_length=1)
    idempotency_key: str = Field(min_length=1)
    status_code: int | None = None
    # Every destination's, the first included, in the preset's order.
    deliveries: list[Delivered] = []


def analytics_id(job_id, plan_version: int) -> str:
    """The id a delivered post carries (every file of it, in the delivery's metadata) and its engagement
    figures are reported under: one per rendered plan version, short enough for a caption or a UTM tag."""
    return f"me-{uuid.UUID(str(job_id)).hex[:12]}-v{int(plan_version)}"
