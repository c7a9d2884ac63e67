"""The salon services called directly (a shell, the demo seed, other services) check what the API's
serializers check, so bad data is a ValidationError there too, never a half-written week."""

from datetime import time

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from backend.salons.services import WeekRange, business_hours_replace, working_hours_replace
from tests.support.factories import make_salon, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def hours_of(rows) -> list[tuple[int, time, time]]:
    return sorted((row.weekday, row.start, row.end) for row in rows)


def test_a_range_past_midnight_is_one_range_of_the_day_it_starts():
    salon = make_salon()
    week = business_hours_replace(
        salon=salon, ranges=[WeekRange(3, time(16), time(2)), WeekRange(4, time(16), time(0))]
    )
    assert hours_of(week) == [(3, time(16), time(2)), (4, time(16), time(0))]


def test_a_range_spilling_into_the_next_day_may_not_overlap_it_and_the_week_is_kept():
    salon = make_salon()
    before = hours_of(salon.business_hours.all())
    with pytest.raises(ValidationError) as raised:
        business_hours_replace(
            salon=salon, ranges=[WeekRange(3, time(16), time(2)), WeekRange(4, time(1), time(5))]
        )
    assert raised.value.message_dict == {
        "non_field_errors": ["The range fri 01:00-05:00 overlaps thu 16:00-02:00."]
    }
    assert hours_of(salon.business_hours.all()) == before
    # Sunday's night spills into Monday: the week wraps.
    with pytest.raises(ValidationError, match="mon 00:30-09:00 overlaps sun 22:00-01:00"):
        business_hours_replace(
            salon=salon, ranges=[WeekRange(6, time(22), time(1)), WeekRange(0, time(0, 30), time(9))]
        )
    week = business_hours_replace(
        salon=salon, ranges=[WeekRange(6, time(22), time(1)), WeekRange(0, time(1), time(9))]
    )
    assert len(week) == 2


def test_a_range_of_24_hours_is_refused_for_staff_too():
    staff = make_staff(make_salon())
    with pytest.raises(ValidationError, match="The range wed 09:00-09:00 must last less than 24 hours"):
        working_hours_replace(staff=staff, ranges=[WeekRange(2, time(9), time(9))])


def test_touching_ranges_are_one_week_and_overlapping_ones_are_refused():
    salon = make_salon()
    week = business_hours_replace(
        salon=salon, ranges=[WeekRange(0, time(13), time(16)), WeekRange(0, time(10), time(13))]
    )
    assert hours_of(week) == [(0, time(10), time(13)), (0, time(13), time(16))]
    with pytest.raises(ValidationError, match="The range mon 12:00-16:00 overlaps mon 10:00-13:00"):
        business_hours_replace(
            salon=salon, ranges=[WeekRange(0, time(10), time(13)), WeekRange(0, time(12), time(16))]
        )
