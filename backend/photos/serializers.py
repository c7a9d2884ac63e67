"""Photo shapes. URLs are absolute: the request's host for local files (development), the bucket's or
CDN's own URL for S3 storage."""

from django.db.models.fields.files import FieldFile
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request

from backend.photos.models import Photo, PhotoKind
from backend.salons.extensions import ComputedField
from backend.salons.models import Salon, StaffMember


def file_url(file: FieldFile, request: Request | None) -> str | None:
    if not file:
        return None
    url = file.url
    return request.build_absolute_uri(url) if request is not None else url


class PhotoSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    thumbnail_url = serializers.SerializerMethodField(help_text="null until the thumbnail is made.")

    class Meta:
        model = Photo
        fields = ("id", "kind", "url", "thumbnail_url", "width", "height", "created_at")

    def get_url(self, photo: Photo) -> str:
        return file_url(photo.file, self.context.get("request"))

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_thumbnail_url(self, photo: Photo) -> str | None:
        return file_url(photo.thumbnail, self.context.get("request"))


class PhotoUploadSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=[PhotoKind.COVER, PhotoKind.GALLERY])
    file = serializers.FileField(help_text="A JPEG, PNG or WebP image.")


class AvatarUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="A JPEG, PNG or WebP image.")


# --- Catalog fields (read the photos prefetched by the catalog selectors) ------------------------------
# Registered with salons' catalog serializers from apps.py (salons/extensions.py): salons imports no photos.
def _of_kind(photos, kind: str) -> list[Photo]:
    return [photo for photo in photos.all() if photo.kind == kind]


def salon_cover_url(*, salon: Salon, request: Request | None) -> str | None:
    covers = _of_kind(salon.photos, PhotoKind.COVER)
    return file_url(covers[0].file, request) if covers else None


def salon_gallery(*, salon: Salon, request: Request | None) -> list[dict]:
    return PhotoSerializer(
        _of_kind(salon.photos, PhotoKind.GALLERY), many=True, context={"request": request}
    ).data


def staff_avatar_url(*, staff: StaffMember, request: Request | None) -> str | None:
    avatars = _of_kind(staff.photos, PhotoKind.AVATAR)
    return file_url(avatars[0].file, request) if avatars else None


def salon_cover_url_field() -> ComputedField:
    return ComputedField(
        lambda salon, request: salon_cover_url(salon=salon, request=request),
        schema=serializers.URLField(allow_null=True),
        help_text="Absolute URL of the cover photo, or null.",
    )


def salon_gallery_field() -> ComputedField:
    return ComputedField(
        lambda salon, request: salon_gallery(salon=salon, request=request), schema=PhotoSerializer(many=True)
    )


def staff_avatar_url_field() -> ComputedField:
    return ComputedField(
        lambda staff, request: staff_avatar_url(staff=staff, request=request),
        schema=serializers.URLField(allow_null=True),
        help_text="Absolute URL of the avatar, or null.",
    )
