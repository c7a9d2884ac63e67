"""Salon reads: the public catalog and the access checks of the management API.

Access rule of the management API: a salon's managers and platform admins (`is_superuser`) may manage it;
everyone else gets 404, so nobody learns which salon ids exist. Every management view goes through
`salon_get_managed`, then fetches what it needs inside that salon with the `*_get_managed` functions."""

from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.db.models import F, OuterRef, Prefetch, QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _

from backend.accounts.models import User
from backend.salons.booking_hooks import closure_in_the_way, time_off_in_the_way
from backend.salons.extensions import catalog_prefetches
from backend.salons.models import Closure, Salon, Service, StaffMember, StaffService, TimeOff


# --- Public catalog --------------------------------------------------------------------------------
def salon_list_public() -> QuerySet[Salon]:
    """Filtered by the API with SalonFilter (`search`, `city`); covers (photos') in one more query."""
    return Salon.objects.prefetch_related(*catalog_prefetches("salon"))


def salon_get_public(*, salon_id: int) -> Salon:
    return get_object_or_404(Salon, id=salon_id)


def service_list_public(*, salon: Salon) -> QuerySet[Service]:
    return salon.services.filter(is_active=True)


def service_get_bookable_with_salon(*, salon_id: int, service_id: int) -> Service:
    """An active service of salon `salon_id`, its salon read in the same query (the booking create path
    starts here); a validation error on `salon`, or else on `service`, when the ids do not match one."""
    try:
        return Service.objects.select_related("salon").get(id=service_id, salon_id=salon_id, is_active=True)
    except Service.DoesNotExist:
        if not Salon.objects.filter(id=salon_id).exists():
            raise ValidationError({"salon": [_("Unknown salon.")]}) from None
        raise ValidationError({"service": [_("Unknown service.")]}) from None


def service_get_bookable_in_public_salon(*, salon_id: int, service_id: int) -> Service:
    """An active service of salon `salon_id`, its salon read in the same query (the availability path
    starts here); Http404 when the salon does not exist, else a validation error on `service`."""
    try:
        return Service.objects.select_related("salon").get(id=service_id, salon_id=salon_id, is_active=True)
    except Service.DoesNotExist:
        salon_get_public(salon_id=salon_id)
        raise ValidationError({"service": [_("Unknown service.")]}) from None


def _services_in_order(*, salon_id: int, service_ids: Sequence[int]) -> list[Service] | None:
    """The active services of the salon in the order of `service_ids` (repeats allowed), each with its
    salon, in one query; None when an id is not one of them."""
    found = {
        service.pk: service
        for service in Service.objects.select_related("salon").filter(
            id__in=set(service_ids), salon_id=salon_id, is_active=True
        )
    }
    if not all(service_id in found for service_id in service_ids):
        return None
    return [found[service_id] for service_id in service_ids]


def services_get_bookable_with_salon(*, salon_id: int, service_ids: Sequence[int]) -> list[Service]:
    """A visit's services (`service_get_bookable_with_salon` for several, in their order, one query)."""
    services = _services_in_order(salon_id=salon_id, service_ids=service_ids)
    if services is None:
        if not Salon.objects.filter(id=salon_id).exists():
            raise ValidationError({"salon": [_("Unknown salon.")]})
        raise ValidationError({"items": [_("Unknown service.")]})
    return services


def services_get_bookable_in_public_salon(*, salon_id: int, service_ids: Sequence[int]) -> list[Service]:
    """A visit's services for its availability (`service_get_bookable_in_public_salon` for several)."""
    services = _services_in_order(salon_id=salon_id, service_ids=service_ids)
    if services is None:
        salon_get_public(salon_id=salon_id)
        raise ValidationError({"service": [_("Unknown service.")]})
    return services


def _active_staff(*, salon: Salon) -> QuerySet[StaffMember]:
    """Active staff with the links to the active services they perform, in one prefetch (no N+1)."""
    active_links = StaffService.objects.filter(service__is_active=True).order_by("service_id")
    return salon.staff.filter(is_active=True).prefetch_related(
        Prefetch("staff_services", queryset=active_links)
    )


def staff_list_public(*, salon: Salon) -> QuerySet[StaffMember]:
    """StaffFilter narrows it to a `service`; avatars (photos') in one more query."""
    return _active_staff(salon=salon).prefetch_related(*catalog_prefetches("staff"))


# --- Management access checks ----------------------------------------------------------------------
def salon_list_managed(*, user: User) -> QuerySet[Salon]:
    if user.is_superuser:
        return Salon.objects.all()
    return Salon.objects.filter(managers=user)


def salon_get_managed(*, user: User, salon_id: int) -> Salon:
    """The salon if `user` manages it or is a platform admin; Http404 otherwise, existing or not."""
    return get_object_or_404(salon_list_managed(user=user), id=salon_id)


def service_list_managed(*, salon: Salon) -> QuerySet[Service]:
    return salon.services.filter(is_active=True)


def service_get_managed(*, salon: Salon, service_id: int) -> Service:
    return get_object_or_404(service_list_managed(salon=salon), id=service_id)


def staff_list_managed(*, salon: Salon) -> QuerySet[StaffMember]:
    return _active_staff(salon=salon)


def staff_get_managed(*, salon: Salon, staff_id: int) -> StaffMember:
    return get_object_or_404(staff_list_managed(salon=salon), id=staff_id)


def staff_get_any_managed(*, salon: Salon, staff_id: int) -> StaffMember:
    """A staff member of the salon, removed ones included: what was booked with them outlives them."""
    return get_object_or_404(salon.staff.all(), id=staff_id)


def staff_invitations_pending(*, user: User) -> QuerySet[StaffMember]:
    """Active staff profiles inviting the user by their phone that they have neither accepted nor declined,
    newest first."""
    return (
        StaffMember.objects.filter(
            phone=user.phone_number, is_active=True, user__isnull=True, invitation_declined_at__isnull=True
        )
        .exclude(phone="")
        .select_related("salon")
        .order_by(F("invited_at").desc(nulls_last=True), "-id")
    )


def time_off_list(*, staff: StaffMember) -> QuerySet[TimeOff]:
    """With `bookings_in_the_way`: the active bookings it overlaps, which it leaves in place unless its
    cancellation was asked (then the count falls as the background cancels them). Bookings counts them
    (booking_hooks.py)."""
    in_the_way = time_off_in_the_way(staff_id=OuterRef("staff"), start=OuterRef("start"), end=OuterRef("end"))
    return staff.time_off.annotate(bookings_in_the_way=in_the_way)


def time_off_get_managed(*, staff: StaffMember, time_off_id: int) -> TimeOff:
    return get_object_or_404(time_off_list(staff=staff), id=time_off_id)


def closure_list(*, salon: Salon) -> QuerySet[Closure]:
    """With `bookings_in_the_way`: the active bookings starting on its dates, which it leaves in place
    unless its cancellation was asked (then the count falls as the background cancels them). Bookings
    counts them (booking_hooks.py)."""
    in_the_way = closure_in_the_way(salon=salon, first=OuterRef("date"), last=OuterRef("end_date"))
    return salon.closures.annotate(bookings_in_the_way=in_the_way)


def closure_get_managed(*, salon: Salon, closure_id: int) -> Closure:
    return get_object_or_404(closure_list(salon=salon), id=closure_id)
