"""What a service says when a person's input is wrong."""
from __future__ import annotations

from pydantic import ValidationError

from pipeline.errors import field_messages


class InvalidInput(ValueError):
    """Input a person sent is wrong; `errors` maps each field to messages in words."""

    def __init__(self, errors: dict[str, list[str]], *, room: dict[str, int] | None = None) -> None:
        self.errors = errors
        # The fit meter's figure for a refused wording, by text layer (negative: characters too many).
        self.room = room or {}
        super().__init__("; ".join(f"{field}: {', '.join(msgs)}" for field, msgs in errors.items()))

    @classmethod
    def from_validation(cls, exc: ValidationError) -> InvalidInput:
        return cls(field_messages(exc))

