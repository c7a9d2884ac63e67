from django.db.models import Prefetch
from django.shortcuts import get_object_or_404

from backend.photos.models import Photo, PhotoKind
from backend.salons.models import Salon, StaffMember


def salon_photos_prefetch() -> Prefetch:
    """A salon list's covers and galleries in one query, whatever the number of salons."""
    return Prefetch("photos", queryset=Photo.objects.exclude(kind=PhotoKind.AVATAR))


def staff_photos_prefetch() -> Prefetch:
    """A staff list's avatars in one query."""
    return Prefetch("photos", queryset=Photo.objects.filter(kind=PhotoKind.AVATAR))


def photo_get_managed(*, salon: Salon, photo_id: int) -> Photo:
    """A cover or gallery photo of this salon (avatars go through their staff member); Http404 otherwise."""
    return get_object_or_404(salon.photos.exclude(kind=PhotoKind.AVATAR), pk=photo_id)


def avatar_get_managed(*, staff: StaffMember) -> Photo:
    return get_object_or_404(Photo, staff=staff, kind=PhotoKind.AVATAR)
