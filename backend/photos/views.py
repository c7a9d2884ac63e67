"""Photo management: the salon's managers upload (multipart) and delete the cover, gallery photos and
staff avatars. Everyone else gets 404, as on every management endpoint."""

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.core.errors import ApplicationError
from backend.core.serializers import error_responses
from backend.photos import selectors, services
from backend.photos.models import PhotoKind
from backend.photos.serializers import AvatarUploadSerializer, PhotoSerializer, PhotoUploadSerializer
from backend.salons.permissions import ManagedSalonMixin
from backend.salons.selectors import staff_get_managed

# The multipart envelope around the file: boundaries, headers, the `kind` field.
_ENVELOPE_BYTES = 64 * 1024
# 415: the body is not multipart/form-data (or has no Content-Type at all).
UPLOAD_ERRORS = error_responses(
    400, 401, 404, 415, codes={400: "photo_invalid, photo_too_large, photo_too_many_pixels"}
)


class PhotoMultiPartParser(MultiPartParser):
    """Refuses a body larger than a photo may be before reading it, so nobody fills the disk with one."""

    def parse(self, stream, media_type=None, parser_context=None):
        meta = parser_context["request"].META
        # DRF calls a parser only for a body whose CONTENT_LENGTH it read as a non-zero integer (a
        # non-numeric one is an empty body to it: Request._load_stream), so this int() does not fail.
        length = int(meta.get("CONTENT_LENGTH") or 0)
        if length > settings.PHOTO_MAX_BYTES + _ENVELOPE_BYTES:
            raise ApplicationError(
                "photo_too_large",
                _("The file is too large (at most %(megabytes)d MB).")
                % {"megabytes": settings.PHOTO_MAX_BYTES // 1_000_000},
            )
        return super().parse(stream, media_type, parser_context)


class PhotoListView(ManagedSalonMixin, APIView):
    parser_classes = [PhotoMultiPartParser]

    @extend_schema(
        operation_id="manage_photos_create",
        tags=["manage"],
        request={"multipart/form-data": PhotoUploadSerializer},
        responses={
            201: PhotoSerializer,
            **UPLOAD_ERRORS,
            **error_responses(409, codes={409: "gallery_full"}),
        },
    )
    def post(self, request: Request, salon_id: int) -> Response:
        """`kind=cover` replaces the salon's cover; `kind=gallery` adds to its gallery. JPEG, PNG or WebP,
        at most PHOTO_MAX_BYTES and PHOTO_MAX_PIXELS; metadata (EXIF, GPS) is removed. `thumbnail_url`
        appears once a worker has made it."""
        payload = PhotoUploadSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        upload = payload.validated_data["file"]
        photo = services.photo_add(
            salon=self.salon, kind=payload.validated_data["kind"], upload=upload, size=upload.size
        )
        return Response(
            PhotoSerializer(photo, context={"request": request}).data, status=status.HTTP_201_CREATED
        )


class PhotoDetailView(ManagedSalonMixin, APIView):
    @extend_schema(
        operation_id="manage_photos_delete",
        tags=["manage"],
        responses={204: OpenApiResponse(description="Deleted, with its files."), **error_responses(401, 404)},
    )
    def delete(self, request: Request, salon_id: int, photo_id: int) -> Response:
        services.photo_delete(photo=selectors.photo_get_managed(salon=self.salon, photo_id=photo_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class StaffAvatarView(ManagedSalonMixin, APIView):
    parser_classes = [PhotoMultiPartParser]

    @extend_schema(
        operation_id="manage_staff_avatar_set",
        tags=["manage"],
        request={"multipart/form-data": AvatarUploadSerializer},
        responses={200: PhotoSerializer, **UPLOAD_ERRORS},
    )
    def put(self, request: Request, salon_id: int, staff_id: int) -> Response:
        """Sets (or replaces) the staff member's avatar; same rules as salon photos."""
        staff = staff_get_managed(salon=self.salon, staff_id=staff_id)
        payload = AvatarUploadSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        upload = payload.validated_data["file"]
        photo = services.photo_add(
            salon=self.salon, kind=PhotoKind.AVATAR, upload=upload, size=upload.size, staff=staff
        )
        return Response(PhotoSerializer(photo, context={"request": request}).data)

    @extend_schema(
        operation_id="manage_staff_avatar_delete",
        tags=["manage"],
        responses={204: OpenApiResponse(description="Deleted, with its files."), **error_responses(401, 404)},
    )
    def delete(self, request: Request, salon_id: int, staff_id: int) -> Response:
        staff = staff_get_managed(salon=self.salon, staff_id=staff_id)
        services.photo_delete(photo=selectors.avatar_get_managed(staff=staff))
        return Response(status=status.HTTP_204_NO_CONTENT)
