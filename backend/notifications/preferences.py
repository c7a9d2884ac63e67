"""Which channels a message is tried on, in order: the recipient's preference (backend/accounts/channels.py,
where `User.channels` and its rules live), SMS alone without a recipient."""

from backend.accounts.channels import ALLOWED, Channel, channels_normalise

__all__ = ["ALLOWED", "channels_for", "channels_normalise"]


def channels_for(recipient) -> list[str]:
    """The channels a message to `recipient` is tried on, in order; SMS alone without a recipient."""
    if recipient is None:
        return [Channel.SMS.value]
    return channels_normalise(recipient.channels or [])
