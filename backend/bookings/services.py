"""The booking lifecycle: one function per transition, each checking its allowed from-states under a row
lock, each writing its notification rows in the same transaction.

No double booking, whatever the concurrency: a start is validated by the same engine that lists the
slots; the insert happens in a transaction holding the staff member's row lock, after re-checking under
it; and the database's exclusion constraint (booking_staff_no_overlap) refuses any overlap that would
still get through. Losing a race is a clean 409 `slot_unavailable`, never a 500."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from backend.accounts.models import User
from backend.bookings.access import (
    ActingAs,
    booking_access_for_cancel,
    booking_access_for_close,
    booking_access_for_reschedule,
)
from backend.bookings.availability import Rejection
from backend.bookings.models import ACTIVE_STATUSES, Booking, BookingStatus, CancelledBy, PaymentStatus
from backend.bookings.payment_hooks import RefundCause, booking_paid_halalas, refund_request_hooks_run
from backend.bookings.policy import customer_may_reschedule, refund_for_cancellation
from backend.bookings.selectors import start_check
from backend.core.errors import ApplicationError
from backend.notifications.models import Kind
from backend.notifications.rendering import format_amount, format_when
from backend.notifications.services import notification_create
from backend.salons.models import Salon, Service, StaffMember

EXCLUSION_CONSTRAINT = "booking_staff_no_overlap"

_REJECTIONS = {
    Rejection.TOO_SOON: (400, _("This time is too soon to book; pick a later one.")),
    Rejection.TOO_FAR_AHEAD: (400, _("This time is too far ahead to book yet.")),
    Rejection.OUTSIDE_WORKING_HOURS: (400, _("The salon or the staff member is not working at this time.")),
    Rejection.SLOT_UNAVAILABLE: (409, _("This time was just taken; pick another one.")),
    Rejection.NOT_ON_SLOT_GRID: (400, _("Pick one of the start times the availability list offers.")),
}


def rejection_error(reason: Rejection) -> ApplicationError:
    status, message = _REJECTIONS[reason]
    return ApplicationError(str(reason), message, status=status)


def _most_telling(reasons: list[Rejection]) -> Rejection:
    """Why nobody can take a start: a clash if anyone works then but is busy, else the first rule broken."""
    if Rejection.SLOT_UNAVAILABLE in reasons:
        return Rejection.SLOT_UNAVAILABLE
    return min(reasons, key=list(Rejection).index)


def _is_overlap_violation(error: IntegrityError) -> bool:
    return EXCLUSION_CONSTRAINT in str(error)


# --- notifications ---------------------------------------------------------------------------------


def booking_notify(
    booking: Booking,
    kind: str,
    *,
    event: str = "",
    amount_halalas: int | None = None,
    refund_halalas: int = 0,
    dedupe_key: str | None = None,
) -> None:
    """Writes the customer's message about their booking in the current transaction: every booking and
    payment message goes through here. `event` tells apart repeated transitions of one kind (each
    reschedule is its own message); `amount_halalas` is the money the message is about (default: the
    price); `dedupe_key` overrides the booking-based one (payments key their messages by payment)."""
    customer = booking.customer
    if not customer.is_active:
        return
    language = customer.language
    money = booking.price_halalas if amount_halalas is None else amount_halalas
    with translation.override(language):
        context = {
            "salon": booking.salon.localized_name,
            "service": booking.service.localized_name,
            "staff": booking.staff.localized_name,
            "when": format_when(booking.start, tz=booking.salon.tz, language=language),
            "amount": format_amount(money, currency=booking.currency, language=language),
        }
        if refund_halalas:
            context["refund"] = format_amount(refund_halalas, currency=booking.currency, language=language)
    notification_create(
        kind=kind,
        phone=customer.phone_number,
        language=language,
        context=context,
        dedupe_key=dedupe_key or f"booking:{booking.pk}:{kind}{':' + event if event else ''}",
        recipient=customer,
    )


# --- create ----------------------------------------------------------------------------------------


def _candidates_by_load(*, salon: Salon, staff_ids: list[int], start: datetime) -> list[int]:
    """ "Any staff": the least busy that day first, then the lowest id, so the choice is deterministic."""
    local_day = start.astimezone(salon.tz).date()
    day_start = datetime.combine(local_day, datetime.min.time(), tzinfo=salon.tz)
    loads = dict(
        StaffMember.objects.filter(pk__in=staff_ids)
        .annotate(
            load=Count(
                "bookings",
                filter=Q(
                    bookings__status__in=ACTIVE_STATUSES,
                    bookings__start__gte=day_start,
                    bookings__start__lt=day_start + timedelta(days=1),
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
            booking = Booking.objects.create(
                salon=salon,
                service=service,
                staff=staff,
                customer=customer,
                start=start,
                end=start + terms.duration,
                occupied_until=start + terms.duration + service.buffer,
                status=BookingStatus.PENDING_PAYMENT if prepay else BookingStatus.CONFIRMED,
                hold_expires_at=now + timedelta(minutes=salon.hold_minutes) if prepay else None,
                price_halalas=terms.price_halalas,
                currency=service.currency,
                scheduled_at=now,
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


# --- transitions -----------------------------------------------------------------------------------


def booking_lock(*, booking_id: int) -> Booking:
    """Locks the booking's row (in the caller's transaction): the first lock of every write touching it
    (the lock order: backend/bookings/payment_hooks.py)."""
    return (
        Booking.objects.select_for_update(of=("self",))
        .select_related("salon", "service", "staff", "customer")
        .get(pk=booking_id)
    )


def _not_in_state(code: str, message) -> ApplicationError:
    return ApplicationError(code, message, status=409)


def booking_confirm(*, booking_id: int) -> Booking:
    """A held booking is paid: it becomes `confirmed`. Confirming a confirmed booking changes nothing."""
    with transaction.atomic():
        booking = booking_lock(booking_id=booking_id)
        if booking.status == BookingStatus.CONFIRMED:
            return booking
        if booking.status != BookingStatus.PENDING_PAYMENT:
            raise _not_in_state("not_confirmable", _("This booking can no longer be confirmed."))
        booking.status = BookingStatus.CONFIRMED
        booking.hold_expires_at = None
        booking.save(update_fields=["status", "hold_expires_at", "updated_at"])
        booking_notify(booking, Kind.BOOKING_CONFIRMED)
    return booking


def booking_payment_status_set(*, booking_id: int, status: str) -> None:
    """Records the booking's payment status (payments derives it from its rows, the booking locked)."""
    Booking.objects.filter(pk=booking_id).update(payment_status=status, updated_at=timezone.now())


def booking_checkout_complete(booking: Booking) -> None:
    """A started booking (locked by the caller) paid at the salon's counter: paid and completed."""
    booking.status = BookingStatus.COMPLETED
    booking.payment_status = PaymentStatus.PAID
    booking.save(update_fields=["status", "payment_status", "updated_at"])


def _cancel_locked(booking: Booking, *, by_salon: bool, reason: str, now: datetime) -> Booking:
    """Cancels `booking`, locked by the caller and known to be cancellable: the refund by the salon's
    tiers (in full when the salon cancels), its refund request and the customer's message, all in the
    caller's transaction."""
    refund = refund_for_cancellation(
        paid_halalas=booking_paid_halalas(booking_id=booking.pk),
        policy=booking.salon.cancellation_policy,
        time_left=booking.start - now,
        by_salon=by_salon,
    )
    booking.status = BookingStatus.CANCELLED
    booking.cancelled_at = now
    booking.cancelled_by = CancelledBy.SALON if by_salon else CancelledBy.CUSTOMER
    booking.cancellation_reason = reason
    booking.refund_halalas = refund
    booking.hold_expires_at = None
    booking.save()
    refund_request_hooks_run(booking=booking, amount_halalas=refund, cause=RefundCause.CANCELLATION)
    booking_notify(booking, Kind.BOOKING_CANCELLED, refund_halalas=refund)
    return booking


def booking_cancel(*, booking_id: int, actor, reason: str = "", now: datetime | None = None) -> Booking:
    """Cancels an active booking. The customer may cancel before the start, refunded by the salon's tiers;
    the salon's staff or manager may cancel any active booking, refunded in full (who is who:
    `booking_access_for_cancel`). `refund_halalas` is recorded with the cancellation, and its refund
    request is committed with it; the payments app executes it after commit."""
    now = now or timezone.now()
    with transaction.atomic():
        booking = booking_lock(booking_id=booking_id)
        by_salon = booking_access_for_cancel(user=actor, booking=booking) == ActingAs.SALON
        if booking.status not in ACTIVE_STATUSES or (not by_salon and booking.start <= now):
            raise _not_in_state("not_cancellable", _("This booking can no longer be cancelled."))
        return _cancel_locked(booking, by_salon=by_salon, reason=reason, now=now)


@dataclass(frozen=True)
class Rescheduled:
    booking: Booking
    refund_halalas: int  # what the move gives back: the price fell below what was paid


def _refuse_too_late(booking: Booking, *, paid_halalas: int, now: datetime) -> None:
    """The customer's tier rule (policy.customer_may_reschedule)."""
    if not customer_may_reschedule(
        paid_halalas=paid_halalas, policy=booking.salon.cancellation_policy, time_left=booking.start - now
    ):
        raise _not_in_state(
            "reschedule_too_late",
            _("This booking can no longer be moved: cancelling it now would not refund it in full."),
        )


def _reprice(booking: Booking, *, price_halalas: int, paid_halalas: int) -> int:
    """Sets the booking's new price (the staff member's for the service, as on create); returns the refund
    it owes. A paid booking never costs more after a move (409 `price_changed`); one that costs less is
    refunded down to the new price. A payment under way was created for the old amount: the price does
    not change under it (409 `payment_in_progress`)."""
    if price_halalas == booking.price_halalas:
        return 0
    if booking.payment_status == PaymentStatus.PENDING:
        raise _not_in_state(
            "payment_in_progress",
            _("A payment for this booking is under way; move it to this price once the payment is done."),
        )
    if paid_halalas and price_halalas > booking.price_halalas:
        raise ApplicationError(
            "price_changed",
            _("This time costs more than what was paid; cancel and book it again instead."),
            status=409,
            extra={"price_halalas": price_halalas},
        )
    booking.price_halalas = price_halalas
    return max(0, paid_halalas - price_halalas)


def booking_reschedule(
    *, booking_id: int, actor, start: datetime, staff_id: int | None = None, now: datetime | None = None
) -> Rescheduled:
    """Moves an active booking to `start` (with `staff_id`, or the same staff member), validated like a
    create and re-priced at that staff member's price. The old time is freed in the same transaction; a
    refused reschedule leaves the booking untouched.

    The customer may move a paid booking only while cancelling it would refund everything (else 409
    `reschedule_too_late`); the salon moves its customer's bookings whatever the tiers. A price drop on a
    paid booking is refunded through the cancellation refund path (requested in this transaction)."""
    now = now or timezone.now()
    with transaction.atomic():
        booking = booking_lock(booking_id=booking_id)
        acting_as = booking_access_for_reschedule(user=actor, booking=booking)
        if booking.status not in ACTIVE_STATUSES or booking.start <= now:
            raise _not_in_state("not_reschedulable", _("This booking can no longer be moved."))
        paid = booking_paid_halalas(booking_id=booking.pk)
        if acting_as == ActingAs.CUSTOMER:
            _refuse_too_late(booking, paid_halalas=paid, now=now)
        _refuse_beyond_horizon(salon=booking.salon, start=start, now=now)
        target_staff_id = staff_id if staff_id is not None else booking.staff_id
        target_staff = _lock_staff(salon=booking.salon, staff_id=target_staff_id)
        # The booking's own occupation does not count against its new time.
        check = start_check(
            salon=booking.salon,
            service=booking.service,
            start=start,
            staff_id=target_staff_id,
            now=now,
            ignore_booking_id=booking.pk,
        )
        if check.reasons[target_staff_id] == Rejection.NOT_ON_SLOT_GRID:
            # Off the grid the free time has without this booking, but the list the customer picked from
            # was built with it in place, and its grid restarts where this booking's buffer ends: a start
            # that list offers is accepted too.
            as_listed = start_check(
                salon=booking.salon, service=booking.service, start=start, staff_id=target_staff_id, now=now
            )
            if as_listed.reasons[target_staff_id] is None:
                check = as_listed
        if check.reasons[target_staff_id] is not None:
            raise rejection_error(check.reasons[target_staff_id])
        terms = check.links[target_staff_id]
        refund = _reprice(booking, price_halalas=terms.price_halalas, paid_halalas=paid)
        if target_staff_id in check.stale_holds:
            _expire_stale_holds_of(staff_id=target_staff_id, now=now)
        booking.staff = target_staff
        booking.start = start
        booking.end = start + terms.duration
        booking.occupied_until = booking.end + booking.service.buffer
        booking.scheduled_at = now
        try:
            with transaction.atomic():
                booking.save(
                    update_fields=[
                        "staff",
                        "start",
                        "end",
                        "occupied_until",
                        "price_halalas",
                        "scheduled_at",
                        "updated_at",
                    ]
                )
        except IntegrityError as error:
            if _is_overlap_violation(error):
                raise rejection_error(Rejection.SLOT_UNAVAILABLE) from error
            raise
        if refund:
            refund_request_hooks_run(booking=booking, amount_halalas=refund, cause=RefundCause.REPRICE)
        booking_notify(booking, Kind.BOOKING_RESCHEDULED, event=start.isoformat(), refund_halalas=refund)
    return Rescheduled(booking=booking, refund_halalas=refund)


def _finish(*, booking_id: int, actor, status: str, now: datetime | None) -> Booking:
    now = now or timezone.now()
    with transaction.atomic():
        booking = booking_lock(booking_id=booking_id)
        booking_access_for_close(user=actor, booking=booking)
        if booking.status != BookingStatus.CONFIRMED:
            raise _not_in_state("invalid_booking_state", _("Only a confirmed booking can be closed."))
        if booking.start > now:
            raise _not_in_state("not_started", _("This booking has not started yet."))
        booking.status = status
        booking.save(update_fields=["status", "updated_at"])
    return booking


def booking_complete(*, booking_id: int, actor, now: datetime | None = None) -> Booking:
    return _finish(booking_id=booking_id, actor=actor, status=BookingStatus.COMPLETED, now=now)


def booking_mark_no_show(*, booking_id: int, actor, now: datetime | None = None) -> Booking:
    return _finish(booking_id=booking_id, actor=actor, status=BookingStatus.NO_SHOW, now=now)


def _expire(bookings) -> int:
    """Expires the given held bookings (already locked by the caller), each with its message."""
    count = 0
    for booking in bookings:
        booking.status = BookingStatus.EXPIRED
        booking.save(update_fields=["status", "updated_at"])
        booking_notify(booking, Kind.BOOKING_EXPIRED)
        count += 1
    return count


def _stale_holds(now: datetime):
    return (
        Booking.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("salon", "service", "staff", "customer")
        .filter(status=BookingStatus.PENDING_PAYMENT, hold_expires_at__lte=now)
    )


def _expire_stale_holds_of(*, staff_id: int, now: datetime) -> None:
    """Under the staff row lock: holds past their time stop blocking now, not at the next sweep (the
    availability list already treats them as free)."""
    _expire(_stale_holds(now).filter(staff_id=staff_id))


def booking_expire_holds(*, now: datetime | None = None, limit: int = 500) -> int:
    """Beat, every minute: unpaid holds past `hold_expires_at` become `expired`, freeing their slots."""
    now = now or timezone.now()
    with transaction.atomic():
        return _expire(list(_stale_holds(now).order_by("hold_expires_at")[:limit]))


@dataclass(frozen=True)
class BulkCancellation:
    cancelled: int
    refund_halalas: int  # the refunds of the bookings cancelled, together
    remaining: int  # upcoming bookings still left, for the next call


def _cancel_upcoming(
    bookings: QuerySet[Booking], *, by_salon: bool, reason: str, now: datetime, limit: int | None = None
) -> BulkCancellation:
    """Cancels the active bookings of `bookings` that have not started, soonest first, all or at most
    `limit`, each in its own transaction under its row lock. The filter is applied again under the lock,
    so a booking cancelled or moved away meanwhile is left alone, and a call after a failure does the rest."""
    upcoming = bookings.filter(status__in=ACTIVE_STATUSES, start__gt=now)
    soonest_first = upcoming.order_by("start", "pk").values_list("pk", flat=True)
    ids = list(soonest_first if limit is None else soonest_first[: limit + 1])
    cancelled = refunded = 0
    for booking_id in ids[:limit]:
        with transaction.atomic():
            booking = (
                upcoming.select_for_update(of=("self",))
                .select_related("salon", "service", "staff", "customer")
                .filter(pk=booking_id)
                .first()
            )
            if booking is None:
                continue
            refunded += _cancel_locked(booking, by_salon=by_salon, reason=reason, now=now).refund_halalas
            cancelled += 1
    remaining = upcoming.count() if limit is not None and len(ids) > limit else 0
    return BulkCancellation(cancelled=cancelled, refund_halalas=refunded, remaining=remaining)


def bookings_cancel_for_deleted_account(*, user, now: datetime | None = None) -> int:
    """Account deletion: the customer's future active bookings are cancelled as if they asked."""
    now = now or timezone.now()
    mine = Booking.objects.filter(customer=user)
    return _cancel_upcoming(mine, by_salon=False, reason="account deleted", now=now).cancelled


STAFF_CANCEL_BATCH = 50  # bookings a call: ~50 short transactions, about a second


def bookings_cancel_upcoming_of_staff(
    *,
    staff: StaffMember,
    reason: str = "",
    overlapping: tuple[datetime, datetime] | None = None,
    now: datetime | None = None,
    limit: int = STAFF_CANCEL_BATCH,
) -> BulkCancellation:
    """The salon cancels the bookings of `staff` that have not started (someone leaving), or only those
    `overlapping` a (start, end) time (off sick for days): each refunded in full and its customer told,
    as when the salon cancels one. At most `limit` a call, so that the manager's request stays short;
    `remaining` says how many the next call will find."""
    now = now or timezone.now()
    mine = Booking.objects.filter(staff=staff)
    if overlapping is not None:
        mine = mine.filter(start__lt=overlapping[1], end__gt=overlapping[0])
    return _cancel_upcoming(mine, by_salon=True, reason=reason, now=now, limit=limit)


# --- reminders -------------------------------------------------------------------------------------


def _reminder_schedule() -> list[tuple[str, str, timedelta]]:
    """(kind, booking field recording it, how long before the start), longest offset first."""
    return sorted(
        [
            (Kind.REMINDER_24H, "reminded_24h_for", timedelta(minutes=settings.REMINDER_24H_OFFSET_MINUTES)),
            (Kind.REMINDER_2H, "reminded_2h_for", timedelta(minutes=settings.REMINDER_2H_OFFSET_MINUTES)),
        ],
        key=lambda reminder: reminder[2],
        reverse=True,
    )


def booking_reminders_write(*, now: datetime | None = None, limit: int = 1000) -> int:
    """Beat, every minute: writes the reminder rows that have fallen due. A confirmed booking gets the
    24 h reminder while it is between 24 h and 2 h away, and the 2 h one in its last 2 h, if it was booked
    (or moved) before that reminder's moment. Each reminder is recorded on the booking with the start it
    was for, so a missed beat run catches up, and a reschedule re-arms both. Cancelled bookings get none."""
    now = now or timezone.now()
    schedule = _reminder_schedule()
    written = 0
    for index, (kind, field, offset) in enumerate(schedule):
        next_offset = schedule[index + 1][2] if index + 1 < len(schedule) else timedelta(0)
        with transaction.atomic():
            due = list(
                Booking.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("salon", "service", "staff", "customer")
                .filter(
                    status=BookingStatus.CONFIRMED,
                    start__gt=now + next_offset,
                    start__lte=now + offset,
                    scheduled_at__lte=F("start") - offset,
                )
                .exclude(**{field: F("start")})
                .order_by("start")[:limit]
            )
            for booking in due:
                setattr(booking, field, booking.start)
                booking.save(update_fields=[field, "updated_at"])
                booking_notify(booking, kind, event=booking.start.isoformat())
        written += len(due)
    return written
