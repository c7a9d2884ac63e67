"""The user's channel preference (`User.channels`): which channels, in which order.

Allowed: push, whatsapp, sms. `sms` is always last: it is the channel that reaches every number, so a
list is normalised rather than refused: duplicates are dropped, `sms` is moved to the end or added
there. Listing `whatsapp` is the user's opt-in to WhatsApp messages."""

from collections.abc import Iterable

from backend.notifications.models import Channel

ALLOWED = (Channel.PUSH, Channel.WHATSAPP, Channel.SMS)


def channels_normalise(channels: Iterable[str]) -> list[str]:
    """The preference as stored: known channels in the given order, each once, ending with `sms`.
    Expects only allowed names (the serializer refuses others)."""
    ordered: list[str] = []
    for channel in channels:
        if channel != Channel.SMS and channel not in ordered:
            ordered.append(str(channel))
    return [*ordered, Channel.SMS.value]


def channels_for(recipient) -> list[str]:
    """The channels a message to `recipient` is tried on, in order; SMS alone without a recipient."""
    if recipient is None:
        return [Channel.SMS.value]
    return channels_normalise(recipient.channels or [])
