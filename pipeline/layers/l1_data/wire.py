"""Reading a data provider's answer: its own shapes (wire models), validated before they are normalised."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, ValidationError

from pipeline.errors import ContractError


class Wire(BaseModel):
    """A provider's JSON as it comes: fields we do not use are ignored, fields we use are checked."""

    model_config = ConfigDict(extra="ignore")


def parse(model: type[BaseModel], data, what: str, provider: str):
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ContractError.from_validation(exc, what=what, layer="L1", provider=provider) from exc
