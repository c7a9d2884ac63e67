"""Photos of a salon: one cover, a gallery, and one avatar per staff member.

The files live in Django's default storage (MEDIA_ROOT locally, an S3-compatible bucket in production,
config/settings.py); rows hold their storage names. Files are written only after they were decoded,
checked and re-encoded (backend/photos/images.py), under random names: nothing the client sent (name,
metadata, trailing bytes) reaches the storage."""

from django.db import models
from django.db.models import Q

from backend.salons.models import Salon, StaffMember


class PhotoKind(models.TextChoices):
    COVER = "cover"
    GALLERY = "gallery"
    AVATAR = "avatar"


class Photo(models.Model):
    salon = models.ForeignKey(Salon, on_delete=models.CASCADE, related_name="photos")
    # Avatars only: the staff member shown.
    staff = models.ForeignKey(
        StaffMember, on_delete=models.CASCADE, null=True, blank=True, related_name="photos"
    )
    kind = models.CharField(max_length=10, choices=PhotoKind.choices)
    file = models.FileField(max_length=255)
    # Made by the `photos.make_thumbnails` task after commit; empty until then.
    thumbnail = models.FileField(max_length=255, blank=True)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("id",)
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=[choice.value for choice in PhotoKind]), name="photo_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(kind=PhotoKind.AVATAR, staff__isnull=False)
                | (~Q(kind=PhotoKind.AVATAR) & Q(staff__isnull=True)),
                name="photo_staff_only_for_avatars",
            ),
            models.UniqueConstraint(
                fields=["salon"], condition=Q(kind=PhotoKind.COVER), name="photo_one_cover_per_salon"
            ),
            models.UniqueConstraint(
                fields=["staff"], condition=Q(kind=PhotoKind.AVATAR), name="photo_one_avatar_per_staff"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} of salon {self.salon_id}"
