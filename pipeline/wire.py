"""Reading an outside service's answer: its own shapes (wire models), validated as a whole before any
field is read, so a wrong shape is a ContractError naming the endpoint and the field, never an
AttributeError deep in a client."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, ValidationError

from pipeline.errors import ContractError


class Wire(BaseModel):
    """A provider's JSON as it comes: fields we do not use are ignored, fields we use are checked,
    and NaN or infinity is refused wherever a number is read."""

    model_config = ConfigDict(extra="ignore", allow_inf_nan=False)


def parse_answer(model: type[BaseModel], data, what: str, *, provider: str, layer: str):
    """`data` (a decoded answer) as `model`, or a ContractError naming `what` and each bad field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ContractError.from_validation(exc, what=what, layer=layer, provider=provider) from exc
