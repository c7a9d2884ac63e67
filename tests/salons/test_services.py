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


def test_a_range_that_ends_before_it_starts_is_refused_and_the_week_kept():
    salon = make_salon()
    before = hours_of(salon.business_hours.all())
    with pytest.raises(ValidationError) as raised:
        business_hours_replace(
            salon=salon, ranges=[WeekRange(0, time(10), time(13)), WeekRange(1, time(13), time(10))]
        )
    assert raised.value.message_dict == {"non_field_errors": ["The end must be after the start."]}
    assert hours_of(salon.business_hours.all()) == before


def test_an_empty_range_is_refused_for_staff_too():
    staff = make_staff(make_salon())
    with pytest.raises(ValidationError, match="The end must be after the start"):
        working_hours_replace(staff=staff, ranges=[WeekRange(2, time(9), time(9))])


def test_touching_ranges_are_one_week_and_overlapping_ones_are_refused():
    salon = make_salon()
    week = business_hours_replace(
        salon=salon, ranges=[WeekRange(0, time(13), time(16)), WeekRange(0, time(10), time(13))]
    )
    assert hours_of(week) == [(0, time(10), time(13)), (0, time(13), time(16))]
    with pytest.raises(ValidationError, match="Ranges on mon overlap"):
        business_hours_replace(
            salon=salon, ranges=[WeekRange(0, time(10), time(13)), WeekRange(0, time(12), time(16))]
        )
