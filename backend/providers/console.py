"""The development "provider": messages and codes go to the log, so a developer can log in without an
SMS account. Chosen by OTP_PROVIDER=console or SMS_PROVIDER=console (the defaults when DEBUG is on); never in
production."""

import logging

from backend.providers.base import SendResult

PROVIDER = "console"

logger = logging.getLogger(__name__)


def send_otp(*, phone: str, code: str, method: str) -> SendResult:
    logger.info("console OTP for %s by %s: %s", phone, method, code)
    return SendResult(provider=PROVIDER, message_id=None, raw=None)


def send_message(*, phone: str, body: str, channel: str, reference: str | None = None) -> SendResult:
    logger.info("console %s to %s (ref %s): %s", channel, phone, reference, body)
    return SendResult(provider=PROVIDER, message_id=None, raw=None)
