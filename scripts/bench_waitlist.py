"""`make bench` rows P9 and P9s (issue 23): the waitlist against the running stack.

P9: seconds from a cancellation's commit to the waitlist offer's message being written (the outbox row
that the notifications worker delivers), p50 and p95 over `cancellations` cancellations made at a steady
pace, with `entries` open waitlist entries. P9s: what one beat sweep costs with those entries open.

The salon: 10 staff members, an hourly grid 09:00-21:00, a one-hour service, every slot of 7 days booked;
the entries ask for "anyone" on those dates. Each cancellation frees one slot, and the first entry of its
date in join order is offered it by the `default` worker (`waitlist.match`)."""

from __future__ import annotations

import statistics
import time as clock
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

STAFF = 10
DAYS = 7
HOURS = range(9, 21)
PHONE_PREFIX = "+96658"


@dataclass(frozen=True)
class WaitlistPlan:
    entries: int = 1000
    cancellations: int = 200
    per_second: float = 4.0  # cancellations leave on a fixed schedule, not back to back
    sweeps: int = 5


@dataclass(frozen=True)
class WaitlistScenario:
    salon_id: int
    manager_id: int
    bookings: list[int]  # every booked slot, in an order that spreads cancellations over dates and staff
    first_day: date


def make_scenario(plan: WaitlistPlan) -> WaitlistScenario:
    from django.db import transaction
    from django.utils import timezone

    from backend.accounts.models import User
    from backend.bookings.models import Booking, BookingStatus
    from backend.salons import services
    from backend.salons.services import WeekRange
    from backend.waitlist.models import WaitlistEntry

    first_day = timezone.localdate() + timedelta(days=1)
    week = [WeekRange(day, time(HOURS[0]), time(HOURS[-1] + 1)) for day in range(7)]
    with transaction.atomic():
        salon = services.salon_create(
            name="Waitlist bench", city="Riyadh", manager_phone=f"{PHONE_PREFIX}9999999"
        )
        services.salon_update(salon=salon, data={"slot_step_minutes": 60, "min_notice_minutes": 0})
        services.business_hours_replace(salon=salon, ranges=week)
        service = services.service_create(
            salon=salon, name="Haircut", duration_minutes=60, price_halalas=5000
        )
        staff = [
            services.staff_create(salon=salon, name=f"Staff {n}", service_ids=[service.pk])
            for n in range(STAFF)
        ]
        for member in staff:
            services.working_hours_replace(staff=member, ranges=week)
        owner = salon.managers.get()
        starts = [
            datetime.combine(first_day + timedelta(days=offset), time(hour), tzinfo=salon.tz)
            for offset in range(DAYS)
            for hour in HOURS
        ]
        booked = Booking.objects.bulk_create(
            Booking(
                salon=salon,
                service=service,
                staff=member,
                customer=owner,
                start=start,
                end=start + timedelta(hours=1),
                occupied_until=start + timedelta(hours=1),
                status=BookingStatus.CONFIRMED,
                price_halalas=service.price_halalas,
            )
            for start in starts
            for member in staff
        )
        customers = [User.objects.create_user(f"{PHONE_PREFIX}{n:07d}") for n in range(plan.entries)]
        WaitlistEntry.objects.bulk_create(
            WaitlistEntry(
                customer=customer, salon=salon, service=service, date=first_day + timedelta(days=n % DAYS)
            )
            for n, customer in enumerate(customers)
        )
    # Spread: a prime stride over the bookings, so consecutive cancellations hit other dates and staff.
    order = [booked[(index * 7919) % len(booked)].pk for index in range(len(booked))]
    return WaitlistScenario(salon_id=salon.pk, manager_id=owner.pk, bookings=order, first_day=first_day)


def percentile_of(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))]


def cancel_and_time(
    scenario: WaitlistScenario,
    plan: WaitlistPlan,
    *,
    wait_for: Callable[..., Any],
    progress: Callable[[str], None],
) -> list[float]:
    """Cancels `plan.cancellations` bookings on a fixed schedule, then waits for every offer's message;
    each latency is the message row's created_at minus the moment the cancellation had committed."""
    from django.utils import timezone

    from backend.accounts.models import User
    from backend.bookings.models import Booking
    from backend.bookings.services import booking_cancel
    from backend.notifications.models import Kind, Notification

    manager = User.objects.get(pk=scenario.manager_id)
    committed: dict[tuple[int, datetime], datetime] = {}
    started = clock.monotonic()
    for index, booking_id in enumerate(scenario.bookings[: plan.cancellations]):
        delay = started + index / plan.per_second - clock.monotonic()
        if delay > 0:
            clock.sleep(delay)
        booking = booking_cancel(booking_id=booking_id, actor=manager)
        committed[(booking.staff_id, booking.start)] = timezone.now()
        if index % 50 == 49:
            progress(f"P9: {index + 1}/{plan.cancellations} cancellations")
    messages = Notification.objects.filter(kind=Kind.WAITLIST_OFFER)
    wait_for(
        lambda: messages.count() >= plan.cancellations,
        timeout=120,
        what=f"{plan.cancellations} waitlist offers",
        interval=0.1,
    )
    offered_at = {
        int(key.split(":")[1]): created for key, created in messages.values_list("dedupe_key", "created_at")
    }
    latencies = []
    for booking_id, staff_id, start in Booking.objects.filter(pk__in=offered_at).values_list(
        "pk", "staff_id", "start"
    ):
        latencies.append((offered_at[booking_id] - committed[(staff_id, start)]).total_seconds())
    return latencies


def sweep_costs(plan: WaitlistPlan) -> tuple[list[float], int, int]:
    """Seconds of each of `plan.sweeps` sweeps, the SQL statements of one, and the entries still open."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from backend.waitlist.matching import waitlist_sweep
    from backend.waitlist.models import EntryStatus, WaitlistEntry

    seconds = []
    queries = 0
    for _ in range(plan.sweeps):
        with CaptureQueriesContext(connection) as captured:
            started = clock.perf_counter()
            waitlist_sweep()
            seconds.append(clock.perf_counter() - started)
        queries = len(captured)
    return seconds, queries, WaitlistEntry.objects.filter(status=EntryStatus.WAITING).count()


def measure_waitlist(
    plan: WaitlistPlan, *, figure: Callable[..., Any], goal: Callable[..., Any], wait_for, progress
) -> dict[str, Any]:
    """Rows P9 and P9s, as the bench's Figure objects (`figure`, `goal`: its classes)."""
    progress(f"P9: a fully booked salon, {plan.entries} waitlist entries")
    scenario = make_scenario(plan)
    latencies = cancel_and_time(scenario, plan, wait_for=wait_for, progress=progress)
    p50, p95 = statistics.median(latencies), percentile_of(latencies, 0.95)
    progress(f"P9s: {plan.sweeps} sweeps")
    seconds, queries, still_open = sweep_costs(plan)
    median = statistics.median(seconds)
    return {
        "P9": figure(
            "P9",
            f"waitlist: cancellation committed -> offer message written, p95 s ({plan.entries} entries)",
            f"p50 {p50:.3f} s, p95 {p95:.3f} s, max {max(latencies):.3f} s "
            f"(n={len(latencies)}, {plan.per_second:g} cancellations/s)",
            p95,
            goal("<=", 2),
        ),
        "P9s": figure(
            "P9s",
            "waitlist sweep with the entries open: seconds per sweep ÷ its 60 s beat period",
            f"median {median * 1000:.0f} ms (max {max(seconds) * 1000:.0f} ms), {queries} SQL statements, "
            f"{still_open} waiting entries",
            median / 60,
            goal("<=", 0.05),
        ),
    }
