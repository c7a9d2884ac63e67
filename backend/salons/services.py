"""Salon writes: creating salons, their settings, weekly hours, services, staff, time off and closures."""

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from backend.accounts.models import User
from backend.core.freed_time import freed_time_announce
from backend.core.phone import phone_normalize_for_login
from backend.salons.booking_hooks import cancellation_request_hooks_run
from backend.salons.models import (
    DEFAULT_TIMEZONE,
    MAX_CLOSURE_DAYS,
    BusinessHours,
    Closure,
    InvitationStatus,
    Salon,
    Service,
    StaffMember,
    StaffService,
    TimeOff,
    WorkingHours,
)
from backend.salons.validators import validate_week_ranges

# The settings a manager may change, in the order the API shows them (serializers build on it).
SALON_SETTINGS_FIELDS = (
    "name",
    "name_ar",
    "city",
    "timezone",
    "slot_step_minutes",
    "min_notice_minutes",
    "horizon_days",
    "prepayment_required",
    "hold_minutes",
    "max_unpaid_holds",
    "waitlist_offer_minutes",
    "cancellation_policy",
)
CLOSURE_OVERLAP_MESSAGE = _("The salon is already closed on one of these dates.")
SERVICE_FIELDS = frozenset(
    {"name", "name_ar", "duration_minutes", "price_halalas", "buffer_minutes", "processing_minutes"}
)


@dataclass(frozen=True)
class WeekRange:
    weekday: int  # date.weekday(): 0 = Monday
    start: time
    end: time


@dataclass(frozen=True)
class ServiceOverride:
    service_id: int
    duration_minutes: int | None = None
    price_halalas: int | None = None


def _save(instance: Any, *, fields: Iterable[str] | None = None) -> None:
    """Model validation (validators, constraints) before the write, so bad data is a 400, not a 500."""
    instance.full_clean()
    instance.save(update_fields=[*fields, "updated_at"] if fields is not None else None)


def _apply(instance: Any, data: Mapping[str, Any], allowed: Collection[str]) -> list[str]:
    changed = [field for field in data if field in allowed]
    for field in changed:
        setattr(instance, field, data[field])
    return changed


# --- Salons -----------------------------------------------------------------------------------------
def _user_get_or_create_by_phone(*, phone: str) -> User:
    return User.objects.filter(phone_number=phone).first() or User.objects.create_user(phone)


@transaction.atomic
def salon_create(
    *, name: str, city: str, manager_phone: str, name_ar: str = "", timezone: str = DEFAULT_TIMEZONE
) -> Salon:
    """A new salon (platform admins only), managed by the user with `manager_phone`, created if new."""
    manager = _user_get_or_create_by_phone(phone=phone_normalize_for_login(manager_phone))
    salon = Salon(name=name, name_ar=name_ar, city=city, timezone=timezone)
    _save(salon)
    salon.managers.add(manager)
    return salon


def salon_update(*, salon: Salon, data: Mapping[str, Any]) -> Salon:
    changed = _apply(salon, data, SALON_SETTINGS_FIELDS)
    salon.full_clean()
    # Stored largest hours_before first, the order in which a refund is looked up.
    salon.cancellation_policy.sort(key=lambda tier: tier["hours_before"], reverse=True)
    salon.save(update_fields=[*changed, "updated_at"])
    return salon


# --- Weekly hours -----------------------------------------------------------------------------------
def week_check(ranges: list[WeekRange], *, field: str = "non_field_errors") -> list[WeekRange]:
    """The week sorted by day and start; each range lasts less than 24 hours (an end at or before the
    start is on the next day) and none overlaps another, the spill into the next day included (touching
    is fine: 13:00-16:00 after 10:00-13:00). Errors name the range, under `field`."""
    try:
        validate_week_ranges([(hours.weekday, hours.start, hours.end) for hours in ranges])
    except ValidationError as error:
        raise ValidationError({field: error.messages}) from None
    return sorted(ranges, key=lambda hours: (hours.weekday, hours.start))


def _week_replace(rows: Any, ranges: list[WeekRange], **owner: Any) -> list[Any]:
    """Replaces the owner's whole week: `rows` is its business or working hours, `owner` the row's owner."""
    week = week_check(ranges)
    rows.all().delete()
    return rows.model.objects.bulk_create(
        rows.model(**owner, weekday=hours.weekday, start=hours.start, end=hours.end) for hours in week
    )


@transaction.atomic
def business_hours_replace(*, salon: Salon, ranges: list[WeekRange]) -> list[BusinessHours]:
    """Replaces the salon's whole week; a day without ranges is closed."""
    freed_time_announce(salon_id=salon.pk, reason="business_hours")
    return _week_replace(salon.business_hours, ranges, salon=salon)


@transaction.atomic
def working_hours_replace(*, staff: StaffMember, ranges: list[WeekRange]) -> list[WorkingHours]:
    """Replaces the staff member's whole week; a day without ranges is off."""
    freed_time_announce(salon_id=staff.salon_id, reason="working_hours")
    return _week_replace(staff.working_hours, ranges, staff=staff)


# --- Services ---------------------------------------------------------------------------------------
def service_create(
    *,
    salon: Salon,
    name: str,
    duration_minutes: int,
    price_halalas: int,
    name_ar: str = "",
    buffer_minutes: int = 0,
    processing_minutes: int = 0,
) -> Service:
    service = Service(
        salon=salon,
        name=name,
        name_ar=name_ar,
        duration_minutes=duration_minutes,
        price_halalas=price_halalas,
        buffer_minutes=buffer_minutes,
        processing_minutes=processing_minutes,
    )
    _save(service)
    return service


def service_update(*, service: Service, data: Mapping[str, Any]) -> Service:
    _save(service, fields=_apply(service, data, SERVICE_FIELDS))
    return service


@transaction.atomic
def service_deactivate(*, service: Service) -> None:
    """Soft delete: bookings keep their service; nobody performs it any more, so nobody can book it."""
    service.is_active = False
    service.save(update_fields=["is_active", "updated_at"])
    service.staff_services.all().delete()


# --- Staff ------------------------------------------------------------------------------------------
def _staff_phone_set(*, staff: StaffMember, phone: str) -> bool:
    """Normalises the phone (one that may log in); returns whether the staff member changed.

    A new phone invites the person who has it: nobody is linked until they log in and accept
    (`staff_invitation_accept`), so the answer never tells whether the number has an account. The same
    phone again keeps the link (or re-invites after a decline); a cleared phone unlinks."""
    new_phone = phone_normalize_for_login(phone) if phone else ""
    duplicate = StaffMember.objects.filter(salon_id=staff.salon_id, phone=new_phone, is_active=True)
    if new_phone and duplicate.exclude(id=staff.id).exists():
        raise ValidationError({"phone": [_("Another staff member of this salon has this phone number.")]})
    if new_phone == staff.phone and staff.invitation_declined_at is None:
        return False
    staff.phone = new_phone
    staff.user = None
    staff.invited_at = timezone.now() if new_phone else None
    staff.invitation_declined_at = None
    return True


def _staff_invitation_for_update(*, user: User, staff_id: int) -> StaffMember:
    """The staff profile inviting `user` (by their phone), locked; 404 for anyone else's."""
    staff = (
        StaffMember.objects.select_for_update()
        .filter(id=staff_id, phone=user.phone_number, is_active=True)
        .exclude(phone="")
        .first()
    )
    if staff is None:
        raise Http404
    return staff


@transaction.atomic
def staff_invitation_accept(*, user: User, staff_id: int) -> StaffMember:
    """The invited person accepts: linked, they are this salon's staff. Accepting twice is the same."""
    staff = _staff_invitation_for_update(user=user, staff_id=staff_id)
    if staff.user_id == user.pk:
        return staff
    if staff.invitation_status != InvitationStatus.PENDING:
        raise Http404
    staff.user = user
    staff.save(update_fields=["user", "updated_at"])
    return staff


@transaction.atomic
def staff_invitation_decline(*, user: User, staff_id: int) -> StaffMember:
    """The invited person declines: never linked; the manager may invite again by setting the phone. Declining
    twice is the same."""
    staff = _staff_invitation_for_update(user=user, staff_id=staff_id)
    if staff.invitation_status == InvitationStatus.DECLINED:
        return staff
    if staff.invitation_status != InvitationStatus.PENDING:
        raise Http404
    staff.invitation_declined_at = timezone.now()
    staff.save(update_fields=["invitation_declined_at", "updated_at"])
    return staff


def _staff_services_set(
    *, staff: StaffMember, service_ids: list[int], overrides: list[ServiceOverride]
) -> None:
    """Replaces the services the staff member performs, with their own durations and prices."""
    known = set(
        Service.objects.filter(salon_id=staff.salon_id, is_active=True, id__in=service_ids).values_list(
            "id", flat=True
        )
    )
    unknown = sorted(set(service_ids) - known)
    if unknown:
        raise ValidationError(
            {"service_ids": [_("Unknown services: %(ids)s.") % {"ids": ", ".join(map(str, unknown))}]}
        )
    by_service = {override.service_id: override for override in overrides}
    if len(by_service) != len(overrides):
        raise ValidationError({"overrides": [_("Each service may have only one override.")]})
    if not set(by_service) <= known:
        raise ValidationError({"overrides": [_("An override must name one of the staff member's services.")]})
    staff.staff_services.all().delete()
    freed_time_announce(salon_id=staff.salon_id, reason="staff_services")
    StaffService.objects.bulk_create(
        StaffService(
            staff=staff,
            service_id=service_id,
            duration_minutes=by_service[service_id].duration_minutes if service_id in by_service else None,
            price_halalas=by_service[service_id].price_halalas if service_id in by_service else None,
        )
        for service_id in sorted(known)
    )


@transaction.atomic
def staff_create(
    *,
    salon: Salon,
    name: str,
    name_ar: str = "",
    phone: str = "",
    service_ids: list[int] | None = None,
    overrides: list[ServiceOverride] | None = None,
) -> StaffMember:
    staff = StaffMember(salon=salon, name=name, name_ar=name_ar)
    _staff_phone_set(staff=staff, phone=phone)
    _save(staff)
    _staff_services_set(staff=staff, service_ids=service_ids or [], overrides=overrides or [])
    return staff


@transaction.atomic
def staff_update(*, staff: StaffMember, data: Mapping[str, Any]) -> StaffMember:
    """A partial update; `service_ids` and `overrides` each replace what they name, and overrides of the
    services kept stay when only `service_ids` is sent."""
    changed = _apply(staff, data, frozenset({"name", "name_ar"}))
    if "phone" in data and _staff_phone_set(staff=staff, phone=data["phone"]):
        # Only when it changed: a stale copy must not undo an acceptance made meanwhile.
        changed += ["phone", "user", "invited_at", "invitation_declined_at"]
    _save(staff, fields=changed)
    if "service_ids" in data or "overrides" in data:
        links = list(staff.staff_services.all())
        service_ids = data.get("service_ids", [link.service_id for link in links])
        overrides = data.get(
            "overrides",
            [
                ServiceOverride(link.service_id, link.duration_minutes, link.price_halalas)
                for link in links
                if link.service_id in service_ids
                and (link.duration_minutes is not None or link.price_halalas is not None)
            ],
        )
        _staff_services_set(staff=staff, service_ids=service_ids, overrides=overrides)
    return staff


@transaction.atomic
def staff_deactivate(*, staff: StaffMember) -> None:
    """Soft delete: bookings keep their staff member, who is no longer listed or bookable."""
    staff.is_active = False
    staff.save(update_fields=["is_active", "updated_at"])


# --- Time off and closures --------------------------------------------------------------------------
def _ask_cancellation(row: Closure | TimeOff, *, now: datetime | None) -> None:
    row.cancel_requested_at = row.cancel_progress_at = now or timezone.now()


@transaction.atomic
def time_off_create(
    *,
    staff: StaffMember,
    start: datetime,
    end: datetime,
    reason: str = "",
    cancel_bookings: bool = False,
    now: datetime | None = None,
) -> TimeOff:
    """Time off for the staff member. `cancel_bookings`: their active bookings overlapping it that have not
    started are cancelled by the salon in the background, after commit."""
    time_off = TimeOff(staff=staff, start=start, end=end, reason=reason)
    if cancel_bookings:
        _ask_cancellation(time_off, now=now)
    time_off.full_clean()
    time_off.save()
    if cancel_bookings:
        cancellation_request_hooks_run(kind="time_off", row_id=time_off.pk)
    return time_off


@transaction.atomic
def time_off_delete(*, time_off: TimeOff) -> None:
    first_day, last_day = (
        moment.astimezone(time_off.staff.salon.tz).date() for moment in (time_off.start, time_off.end)
    )
    freed_time_announce(
        salon_id=time_off.staff.salon_id, first_day=first_day, last_day=last_day, reason="time_off"
    )
    time_off.delete()


@transaction.atomic
def closure_create(
    *,
    salon: Salon,
    date: date,
    end_date: date | None = None,
    reason: str = "",
    cancel_bookings: bool = False,
    now: datetime | None = None,
) -> Closure:
    """Closes the salon from `date` to `end_date` (inclusive; default `date`). Closures of a salon never
    share a date. `cancel_bookings`: the active bookings starting on those dates that have not started
    are cancelled by the salon in the background, after commit."""
    end_date = end_date or date
    if end_date < date:
        raise ValidationError({"end_date": [_("The end date must be on or after the date.")]})
    if (end_date - date).days >= MAX_CLOSURE_DAYS:
        raise ValidationError(
            {"end_date": [_("A closure lasts at most %(days)s days.") % {"days": MAX_CLOSURE_DAYS}]}
        )
    if salon.closures.filter(date__lte=end_date, end_date__gte=date).exists():
        raise ValidationError({"date": [CLOSURE_OVERLAP_MESSAGE]})
    closure = Closure(salon=salon, date=date, end_date=end_date, reason=reason)
    if cancel_bookings:
        _ask_cancellation(closure, now=now)
    closure.full_clean(validate_constraints=False)  # checked above, the overlap without a second query
    try:
        with transaction.atomic():
            closure.save()
    except IntegrityError:  # another request closed one of these dates meanwhile
        raise ValidationError({"date": [CLOSURE_OVERLAP_MESSAGE]}) from None
    if cancel_bookings:
        cancellation_request_hooks_run(kind="closure", row_id=closure.pk)
    return closure


@transaction.atomic
def closure_delete(*, closure: Closure) -> None:
    freed_time_announce(
        salon_id=closure.salon_id, first_day=closure.date, last_day=closure.end_date, reason="closure_removed"
    )
    closure.delete()
