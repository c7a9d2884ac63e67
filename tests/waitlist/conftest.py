from datetime import date

import pytest

from tests.support.factories import at, make_booking, make_staff, make_user, next_weekday


@pytest.fixture
def day() -> date:
    return next_weekday(0)  # a Monday at least a week ahead


@pytest.fixture
def staff(salon, service):
    return make_staff(salon, services=[service])


@pytest.fixture
def full_day(salon, service, staff, day):
    """Every hour of `staff`'s day booked (09:00-21:00, one-hour service, hourly grid): 12 bookings."""
    salon.slot_step_minutes = 60
    salon.save(update_fields=["slot_step_minutes"])
    return [
        make_booking(service=service, staff=staff, start=at(day, f"{hour:02d}:00"), customer=make_user())
        for hour in range(9, 21)
    ]
