"""The benchmark command keeps working and leaves the database as it found it (its figures are not tested)."""

from io import StringIO

import pytest
from django.core.management import call_command

from backend.bookings.models import Booking
from backend.salons.models import Salon

pytestmark = pytest.mark.django_db


def test_bench_availability_prints_its_table_and_rolls_back():
    out = StringIO()
    call_command("bench_availability", runs=1, stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].split()[:3] == ["scenario", "slots", "SQL"]
    assert lines[2].startswith("1 staff x 1 day") and lines[3].startswith("20 staff x 7 days, 500 bookings")
    assert lines[4].startswith("the same with special hours")
    assert "ratio (busy / small): queries 1.00" in out.getvalue()
    # Special hours are read by the same one statement.
    assert "with special hours / without: queries 1.00" in out.getvalue()
    assert not Salon.objects.exists() and not Booking.objects.exists()
