"""Why a start is refused, as the API answers it; the exclusion constraint that backs the checks."""

from django.db import IntegrityError
from django.utils.translation import gettext_lazy as _

from backend.bookings.availability import Rejection
from backend.core.errors import ApplicationError

EXCLUSION_CONSTRAINT = "booking_staff_no_overlap"

_REJECTIONS = {
    Rejection.TOO_SOON: (400, _("This time is too soon to book; pick a later one.")),
    Rejection.TOO_FAR_AHEAD: (400, _("This time is too far ahead to book yet.")),
    Rejection.OUTSIDE_WORKING_HOURS: (400, _("The salon or the staff member is not working at this time.")),
    Rejection.SLOT_UNAVAILABLE: (409, _("This time was just taken; pick another one.")),
    Rejection.NOT_ON_SLOT_GRID: (400, _("Pick one of the start times the availability list offers.")),
}


def rejection_error(reason: Rejection) -> ApplicationError:
    status, message = _REJECTIONS[reason]
    return ApplicationError(str(reason), message, status=status)


def _is_overlap_violation(error: IntegrityError) -> bool:
    return EXCLUSION_CONSTRAINT in str(error)
