"""Waitlist writes: joining, leaving, answering an offer, and an account's entries going with it."""

from datetime import datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from backend.accounts.models import User
from backend.bookings.models import Booking
from backend.bookings.schedules import staff_not_qualified_error
from backend.bookings.selectors import salon_open_on
from backend.bookings.services import booking_offer_accept, offer_expired_error
from backend.core.errors import ApplicationError
from backend.salons.models import Service, StaffService
from backend.waitlist.matching import freed_time_record, offer_close
from backend.waitlist.models import OPEN_STATUSES, EntryStatus, OfferOutcome, WaitlistEntry, WaitlistOffer


def _refuse_date(*, service: Service, day, now: datetime) -> None:
    """A date the salon can never offer: past, beyond its horizon, or without hours (400 on `date`)."""
    salon = service.salon
    today = now.astimezone(salon.tz).date()
    last_bookable = (now + timedelta(days=salon.horizon_days)).astimezone(salon.tz).date()
    if day < today:
        raise ValidationError({"date": [_("This date has passed.")]})
    if day > last_bookable:
        raise ValidationError({"date": [_("This date is beyond how far ahead the salon takes bookings.")]})
    if not salon_open_on(salon=salon, service=service, local_date=day, now=now):
        raise ValidationError({"date": [_("The salon is not open on this date.")]})


def _refuse_staff(*, service: Service, staff_id: int | None) -> None:
    if staff_id is None:
        return
    links = StaffService.objects.filter(
        staff_id=staff_id, staff__salon_id=service.salon_id, staff__is_active=True
    )
    if not links.exists():
        raise ValidationError({"staff": [_("Unknown staff member.")]})
    if not links.filter(service=service).exists():
        raise staff_not_qualified_error()


def waitlist_join(
    *,
    customer: User,
    service: Service,
    day,
    staff_id: int | None = None,
    from_time: time | None = None,
    to_time: time | None = None,
    now: datetime | None = None,
) -> WaitlistEntry:
    """Puts the customer on the salon's waitlist for `service` on `day`; 409 `already_waiting` when they
    already wait there for the same service, staff and date. Time already free is matched at once (after
    commit), as freed time is."""
    now = now or timezone.now()
    _refuse_staff(service=service, staff_id=staff_id)
    _refuse_date(service=service, day=day, now=now)
    entry = WaitlistEntry(
        customer=customer,
        salon=service.salon,
        service=service,
        staff_id=staff_id,
        date=day,
        from_time=from_time,
        to_time=to_time,
    )
    try:
        with transaction.atomic():
            entry.save()
            freed_time_record(salon_id=entry.salon_id, first_day=day, last_day=day, reason="joined")
    except IntegrityError:
        raise ApplicationError(
            "already_waiting",
            _("You are already on this waitlist for this service and date."),
            status=409,
        ) from None
    return entry


def _entry_lock(*, user: User, entry_id: int) -> WaitlistEntry:
    """The caller's entry, locked (404 for anyone else's)."""
    entry = (
        WaitlistEntry.objects.select_for_update(of=("self",))
        .select_related("salon")
        .filter(pk=entry_id, customer=user)
        .first()
    )
    if entry is None:
        raise Http404
    return entry


def _open_offer(entry: WaitlistEntry) -> WaitlistOffer | None:
    return WaitlistOffer.objects.select_for_update().filter(entry=entry, outcome=OfferOutcome.OPEN).first()


def _close_open_offer(*, user: User, entry_id: int, outcome: str, now: datetime) -> WaitlistEntry:
    """Locks the caller's entry and ends its open offer, if any, as `outcome` (its slot released)."""
    entry = _entry_lock(user=user, entry_id=entry_id)
    offer = _open_offer(entry)
    if offer is not None:
        offer_close(offer, entry=entry, outcome=outcome, now=now)
    return entry


def waitlist_leave(*, user: User, entry_id: int, now: datetime | None = None) -> None:
    """The customer leaves the waitlist: the entry is cancelled and an open offer's slot released."""
    with transaction.atomic():
        entry = _close_open_offer(
            user=user, entry_id=entry_id, outcome=OfferOutcome.WITHDRAWN, now=now or timezone.now()
        )
        if entry.status in OPEN_STATUSES:
            entry.status = EntryStatus.CANCELLED
            entry.save(update_fields=["status", "updated_at"])


def waitlist_decline(*, user: User, entry_id: int, now: datetime | None = None) -> WaitlistEntry:
    """The customer declines the open offer: its slot goes to the next entry; this one waits again (never
    offered that slot again). Without an open offer nothing changes."""
    with transaction.atomic():
        return _close_open_offer(
            user=user, entry_id=entry_id, outcome=OfferOutcome.DECLINED, now=now or timezone.now()
        )


def waitlist_accept(*, user: User, entry_id: int, now: datetime | None = None) -> Booking:
    """The customer takes the open offer: the held slot becomes their booking (`confirmed`, or
    `pending_payment` at a prepayment salon). 409 `offer_expired` when there is no live offer."""
    now = now or timezone.now()
    with transaction.atomic():
        entry = _entry_lock(user=user, entry_id=entry_id)
        offer = _open_offer(entry)
        if offer is None:
            raise offer_expired_error()
        booking = booking_offer_accept(booking_id=offer.booking_id, now=now)
        if booking is None:  # lapsed: released by the bookings service, the entry waits again
            offer.outcome = OfferOutcome.LAPSED
            offer.save(update_fields=["outcome", "updated_at"])
            entry.status = EntryStatus.WAITING
            entry.save(update_fields=["status", "updated_at"])
        else:
            offer.outcome = OfferOutcome.ACCEPTED
            offer.save(update_fields=["outcome", "updated_at"])
            entry.status = EntryStatus.BOOKED
            entry.save(update_fields=["status", "updated_at"])
    if booking is None:
        raise offer_expired_error()
    return booking


def waitlist_delete_for_account(*, user: User) -> None:
    """Account deletion hook: open offers are released, then the user's entries and offers deleted."""
    now = timezone.now()
    entries = (
        WaitlistEntry.objects.select_for_update(of=("self",)).select_related("salon").filter(customer=user)
    )
    for entry in entries:
        offer = _open_offer(entry)
        if offer is not None:
            offer_close(offer, entry=entry, outcome=OfferOutcome.WITHDRAWN, now=now)
    WaitlistEntry.objects.filter(customer=user).delete()
