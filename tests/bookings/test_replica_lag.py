"""A replica that lags offers a slot the primary has already given away; booking it is still refused,
because the create path checks again on the primary under its locks (backend/core/db_router.py).

The lagging replica is real when the run has one (DATABASE_REPLICA_URLS, `make replica-suite`): a streaming
replica whose WAL replay is paused with pg_wal_replay_pause(). Otherwise it is a stale copy: a second
database on the same server that holds the primary's rows as they were before the first booking."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connections
from django.test import override_settings

from backend.bookings.models import Booking
from backend.salons.models import StaffMember
from tests.support.api import error_code
from tests.support.factories import client_for, make_salon, make_service, make_staff, make_user, next_weekday
from tests.support.waiting import wait_until

STREAMING = bool(settings.DATABASE_REPLICAS)
LAGGING = settings.DATABASE_REPLICAS[0] if STREAMING else "lagging_copy"

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", LAGGING])


def _replay_state() -> str:
    with connections[LAGGING].cursor() as cursor:
        cursor.execute("SELECT pg_get_wal_replay_pause_state()")
        return cursor.fetchone()[0]


def _freeze_replica(staff: StaffMember, tmp_path) -> None:
    """From now on the replica shows the primary as it is at this moment."""
    if STREAMING:
        wait_until(lambda: StaffMember.objects.using(LAGGING).filter(pk=staff.pk).exists())
        with connections[LAGGING].cursor() as cursor:
            cursor.execute("SELECT pg_wal_replay_pause()")
        wait_until(lambda: _replay_state() == "paused")
    else:
        dump = tmp_path / "primary.json"
        call_command("dumpdata", "accounts.User", "salons", "bookings", output=str(dump), verbosity=0)
        call_command("loaddata", str(dump), database=LAGGING, verbosity=0)


@pytest.fixture
def replay_resumed() -> Iterator[None]:
    yield
    if STREAMING:
        with connections[LAGGING].cursor() as cursor:
            cursor.execute("SELECT pg_wal_replay_resume()")


def _slots(client, salon, service, day: date) -> list[str]:
    response = client.get(
        f"/api/v1/salons/{salon.id}/availability/", {"service": service.id, "date": day.isoformat()}
    )
    assert response.status_code == 200, response.content
    return [slot["start"] for slot in response.json()["slots"]]


def test_a_slot_offered_by_a_lagging_replica_is_refused_by_the_primary(replay_resumed, tmp_path):
    salon = make_salon()
    service = make_service(salon, duration_minutes=60)
    staff = make_staff(salon, services=[service])
    day = next_weekday(0)
    first, second = make_user(name="First"), make_user(name="Second")
    _freeze_replica(staff, tmp_path)
    start = f"{day}T10:00:00+03:00"
    body = {"salon": salon.id, "service": service.id, "staff": staff.id, "start": start}

    with override_settings(DATABASE_REPLICAS=[LAGGING]):
        assert client_for(first).post("/api/v1/bookings/", body, format="json").status_code == 201

        # The second customer wrote nothing, so their reads go to the replica, which still offers 10:00
        assert start in _slots(client_for(second), salon, service, day)
        # ... while the primary (read by the first customer, pinned there by their write) does not.
        assert start not in _slots(client_for(first), salon, service, day)

        refused = client_for(second).post("/api/v1/bookings/", body, format="json")
        assert refused.status_code == 409 and error_code(refused) == "slot_unavailable"
    assert Booking.objects.filter(staff=staff).count() == 1
