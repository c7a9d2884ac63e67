"""Creating a booking.

No double booking, whatever the concurrency: a start is validated by the same engine that lists the
slots; the insert happens in a transaction holding the staff member's row lock, after re-checking under
it; and the database's exclusion constraint (booking_staff_no_overlap) refuses any overlap that would
still get through. Losing a race is a clean 409 `slot_unavailable`, never a 500."""

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from backend.accounts.models import User
from backend.bookings.availability import Rejection
from backend.bookings.models import Booking, BookingStatus
from backend.bookings.selectors import start_check
from backend.bookings.services.holds import _expire_stale_holds_of
from backend.bookings.services.inserts import PlannedItem, booking_insert
from backend.bookings.services.notify import booking_notify
from backend.bookings.services.rejections import _is_overlap_violation, _most_telling, rejection_error
from backend.core.errors import ApplicationError
from backend.notifications.models import Kind
from backend.salons.models import Salon, Service, StaffMember


def _candidates_by_load(*, salon: Salon, staff_ids: list[int], start: datetime) -> list[int]:
    """ "Any staff": the least busy that day first, then the lowest id, so the choice is deterministic."""
    local_day = start.astimezone(salon.tz).date()
    day_start = datetime.combine(local_day, datetime.min.time(), tzinfo=salon.tz)
    loads = dict(
        StaffMember.objects.filter(pk__in=staff_ids)
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
    return sorted(staff_ids, key=lambda staff_id: (loads.get(staff_id, 0), staff_id))


def _refuse_beyond_horizon(*, salon: Salon, start: datetime, now: datetime) -> None:
    """The engine's own too_far_ahead rule, decided before loading anything: a start years away (up to
    datetime's year 9999) would otherwise overflow the date arithmetic of the schedule loader."""
    if start > now + timedelta(days=salon.horizon_days):
        raise rejection_error(Rejection.TOO_FAR_AHEAD)


def _lock_staff(*, salon: Salon, staff_id: int) -> StaffMember | None:
    """Takes the staff member's row lock: creators of one staff member's bookings take turns. An id that is
    not this salon's locks nothing (None); the check that follows refuses it with a validation error."""
    try:
        # get(), not first(): no ORDER BY to build for one row by its key, on every create.
        return StaffMember.objects.select_for_update().get(pk=staff_id, salon=salon)
    except StaffMember.DoesNotExist:
        return None


def _refuse_too_many_holds(*, customer, salon: Salon, now: datetime) -> None:
    """At most `salon.max_unpaid_holds` unpaid holds per customer per salon (holds past their time no
    longer count). The customer's user row is locked first, in the create's transaction, so two creates
    by one customer take turns and the second counts the first's hold: a transaction-level row lock, so
    it works behind PgBouncer's transaction pooling. NO KEY UPDATE: the KEY SHARE locks that inserting
    rows pointing at the user take (bookings, notifications) are not held up by it."""
    User.objects.select_for_update(no_key=True).filter(pk=customer.pk).values_list("pk").get()
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


def _insert_locked(
    *, customer, salon: Salon, service: Service, staff_id: int, start: datetime, now: datetime
) -> Booking | Rejection:
    """Inserts the booking for this staff member, or says why not. Holds the staff row lock from the
    re-check to the commit, so two requests for one staff member take turns; at a prepayment salon the
    customer's lock before it, for the hold limit."""
    try:
        with transaction.atomic():
            if salon.prepayment_required:
                _refuse_too_many_holds(customer=customer, salon=salon, now=now)
            staff = _lock_staff(salon=salon, staff_id=staff_id)
            check = start_check(salon=salon, service=service, start=start, staff_id=staff_id, now=now)
            if check.reasons[staff_id] is not None:
                return check.reasons[staff_id]
            if staff_id in check.stale_holds:
                _expire_stale_holds_of(staff_id=staff_id, now=now)
            terms = check.links[staff_id]
            prepay = salon.prepayment_required
            planned = PlannedItem(
                service=service,
                staff=staff,
                start=start,
                duration=terms.duration,
                price_halalas=terms.price_halalas,
            )
            booking = booking_insert(
                customer=customer,
                salon=salon,
                planned=[planned],
                status=BookingStatus.PENDING_PAYMENT if prepay else BookingStatus.CONFIRMED,
                now=now,
                hold_minutes=salon.hold_minutes if prepay else None,
            )
            if not prepay:
                booking_notify(booking, Kind.BOOKING_CONFIRMED)
            return booking
    except IntegrityError as error:
        if _is_overlap_violation(error):
            return Rejection.SLOT_UNAVAILABLE
        raise


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
    ("anyone"). Prepayment salons hold the slot as `pending_payment` until `hold_expires_at`."""
    now = now or timezone.now()
    _refuse_beyond_horizon(salon=salon, start=start, now=now)
    if staff_id is not None:
        # One staff member: the check under their row lock is the only one that decides.
        outcome = _insert_locked(
            customer=customer, salon=salon, service=service, staff_id=staff_id, start=start, now=now
        )
        if isinstance(outcome, Booking):
            return outcome
        raise rejection_error(outcome)
    reasons = start_check(salon=salon, service=service, start=start, now=now).reasons
    free = [candidate for candidate, reason in reasons.items() if reason is None]
    if not free:
        raise rejection_error(_most_telling([reason for reason in reasons.values() if reason is not None]))
    candidates = _candidates_by_load(salon=salon, staff_ids=free, start=start) if len(free) > 1 else free
    for candidate in candidates:
        outcome = _insert_locked(
            customer=customer, salon=salon, service=service, staff_id=candidate, start=start, now=now
        )
        if isinstance(outcome, Booking):
            return outcome
    # Every candidate was taken between the first check and its lock.
    raise rejection_error(Rejection.SLOT_UNAVAILABLE)
