"""Offering freed time to the waiting customers.

Freed time is a committed fact: the transaction that frees it (a cancellation, an expired hold, a
reschedule away, a released offer, time off or a closure removed, hours or staff changed) writes a
`FreedTime` row through the `backend.core.freed_time` hook and enqueues `waitlist.match` on commit. The
task reads a salon's rows, recomputes with the availability engine which waiting entries of those dates
now have a bookable start, in join order, and holds one for each (an offer: a booking row in status
`offered`, made by the bookings create path, so the exclusion constraint keeps two offers of one slot, or
an offer and a booking, from ever overlapping). The beat sweep lapses offers past their time and re-runs
every salon with waiting entries, so a lost message only delays an offer."""

from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from backend.bookings.services import LocksBusy, booking_notify, booking_offer_hold, booking_offer_release
from backend.core.errors import ApplicationError
from backend.core.tasks import enqueue_on_commit
from backend.notifications.models import Kind
from backend.salons.models import Salon
from backend.waitlist.models import EntryStatus, FreedTime, OfferOutcome, WaitlistEntry, WaitlistOffer
from backend.waitlist.selectors import SlotFinder

# pg_advisory_xact_lock's first key: rounds of one salon take turns (the second key is the salon id).
_ROUND_LOCK = 23
# Slots tried per entry in a round before moving on (each failed try lost a race for that slot).
_TRIES_PER_ENTRY = 3
# An entry whose offer found a lock taken is tried again this much later, by a round of its own.
RETRY_BUSY_SECONDS = 1
SWEEP_LAPSE_LIMIT = 500


def freed_time_record(*, salon_id: int, first_day: date | None, last_day: date | None, reason: str) -> None:
    """The freed-time hook: the outbox row in the caller's transaction, the matcher enqueued on commit.

    Most salons have nobody waiting most of the time: then a cancellation costs one indexed EXISTS, not a
    row, a broker message and a worker round. An entry joining in the same instant is still served: its
    join announces its own date, and the sweep re-checks every waiting entry each minute."""
    from worker.tasks.waitlist import match

    if not WaitlistEntry.objects.filter(salon_id=salon_id, status=EntryStatus.WAITING).exists():
        return
    FreedTime.objects.create(salon_id=salon_id, first_day=first_day, last_day=last_day, reason=reason)
    enqueue_on_commit(match, salon_id, recovery="the waitlist sweep re-checks every open entry")


def _dates_filter(rows: list[tuple[date | None, date | None]]) -> Q | None:
    """The entries' dates the freed rows cover; None: all of them (an open-ended row)."""
    condition = Q(pk__in=[])
    for first_day, last_day in rows:
        if first_day is None or last_day is None:
            return None
        condition |= Q(date__gte=first_day, date__lte=last_day)
    return condition


def waitlist_match_salon(*, salon_id: int, everything: bool = False, now: datetime | None = None) -> int:
    """One matching round for the salon: consumes its freed-time rows and makes the offers their dates now
    allow (with `everything`, every waiting entry's date: the sweep). Returns the offers made. Rounds of
    one salon take turns (a transaction-level advisory lock), so join order holds across workers."""
    now = now or timezone.now()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_ROUND_LOCK, salon_id])
        freed = list(FreedTime.objects.filter(salon_id=salon_id).values_list("pk", "first_day", "last_day"))
        if not freed and not everything:
            return 0  # an earlier round consumed them
        FreedTime.objects.filter(pk__in=[pk for pk, _first, _last in freed]).delete()
        salon = Salon.objects.get(pk=salon_id)
        today = now.astimezone(salon.tz).date()
        waiting = WaitlistEntry.objects.filter(salon=salon, status=EntryStatus.WAITING)
        waiting.filter(date__lt=today).update(status=EntryStatus.EXPIRED, updated_at=now)
        waiting = waiting.filter(date__gte=today)
        dates = None if everything else _dates_filter([(first, last) for _pk, first, last in freed])
        if dates is not None:
            waiting = waiting.filter(dates)
        return _offer_round(salon=salon, entries=waiting, now=now)


def _offer_round(*, salon: Salon, entries, now: datetime) -> int:
    entries = list(
        entries.select_for_update(skip_locked=True, of=("self",))
        .select_related("customer", "service")
        .order_by("id")
    )
    tried: dict[int, list[tuple[datetime, int]]] = {}
    for entry_id, start, staff_id in WaitlistOffer.objects.filter(entry__in=entries).values_list(
        "entry_id", "start", "staff_id"
    ):
        tried.setdefault(entry_id, []).append((start, staff_id))
    finder = SlotFinder(salon=salon, now=now)
    offers = 0
    busy_dates: set[date] = set()
    for entry in entries:
        for slot in finder.candidates(entry, tried=tried.get(entry.pk, ()))[:_TRIES_PER_ENTRY]:
            try:
                offered = _offer(entry=entry, salon=salon, slot=slot, now=now)
            except LocksBusy:
                busy_dates.add(entry.date)
                break
            if offered:
                offers += 1
                finder.forget()  # the offer took time some other entry could have had
                break
    if busy_dates:
        _retry_soon(salon_id=salon.pk, dates=busy_dates)
    return offers


def _retry_soon(*, salon_id: int, dates: set[date]) -> None:
    """Entries whose offer met a lock a create or reschedule held: their dates are freed time again, for
    a round of their own a moment after this one commits (the lock's holder will have finished). The
    round never waits for those locks while holding its earlier offers' (see `booking_offer_hold`)."""
    from worker.tasks.waitlist import match

    rows = [FreedTime(salon_id=salon_id, first_day=day, last_day=day, reason="locks_busy") for day in dates]
    FreedTime.objects.bulk_create(rows)
    recovery = "the waitlist sweep re-checks every open entry"
    enqueue_on_commit(match, salon_id, countdown=RETRY_BUSY_SECONDS, recovery=recovery)


def _offer(*, entry: WaitlistEntry, salon: Salon, slot, now: datetime) -> bool:
    """Holds `slot` for the entry's customer and tells them, in this transaction; False when the slot was
    taken meanwhile (the create path's checks, its staff lock, the exclusion constraint)."""
    from worker.tasks.waitlist import lapse_offer

    expires_at = now + timedelta(minutes=salon.waitlist_offer_minutes)
    try:
        booking = booking_offer_hold(
            customer=entry.customer,
            salon=salon,
            service=entry.service,
            start=slot.start,
            staff_id=slot.staff_id,
            offer_until=expires_at,
            now=now,
        )
    except (ApplicationError, ValidationError):
        return False
    offer = WaitlistOffer.objects.create(
        entry=entry,
        booking=booking,
        start=booking.start,
        end=booking.end,
        staff_id=booking.staff_id,
        expires_at=expires_at,
    )
    entry.status = EntryStatus.OFFERED
    entry.save(update_fields=["status", "updated_at"])
    booking_notify(booking, Kind.WAITLIST_OFFER, hold_until=expires_at)
    enqueue_on_commit(
        lapse_offer,
        offer.pk,
        countdown=(expires_at - now).total_seconds(),
        recovery="the waitlist sweep lapses it",
    )
    return True


def offer_close(offer: WaitlistOffer, *, entry: WaitlistEntry, outcome: str, now: datetime) -> None:
    """Ends an open offer (the entry locked by the caller): its held slot is released, which announces the
    freed time, so the next waiting entry gets it; the entry waits again (unless withdrawn or past)."""
    booking_offer_release(booking_id=offer.booking_id, reason=f"offer_{outcome}")
    offer.outcome = outcome
    offer.save(update_fields=["outcome", "updated_at"])
    if entry.status == EntryStatus.OFFERED:
        past = entry.date < now.astimezone(entry.salon.tz).date()
        entry.status = EntryStatus.EXPIRED if past else EntryStatus.WAITING
        entry.save(update_fields=["status", "updated_at"])


def waitlist_offer_lapse(*, offer_id: int, now: datetime | None = None) -> bool:
    """An offer past its time lapses (the countdown task, or the sweep). False if it was answered or is not
    due yet. Safe to run twice."""
    now = now or timezone.now()
    with transaction.atomic():
        offer = WaitlistOffer.objects.filter(pk=offer_id).first()
        if offer is None:
            return False
        entry = (
            WaitlistEntry.objects.select_for_update(of=("self",))
            .select_related("salon")
            .get(pk=offer.entry_id)
        )
        offer = WaitlistOffer.objects.select_for_update().get(pk=offer_id)
        if offer.outcome != OfferOutcome.OPEN or offer.expires_at > now:
            return False
        offer_close(offer, entry=entry, outcome=OfferOutcome.LAPSED, now=now)
    return True


def waitlist_sweep(*, now: datetime | None = None) -> int:
    """Beat, every minute: offers past their time lapse, then every salon with waiting entries or unread
    freed time gets a round. Returns the offers made."""
    now = now or timezone.now()
    due = WaitlistOffer.objects.filter(outcome=OfferOutcome.OPEN, expires_at__lte=now).order_by("expires_at")
    for offer_id in due.values_list("pk", flat=True)[:SWEEP_LAPSE_LIMIT]:
        waitlist_offer_lapse(offer_id=offer_id, now=now)
    salons = set(
        WaitlistEntry.objects.filter(status=EntryStatus.WAITING).values_list("salon_id", flat=True).distinct()
    ) | set(FreedTime.objects.values_list("salon_id", flat=True).distinct())
    return sum(
        waitlist_match_salon(salon_id=salon_id, everything=True, now=now) for salon_id in sorted(salons)
    )
