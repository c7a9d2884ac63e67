"""Turns a message kind, a language and facts into the text a customer reads."""

from datetime import datetime
from zoneinfo import ZoneInfo

from django.utils import formats, translation

from backend.notifications.templates import MESSAGES, REFUND_SUFFIX

SUPPORTED_LANGUAGES = ("ar", "en")
_CURRENCY_NAMES = {"ar": {"SAR": "ر.س"}, "en": {}}


def _language(language: str) -> str:
    return language if language in SUPPORTED_LANGUAGES else "ar"


def format_when(moment: datetime, *, tz: ZoneInfo, language: str) -> str:
    """A booking time as the salon's clock shows it, with the month name in the reader's language."""
    local = moment.astimezone(tz)
    with translation.override(_language(language)):
        return formats.date_format(local, "l j F Y، H:i" if language == "ar" else "l j F Y, H:i")


def format_amount(halalas: int, *, currency: str, language: str) -> str:
    amount = f"{halalas // 100}.{halalas % 100:02d}"
    name = _CURRENCY_NAMES[_language(language)].get(currency, currency)
    return f"{amount} {name}" if _language(language) == "ar" else f"{name} {amount}"


def notification_render(*, kind: str, language: str, context: dict[str, str]) -> str:
    """The message body. `context` carries every placeholder of the template, already formatted; a refund
    amount (`refund`) is optional and adds a sentence when present."""
    language = _language(language)
    values = dict(context)
    refund = values.pop("refund", "")
    values["refund"] = REFUND_SUFFIX[language].format(amount=refund) if refund else ""
    return MESSAGES[kind][language].format(**values)
