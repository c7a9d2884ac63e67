"""Creating a booking: a visit of 1 to 5 services back to back (one service is a one-item visit).

No double booking, whatever the concurrency: a start is validated by the same search that lists the
slots; the insert happens in a transaction holding the row locks of every staff member of the visit,
taken in one global order (by id, in one statement), after re-checking under them; and the database's
exclusion constraint (booking_staff_no_overlap, on each item's occupation) refuses any overlap that would
still get through. Losing a race is a clean 409 `slot_unavailable`, never a 500 nor a deadlock. The
customer's row lock comes first: a customer's creates and reschedules take turns, so the hold limit and
`customer_busy` (one customer never in two visits at once in a salon) count each other's rows."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from django.db import IntegrityError, OperationalError, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from backend.accounts.models import User
from backend.bookings.availability import Rejection
from backend.bookings.models import Booking, BookingStatus
from backend.bookings.selectors import VisitCheck, visit_check
from backend.bookings.services.holds import _expire_stale_holds_of
from backend.bookings.services.inserts import PlannedItem, booking_insert
from backend.bookings.services.notify import booking_notify
from backend.bookings.services.rejections import _is_overlap_violation, rejection_error
from backend.bookings.visits import VisitRefusal, VisitSlot
from backend.core.errors import ApplicationError
from backend.notifications.models import Kind
from backend.salons.models import Salon, Service, StaffMember


class LocksBusy(Exception):
    """An offer found a lock it needs taken (`booking_offer_hold` never waits for one)."""


@dataclass(frozen=True)
class RequestedItem:
    """One item as asked: the service, and its staff member or None ("anyone")."""

    service: Service
    staff_id: int | None = None


def _candidates_by_load(*, salon: Salon, options: list[VisitSlot], start: datetime) -> list[VisitSlot]:
    """ "Any staff": the visits whose first staff member is least busy that day first, then by that staff
    member's id, so the choice is deterministic."""
    local_day = start.astimezone(salon.tz).date()
    day_start = datetime.combine(local_day, datetime.min.time(), tzinfo=salon.tz)
    loads = dict(
        StaffMember.objects.filter(pk__in=[option.staff_id for option in options])
        .annotate(
            load=Count(
                "booking_items",
                filter=Q(
                    booking_items__active=True,
                    booking_items__start__gte=day_start,
                    booking_items__start__lt=day_start + timedelta(days=1),
                ),
            )
        )
        .values_list("pk", "load")
    )
    return sorted(options, key=lambda option: (loads.get(option.staff_id, 0), option.staff_id))


def _refuse_beyond_horizon(*, salon: Salon, start: datetime, now: datetime) -> None:
    """The engine's own too_far_ahead rule, decided before loading anything: a start years away (up to
    datetime's year 9999) would otherwise overflow the date arithmetic of the schedule loader."""
    if start > now + timedelta(days=salon.horizon_days):
        raise rejection_error(Rejection.TOO_FAR_AHEAD)


def _lock_staff(*, salon: Salon, staff_id: int, nowait: bool = False) -> StaffMember | None:
    """Takes the staff member's row lock: creators of one staff member's bookings take turns. An id that is
    not this salon's locks nothing (None); the check that follows refuses it with a validation error."""
    try:
        # get(), not first(): no ORDER BY to build for one row by its key, on every create.
        return StaffMember.objects.select_for_update(nowait=nowait).get(pk=staff_id, salon=salon)
    except StaffMember.DoesNotExist:
        return None


def _lock_staff_in_order(
    *, salon: Salon, staff_ids: set[int], nowait: bool = False
) -> dict[int, StaffMember]:
    """The row locks of every staff member of a visit, in one statement and in id order (the global lock
    order: two visits sharing staff members in any order never wait on each other in a cycle)."""
    if len(staff_ids) == 1:
        (staff_id,) = staff_ids
        staff = _lock_staff(salon=salon, staff_id=staff_id, nowait=nowait)
        return {} if staff is None else {staff_id: staff}
    locked = StaffMember.objects.select_for_update(nowait=nowait).filter(pk__in=staff_ids, salon=salon)
    locked = locked.order_by("pk")
    return {staff.pk: staff for staff in locked}


def _lock_customer(customer, *, nowait: bool = False) -> None:
    """The customer's user row, first in the create's transaction: two creates by one customer take turns.
    A transaction-level row lock, so it works behind PgBouncer's transaction pooling. NO KEY UPDATE: the
    KEY SHARE locks that inserting rows pointing at the user take (bookings, notifications) are not held
    up by it."""
    User.objects.select_for_update(no_key=True, nowait=nowait).filter(pk=customer.pk).values_list("pk").get()


def _lock_customer_of(*, booking_id: int) -> None:
    """`_lock_customer` for the customer of a booking, taken before the booking's own row lock, in one
    statement (a booking's customer never changes). The global lock order is the customer's row, then the
    booking's, then the staff members' in id order: a create takes the customer's then the staff's, an
    account deletion the user's then its bookings', so a reschedule racing either never waits in a cycle.
    An unknown booking locks nothing; the booking's own lock then answers for it."""
    customer = Booking.objects.filter(pk=booking_id).values("customer_id")
    list(User.objects.select_for_update(no_key=True).filter(pk__in=customer).values_list("pk"))


def _refuse_too_many_holds(*, customer, salon: Salon, now: datetime) -> None:
    """At most `salon.max_unpaid_holds` unpaid holds per customer per salon (holds past their time no
    longer count); under the customer's lock, so the second of two creates counts the first's hold."""
    holds = Booking.objects.filter(
        customer=customer, salon=salon, status=BookingStatus.PENDING_PAYMENT, hold_expires_at__gt=now
    ).count()
    if holds >= salon.max_unpaid_holds:
        raise ApplicationError(
            "too_many_holds",
            _(
                "You already have as many bookings waiting for payment here as this salon allows; pay for "
                "or cancel one first."
            ),
            status=409,
            extra={"max_unpaid_holds": salon.max_unpaid_holds},
        )


def _is_lock_not_available(error: OperationalError) -> bool:
    """FOR UPDATE NOWAIT found the row locked (SQLSTATE 55P03, lock_not_available)."""
    return getattr(error.__cause__, "sqlstate", None) == "55P03"


def customer_busy_error() -> ApplicationError:
    return ApplicationError("customer_busy", _("You already have a booking here at this time."), status=409)


def _refusal_error(refusal: VisitRefusal, *, items: int) -> ApplicationError:
    """The rejection's error; for a visit of several items, naming the item nobody could take."""
    error = rejection_error(refusal.reason)
    if items > 1:
        error.extra["item"] = refusal.item
    return error


def planned_items(
    check: VisitCheck, *, services: Sequence[Service], visit: VisitSlot, staff: dict[int, StaffMember]
) -> list[PlannedItem]:
    """The visit's items as checked: each service with its staff member (locked), times and price."""
    return [
        PlannedItem(
            service=service,
            staff=staff[item.staff_id],
            start=item.start,
            duration=item.end - item.start,
            price_halalas=check.terms(index, item.staff_id).price_halalas,
        )
        for index, (service, item) in enumerate(zip(services, visit.items, strict=True))
    ]


def _insert_locked(
    *,
    customer,
    salon: Salon,
    services: Sequence[Service],
    pins: Sequence[int],
    start: datetime,
    now: datetime,
    offer_until: datetime | None = None,
) -> Booking | VisitRefusal:
    """Inserts the visit with these staff members, or says why not. Holds the customer's lock, then every
    staff member's, from the re-check to the commit. With `offer_until`, the row is a waitlist offer held
    until then (`offered`: no payment hold, no message of its own), and a lock already taken raises
    `LocksBusy` instead of being waited for: the matching round making the offer holds the locks of the
    offers it made before, so waiting could close a cycle with a create holding this customer's lock and
    waiting for one of those staff members (PostgreSQL would then fail one of the two)."""
    nowait = offer_until is not None
    try:
        with transaction.atomic():
            _lock_customer(customer, nowait=nowait)
            prepay = salon.prepayment_required and offer_until is None
            if prepay:
                _refuse_too_many_holds(customer=customer, salon=salon, now=now)
            staff = _lock_staff_in_order(salon=salon, staff_ids=set(pins), nowait=nowait)
            check = visit_check(
                salon=salon, services=services, start=start, pins=pins, now=now, customer_id=customer.pk
            )
            if isinstance(check.outcome, VisitRefusal):
                return check.outcome
            visit = check.outcome[0]
            if check.schedules.customer_busy(visit.start, visit.end):
                raise customer_busy_error()
            for staff_id in sorted(set(pins) & check.schedules.stale_holds):
                _expire_stale_holds_of(staff_id=staff_id, now=now)
            planned = planned_items(check, services=services, visit=visit, staff=staff)
            if offer_until is not None:
                status, hold_until = BookingStatus.OFFERED, offer_until
            elif prepay:
                status, hold_until = (
                    BookingStatus.PENDING_PAYMENT,
                    now + timedelta(minutes=salon.hold_minutes),
                )
            else:
                status, hold_until = BookingStatus.CONFIRMED, None
            booking = booking_insert(
                customer=customer, salon=salon, planned=planned, status=status, now=now, hold_until=hold_until
            )
            if status == BookingStatus.CONFIRMED:
                booking_notify(booking, Kind.BOOKING_CONFIRMED)
            return booking
    except IntegrityError as error:
        if _is_overlap_violation(error):
            return VisitRefusal(0, Rejection.SLOT_UNAVAILABLE)
        raise
    except OperationalError as error:
        if nowait and _is_lock_not_available(error):
            raise LocksBusy from error
        raise


def visit_create(
    *,
    customer,
    salon: Salon,
    items: Sequence[RequestedItem],
    start: datetime,
    now: datetime | None = None,
    offer_until: datetime | None = None,
) -> Booking:
    """Books the services of `items` back to back from `start`, each with its staff member or the least
    busy one free then ("anyone"): all items or none. Prepayment salons hold the visit as
    `pending_payment` until `hold_expires_at`; with `offer_until`, a waitlist offer (`booking_offer_hold`)."""
    now = now or timezone.now()
    _refuse_beyond_horizon(salon=salon, start=start, now=now)
    services = [item.service for item in items]
    pins = [item.staff_id for item in items]
    insert = partial(
        _insert_locked,
        customer=customer,
        salon=salon,
        services=services,
        start=start,
        now=now,
        offer_until=offer_until,
    )
    if all(pin is not None for pin in pins):
        # Every staff member named: the check under their row locks is the only one that decides.
        outcome = insert(pins=pins)
        if isinstance(outcome, Booking):
            return outcome
        raise _refusal_error(outcome, items=len(items))
    check = visit_check(salon=salon, services=services, start=start, pins=pins, now=now)
    if isinstance(check.outcome, VisitRefusal):
        raise _refusal_error(check.outcome, items=len(items))
    options = check.outcome
    if len(options) > 1:
        options = _candidates_by_load(salon=salon, options=options, start=start)
    for option in options:
        chosen = [item.staff_id for item in option.items]
        outcome = insert(pins=chosen)
        if isinstance(outcome, Booking):
            return outcome
    # Every choice was taken between the first check and its locks.
    raise _refusal_error(VisitRefusal(0, Rejection.SLOT_UNAVAILABLE), items=len(items))


def booking_create(
    *,
    customer,
    salon: Salon,
    service: Service,
    start: datetime,
    staff_id: int | None = None,
    now: datetime | None = None,
) -> Booking:
    """Books `service` at `start` with `staff_id`, or with the least busy qualified staff member free then
    ("anyone"): a one-item visit."""
    return visit_create(
        customer=customer, salon=salon, items=[RequestedItem(service, staff_id)], start=start, now=now
    )


def booking_offer_hold(
    *,
    customer,
    salon: Salon,
    service: Service,
    start: datetime,
    offer_until: datetime,
    staff_id: int | None = None,
    now: datetime | None = None,
) -> Booking:
    """Holds `start` for a waitlisted customer until `offer_until`: a one-item visit in status `offered`,
    inserted by the create path (the same checks, locks and exclusion constraint as any booking), so
    nobody else can take the slot meanwhile. Refused like a create (`rejection_error`, `customer_busy`);
    `LocksBusy` when the customer's or a staff member's lock is taken (it never waits: see
    `_insert_locked`)."""
    return visit_create(
        customer=customer,
        salon=salon,
        items=[RequestedItem(service, staff_id)],
        start=start,
        now=now,
        offer_until=offer_until,
    )
