"""What a job is asked to make."""
from __future__ import annotations

import datetime as dt

from pydantic import Field, model_validator

from pipeline.contracts.base import Contract, Sport


class JobInputs(Contract):
    sport: Sport
    date: dt.date | None = None
    matchup_id: str | None = Field(default=None, max_length=100)
    source: str = Field(default="", max_length=40, description="L1 provider; empty means the preset's")
    # Reviewed with other batch jobs in the studio's batch grid (plan_calendar makes these).
    batch: bool = False
    # Skip review: the plan is approved as built and rendered at once.
    auto_approve: bool = False
    variant: int = Field(default=0, ge=0, le=2, description="which of a job's variants this is")
    # Its place among the day's batch (plan_calendar numbers them): the copywriter opens each with another hook.
    # None (a job started on its own): a place drawn from the matchup.
    slot: int | None = Field(default=None, ge=0, le=999)

    @model_validator(mode="after")
    def _date_or_matchup(self) -> JobInputs:
        if self.date is None and not self.matchup_id:
            raise ValueError("give a date or a matchup")
        return self
