"""The channels a customer may be reached on, and their preference (`User.channels`): which channels, in
which order. Kept with the user it describes; the notifications app delivers along it
(backend/notifications/preferences.py).

Allowed: push, whatsapp, sms. `sms` is always last: it is the channel that reaches every number, so a
list is normalised rather than refused: duplicates are dropped, `sms` is moved to the end or added
there. Listing `whatsapp` is the user's opt-in to WhatsApp messages."""

from collections.abc import Iterable

from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    PUSH = "push", _("Push notification")
    WHATSAPP = "whatsapp", _("WhatsApp")
    SMS = "sms", _("SMS")


ALLOWED = (Channel.PUSH, Channel.WHATSAPP, Channel.SMS)


def channels_normalise(channels: Iterable[str]) -> list[str]:
    """The preference as stored: known channels in the given order, each once, ending with `sms`.
    Expects only allowed names (the serializer refuses others)."""
    ordered: list[str] = []
    for channel in channels:
        if channel != Channel.SMS and channel not in ordered:
            ordered.append(str(channel))
    return [*ordered, Channel.SMS.value]
