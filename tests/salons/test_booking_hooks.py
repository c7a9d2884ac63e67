"""The salons-bookings seam (backend/salons/booking_hooks.py): salons counts what its rows are in the way of
only through the counters bookings registers, adding them up, and nothing without one."""

from datetime import date

import pytest
from django.db.models import IntegerField, OuterRef, Value

from backend.core.hooks import HookList
from backend.salons import booking_hooks
from backend.salons.booking_hooks import InTheWayCounter
from backend.salons.models import Closure
from tests.support.factories import make_salon


def _counter(n: int) -> InTheWayCounter:
    return InTheWayCounter(
        of_time_off=lambda **_: Value(n, output_field=IntegerField()),
        of_closure=lambda **_: Value(n, output_field=IntegerField()),
        of_special_hours=lambda spans, **_: [n] * len(spans),
    )


@pytest.fixture
def counters(monkeypatch):
    registry = HookList()
    monkeypatch.setattr(booking_hooks, "_counters", registry)
    return registry


@pytest.mark.django_db
@pytest.mark.parametrize(("registered", "expected"), [((), 0), ((2,), 2), ((2, 3), 5)])
def test_counts_add_up_over_the_registered_counters(counters, registered, expected):
    for n in registered:
        counters.register(_counter(n))
    salon = make_salon()
    Closure.objects.create(salon=salon, date=date(2030, 1, 1), end_date=date(2030, 1, 1))
    in_the_way = booking_hooks.closure_in_the_way(
        salon=salon, first=OuterRef("date"), last=OuterRef("end_date")
    )
    assert [row.n for row in salon.closures.annotate(n=in_the_way)] == [expected]
    assert booking_hooks.special_hours_in_the_way(["a", "b"], salon=salon, staff=None) == [expected] * 2


def test_a_counter_registered_twice_counts_once(counters):
    counter = _counter(1)
    counters.register(counter)
    booking_hooks.register_in_the_way_counter(counter)
    assert booking_hooks.special_hours_in_the_way(["a"], salon=None, staff=None) == [1]
