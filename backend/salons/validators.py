"""Rules on single values of the salon's settings, shared by the models, the services and the API."""

from functools import cache
from itertools import pairwise
from typing import Any
from zoneinfo import available_timezones

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

MAX_REFUND_PERCENT = 100
# Not "invalid": a model JSONField replaces messages coded "invalid" with its own "Value must be valid
# JSON.", which would hide which rule a policy broke (the admin, full_clean()).
POLICY_ERROR_CODE = "invalid_policy"


@cache
def _zone_names() -> frozenset[str]:
    # Walks the zone database on disk, so once per process. "localtime" (the machine's own zone) and
    # "Factory" (a placeholder) are files in the system database, not places.
    return frozenset(available_timezones()) - {"localtime", "Factory"}


def validate_timezone(value: str) -> None:
    """An IANA zone name that zoneinfo knows (`Asia/Riyadh`), not an offset or an abbreviation."""
    # Membership, not ZoneInfo(value): ZoneInfo also opens names like "localtime" or relative paths.
    if value not in _zone_names():
        raise ValidationError(_("Unknown time zone: use an IANA name such as Asia/Riyadh."), code="invalid")


def validate_cancellation_policy(value: Any) -> None:
    """A list of {"hours_before": int >= 0, "refund_percent": 0..100} tiers, one per `hours_before`, where
    cancelling earlier never refunds less than cancelling later."""
    if not isinstance(value, list):
        raise ValidationError(_("The cancellation policy must be a list of tiers."), code=POLICY_ERROR_CODE)
    for tier in value:
        if (
            not isinstance(tier, dict)
            or set(tier) != {"hours_before", "refund_percent"}
            or not all(type(tier[key]) is int for key in tier)  # bool is an int subclass: refuse it
        ):
            raise ValidationError(
                _('Each tier is {"hours_before": whole hours, "refund_percent": 0 to 100}.'),
                code=POLICY_ERROR_CODE,
            )
        if tier["hours_before"] < 0:
            raise ValidationError(_("hours_before must not be negative."), code=POLICY_ERROR_CODE)
        if not 0 <= tier["refund_percent"] <= MAX_REFUND_PERCENT:
            raise ValidationError(_("refund_percent must be between 0 and 100."), code=POLICY_ERROR_CODE)
    hours = [tier["hours_before"] for tier in value]
    if len(set(hours)) != len(hours):
        raise ValidationError(_("Each hours_before may appear only once."), code=POLICY_ERROR_CODE)
    by_hours = sorted(value, key=lambda tier: tier["hours_before"])
    for later, earlier in pairwise(by_hours):
        if earlier["refund_percent"] < later["refund_percent"]:
            raise ValidationError(
                _("Cancelling earlier must never refund less than cancelling later."), code=POLICY_ERROR_CODE
            )
