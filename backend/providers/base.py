from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SendResult:
    """A message the provider accepted."""

    provider: str
    message_id: str | None  # the provider's id of the message, when it gives one
    raw: Any  # the provider's answer body
