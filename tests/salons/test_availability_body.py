"""The availability body written as JSON text (backend/bookings/availability_body.py), from the slots of
today's engine, is byte for byte what the API answered before issue 17: the engine as it was, and dicts
rendered by DRF's JSONRenderer, as the bench URLconf's as-shipped view still answers (config/bench_urls.py,
P8's baseline)."""

import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from backend.bookings.availability import Slot
from backend.bookings.availability_body import availability_json
from backend.bookings.selectors import availability_for
from backend.salons.models import TimeOff
from config import bench_urls
from tests.support.factories import at, make_booking, make_salon, make_service, make_staff, week

pytestmark = pytest.mark.django_db

ZONES = ("Europe/Berlin", "America/New_York", "Europe/London", "Asia/Riyadh", "UTC")


def dst_changes(tz: ZoneInfo, *, within_days: int = 330) -> list[date]:
    """The local dates on which `tz` changes its offset, from a week ahead (a week before one is still
    ahead) and within the test salons' horizon of a year."""
    first = timezone.localdate() + timedelta(days=8)
    offsets = [
        datetime.combine(first + timedelta(days=n), time(12), tzinfo=tz).utcoffset()
        for n in range(within_days)
    ]
    return [first + timedelta(days=n) for n in range(1, within_days) if offsets[n] != offsets[n - 1]]


def random_week(rng: random.Random, tz: ZoneInfo) -> date:
    """The first day of a week: around an offset change when the zone has one, else any week ahead."""
    changes = dst_changes(tz)
    if changes:
        return rng.choice(changes) - timedelta(days=rng.randrange(7))
    return timezone.localdate() + timedelta(days=rng.randrange(2, 300))


def old_body(salon, slots) -> bytes:
    return JSONRenderer().render(bench_urls.availability_representation(salon=salon, slots=slots))


@pytest.mark.parametrize("seed", range(8))
def test_a_random_week_renders_the_same_bytes_as_before(seed):
    rng = random.Random(seed)
    zone = ZONES[seed % len(ZONES)]
    tz = ZoneInfo(zone)
    salon = make_salon(
        timezone=zone,
        hours=week("00:00-04:00", "09:00-23:59"),
        slot_step_minutes=rng.choice([10, 15, 30, 60]),
    )
    service = make_service(
        salon, duration_minutes=rng.choice([20, 30, 45, 90]), buffer_minutes=rng.choice([0, 5])
    )
    first = random_week(rng, tz)
    staff = [
        make_staff(
            salon,
            services=[service],
            hours=week("00:00-23:59"),
            durations={service.id: rng.choice([25, 30, 60])} if rng.random() < 0.3 else None,
        )
        for _ in range(rng.randint(1, 5))
    ]
    for member in staff:
        # Two hours apart at least: longer than any service and its buffer here, so none overlap.
        starts = {(rng.randrange(7), rng.randrange(10, 22, 2)) for _ in range(rng.randint(0, 6))}
        for offset, hour in starts:
            make_booking(
                service=service, staff=member, start=at(first + timedelta(days=offset), f"{hour}:00", tz)
            )
        day = first + timedelta(days=rng.randrange(7))
        TimeOff.objects.create(staff=member, start=at(day, "12:00", tz), end=at(day, "14:30", tz))
    slots = availability_for(salon=salon, service=service, date_from=first, days=7)
    as_shipped = bench_urls.availability_for(salon=salon, service=service, date_from=first, days=7)
    # Since issue 19 a start in the hour the clocks went back over is not offered (its wall time was).
    as_shipped = [slot for slot in as_shipped if not slot.start.astimezone(tz).fold]
    assert len(slots) > 100
    assert [tuple(slot) for slot in slots] == [(s.start, s.end, s.staff_id) for s in as_shipped]
    assert availability_json(salon=salon, slots=slots) == old_body(salon, as_shipped)


@pytest.mark.parametrize(
    ("zone", "offset"), [("UTC", "+00:00"), ("Europe/Berlin", "+01:00"), ("Asia/Kathmandu", "+05:45")]
)
def test_every_time_keeps_its_explicit_offset(zone, offset):
    salon = make_salon(timezone=zone)
    start = datetime(2031, 1, 7, 10, tzinfo=UTC)
    slots = [Slot(start=start, end=start + timedelta(minutes=30), staff_id=7)]
    body = availability_json(salon=salon, slots=slots)
    assert body == old_body(salon, slots)
    assert body.count(offset.encode()) == 2 and b"Z" not in body


def test_no_slots_is_an_empty_list():
    salon = make_salon()
    assert availability_json(salon=salon, slots=[]) == b'{"timezone":"Asia/Riyadh","slots":[]}'
    assert availability_json(salon=salon, slots=[]) == old_body(salon, [])


@pytest.mark.urls("config.bench_urls")
def test_the_api_answers_what_the_as_shipped_view_answers(api_client):
    tz = ZoneInfo("Europe/Berlin")
    salon = make_salon(timezone="Europe/Berlin", hours=week("09:00-18:00"), slot_step_minutes=15)
    service = make_service(salon, duration_minutes=30)
    for _ in range(3):
        make_staff(salon, services=[service])
    first = dst_changes(tz)[0] - timedelta(days=3)
    query = {"service": service.id, "date": first.isoformat(), "days": 7}
    new = api_client.get(f"/api/v1/salons/{salon.id}/availability/", query)
    old = api_client.get(f"/bench/salons/{salon.id}/availability-as-shipped/", query)
    assert new.status_code == old.status_code == 200
    assert new.content == old.content
    assert len(new.json()["slots"]) == 3 * 7 * 35  # 09:00 to 17:30 every 15 minutes
    assert new["Content-Type"] == old["Content-Type"] == "application/json"
    assert set(new.headers) == set(old.headers)


@pytest.mark.urls("config.bench_urls")
@pytest.mark.parametrize(
    ("path", "query", "status"),
    [
        ("999999999", {"date": "2031-01-01"}, 404),
        ("{salon}", {"date": "tomorrow"}, 400),
        ("{salon}", {"date": "2031-01-01", "service": "999999999"}, 400),
        ("{salon}", {"date": "2031-01-01", "staff": "999999999"}, 400),
    ],
)
def test_errors_are_the_same_as_before(api_client, path, query, status):
    salon = make_salon()
    service = make_service(salon)
    query = {"service": service.id, **query}
    salon_id = path.format(salon=salon.id)
    new = api_client.get(f"/api/v1/salons/{salon_id}/availability/", query)
    old = api_client.get(f"/bench/salons/{salon_id}/availability-as-shipped/", query)
    assert new.status_code == old.status_code == status
    assert new.json() == old.json()
