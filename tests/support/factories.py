"""Plain functions that make rows for tests, with sensible defaults; keyword arguments override them."""

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from itertools import count
from zoneinfo import ZoneInfo

from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from backend.accounts.models import User
from backend.bookings.models import Booking, BookingItem, BookingStatus, PaymentStatus
from backend.payments.models import Payment, Status
from backend.salons.models import (
    BusinessHours,
    Salon,
    Service,
    StaffMember,
    StaffService,
    WorkingHours,
)

EVERY_DAY = range(7)
_phone_numbers = count(1)


def next_phone() -> str:
    """A fresh valid Saudi mobile number in E.164."""
    return f"+96655{next(_phone_numbers):07d}"


def make_user(*, phone: str | None = None, **fields) -> User:
    return User.objects.create_user(phone or next_phone(), **fields)


def make_admin() -> User:
    return User.objects.create_superuser(next_phone())


def client_for(user: User | None) -> APIClient:
    """An API client that sends the user's access token, as the mobile app does (None: anonymous)."""
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    return client


def week(*ranges: str, days: Iterable[int] = EVERY_DAY) -> list[tuple[int, time, time]]:
    """("10:00-13:00", "16:00-23:00") on each of `days` (date.weekday() numbers)."""
    return [
        (day, time.fromisoformat(start), time.fromisoformat(end))
        for day in days
        for start, end in (hours_range.split("-") for hours_range in ranges)
    ]


def make_salon(*, hours: list[tuple[int, time, time]] | None = None, managers=(), **fields) -> Salon:
    """A salon open `hours` (default every day 09:00-21:00), bookable at once and a year ahead."""
    fields = {
        "name": "Test Salon",
        "city": "Riyadh",
        "min_notice_minutes": 0,
        "horizon_days": 365,
        "slot_step_minutes": 30,
        **fields,
    }
    salon = Salon.objects.create(**fields)
    salon.managers.add(*managers)
    BusinessHours.objects.bulk_create(
        BusinessHours(salon=salon, weekday=day, start=start, end=end)
        for day, start, end in (week("09:00-21:00") if hours is None else hours)
    )
    return salon


def make_service(salon: Salon, **fields) -> Service:
    fields = {"name": "Haircut", "duration_minutes": 60, "price_halalas": 5000, **fields}
    return Service.objects.create(salon=salon, **fields)


def make_staff(
    salon: Salon,
    *,
    services: Iterable[Service] = (),
    hours: list[tuple[int, time, time]] | None = None,
    durations: dict[int, int] | None = None,
    **fields,
) -> StaffMember:
    """A staff member performing `services` (`durations`: service id -> own minutes), working `hours`
    (default every day 09:00-21:00)."""
    staff = StaffMember.objects.create(salon=salon, **{"name": "Staff", **fields})
    durations = durations or {}
    StaffService.objects.bulk_create(
        StaffService(staff=staff, service=service, duration_minutes=durations.get(service.id))
        for service in services
    )
    WorkingHours.objects.bulk_create(
        WorkingHours(staff=staff, weekday=day, start=start, end=end)
        for day, start, end in (week("09:00-21:00") if hours is None else hours)
    )
    return staff


def make_booking(
    *,
    service: Service,
    staff: StaffMember,
    start: datetime,
    customer: User | None = None,
    status: str = BookingStatus.CONFIRMED,
    **fields,
) -> Booking:
    """A one-item visit, written straight to the tables (no availability check): the item carries the
    occupation the database guards. `fields` set more of the booking's columns."""
    return make_visit([(service, staff, start)], customer=customer, status=status, **fields)


def make_visit(
    items: Iterable[tuple[Service, StaffMember, datetime]],
    *,
    customer: User | None = None,
    status: str = BookingStatus.CONFIRMED,
    **fields,
) -> Booking:
    """A visit of several items, each (service, staff, start), written straight to the tables like
    make_booking: the booking row is the visit's summary (the first item's service and staff, the first
    start, the last end, the price sum), as the booking services write it; `fields` set its other
    columns."""
    rows = [
        (service, staff, start, start + timedelta(minutes=service.duration_minutes))
        for service, staff, start in items
    ]
    first_service, first_staff, first_start, _ = rows[0]
    booking = Booking.objects.create(
        salon_id=first_service.salon_id,
        service=first_service,
        staff=first_staff,
        customer=customer or make_user(),
        start=first_start,
        end=max(end for *_, end in rows),
        occupied_until=max(end + service.buffer for service, _, _, end in rows),
        status=status,
        price_halalas=sum(service.price_halalas for service, *_ in rows),
        **fields,
    )
    BookingItem.objects.bulk_create(
        BookingItem(
            booking=booking,
            position=position,
            service=service,
            staff=staff,
            start=start,
            end=end,
            occupied_until=end + service.buffer,
            price_halalas=service.price_halalas,
        )
        for position, (service, staff, start, end) in enumerate(rows)
    )
    return booking


RIYADH = ZoneInfo("Asia/Riyadh")


def at(day: date, wall: str, tz: ZoneInfo = RIYADH) -> datetime:
    """That wall-clock time ("10:30") on `day` in `tz`: how tests name a salon's local times."""
    return datetime.combine(day, time.fromisoformat(wall), tzinfo=tz)


def next_weekday(weekday: int, *, after: date | None = None, weeks_ahead: int = 1) -> date:
    """A date on `weekday`, at least `weeks_ahead` weeks after `after` (default today)."""
    start = (after or date.today()) + timedelta(weeks=weeks_ahead)
    return start + timedelta(days=(weekday - start.weekday()) % 7)


def make_paid_payment(booking: Booking, **fields) -> Payment:
    """A payment the gateway reported paid, for the whole price (the booking marked paid too)."""
    fields = {
        "amount_halalas": booking.price_halalas,
        "status": Status.PAID,
        "source_type": "token",
        **fields,
    }
    booking.payment_status = PaymentStatus.PAID
    booking.save(update_fields=["payment_status"])
    return Payment.objects.create(booking=booking, **fields)
