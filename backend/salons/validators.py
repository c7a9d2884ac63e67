"""Rules on single values of the salon's settings, shared by the models, the services and the API."""

from datetime import time
from functools import cache
from itertools import pairwise
from typing import Any
from zoneinfo import available_timezones

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# date.weekday() order, as the API writes weekdays ("sun".."sat"; its weeks list Sunday first).
DAY_CODES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
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


# --- Weeks of hours ---------------------------------------------------------------------------------
MINUTES_A_DAY = 24 * 60
MINUTES_A_WEEK = 7 * MINUTES_A_DAY
WEEK_ERROR_CODE = "invalid_week"


def _minutes(value: time) -> int:
    return value.hour * 60 + value.minute


def _range_name(weekday: int, start: time, end: time) -> str:
    return f"{DAY_CODES[weekday]} {start:%H:%M}-{end:%H:%M}"


def validate_week_ranges(ranges: list[tuple[int, time, time]]) -> None:
    """Ranges (weekday, start, end) of one week list: each lasts less than 24 hours (an end at or before
    the start is on the next day), and none overlaps another, the spill into the next day included (the
    week wraps: Sunday's night spills into Monday). Touching is fine. Errors name the range."""
    stretches = []
    for weekday, start, end in ranges:
        if end == start:
            raise ValidationError(
                _("The range %(range)s must last less than 24 hours.")
                % {"range": _range_name(weekday, start, end)},
                code=WEEK_ERROR_CODE,
            )
        begin = weekday * MINUTES_A_DAY + _minutes(start)
        length = (_minutes(end) - _minutes(start)) % MINUTES_A_DAY
        stretches.append((begin, begin + length, weekday, start, end))
    stretches.sort()
    # The first range again a week later: the last one of the week may spill into it.
    later_ones = [*stretches[1:], *((first[0] + MINUTES_A_WEEK, *first[1:]) for first in stretches[:1])]
    for earlier, later in zip(stretches, later_ones, strict=False):
        if len(stretches) > 1 and later[0] < earlier[1]:
            raise ValidationError(
                _("The range %(range)s overlaps %(other)s.")
                % {"range": _range_name(*later[2:]), "other": _range_name(*earlier[2:])},
                code=WEEK_ERROR_CODE,
            )


def validate_week_json(value: Any) -> None:
    """A special-hours week as stored: [{"day": "thu", "start": "16:00", "end": "02:00"}, ...]."""
    ranges = []
    for item in value if isinstance(value, list) else [None]:
        try:
            ranges.append(
                (
                    DAY_CODES.index(item["day"]),
                    time.fromisoformat(item["start"]),
                    time.fromisoformat(item["end"]),
                )
            )
        except (TypeError, KeyError, ValueError):
            raise ValidationError(
                _('The hours must be a list of {"day": "sun".."sat", "start": "HH:MM", "end": "HH:MM"}.'),
                code=WEEK_ERROR_CODE,
            ) from None
    validate_week_ranges(ranges)
