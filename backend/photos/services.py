"""Photo writes. The file is checked and re-encoded, written to the storage under a random name, then its
row is committed; a failed transaction removes the file again. Files of replaced or deleted photos are
removed from the storage after commit, and thumbnails are made by a worker after commit."""

import uuid
from typing import IO

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from backend.core.errors import ApplicationError
from backend.core.tasks import enqueue_on_commit
from backend.photos.images import image_clean, thumbnail_make
from backend.photos.models import Photo, PhotoKind
from backend.salons.models import Salon, StaffMember

MAX_GALLERY_PHOTOS = 30


def _files_remove_after_commit(names: list[str]) -> None:
    # robust: the rows are gone for good once committed; a storage hiccup only leaves an orphan file
    # (logged), never a failed request.
    for name in filter(None, names):
        transaction.on_commit(lambda name=name: default_storage.delete(name), robust=True)


def _thumbnails_enqueue_after_commit(photo_id: int) -> None:
    from worker.tasks.photos import make_thumbnails

    recovery = "the photo has no thumbnails until it is uploaded again"
    enqueue_on_commit(make_thumbnails, photo_id, recovery=recovery)


def photo_add(
    *, salon: Salon, kind: str, upload: IO[bytes], size: int, staff: StaffMember | None = None
) -> Photo:
    """Adds a gallery photo, or sets the salon's cover or a staff member's avatar (replacing the previous
    one). `staff` is given for avatars only."""
    clean = image_clean(upload=upload, size=size)
    name = default_storage.save(
        f"photos/salon-{salon.pk}/{uuid.uuid4().hex}.{clean.extension}", ContentFile(clean.content)
    )
    try:
        with transaction.atomic():
            # One change of a salon's photos at a time: the gallery limit and the single cover hold.
            Salon.objects.select_for_update(no_key=True).filter(pk=salon.pk).values_list("pk").get()
            existing = Photo.objects.filter(salon=salon, kind=kind, staff=staff)
            if kind == PhotoKind.GALLERY:
                if existing.count() >= MAX_GALLERY_PHOTOS:
                    raise ApplicationError(
                        "gallery_full",
                        _("The gallery is full (%(count)d photos); delete one first.")
                        % {"count": MAX_GALLERY_PHOTOS},
                        status=409,
                    )
            else:
                for replaced in existing:
                    photo_delete(photo=replaced)
            photo = Photo.objects.create(
                salon=salon, staff=staff, kind=kind, file=name, width=clean.width, height=clean.height
            )
            _thumbnails_enqueue_after_commit(photo.pk)
    except BaseException:
        default_storage.delete(name)
        raise
    return photo


def photo_delete(*, photo: Photo) -> None:
    """Deletes the row now and its files once that is committed."""
    with transaction.atomic():
        photo.delete()
        _files_remove_after_commit([photo.file.name, photo.thumbnail.name])


def photo_thumbnail_make(*, photo_id: int) -> bool:
    """Makes the photo's thumbnail once. Safe to run twice or for a photo deleted meanwhile: a thumbnail
    is only recorded on a row that still exists without one; otherwise the new file is removed again."""
    photo = Photo.objects.filter(pk=photo_id).first()
    if photo is None or photo.thumbnail:
        return False
    with photo.file.open("rb") as source:
        content = thumbnail_make(source=source)
    stem = photo.file.name.rsplit(".", 1)[0]
    name = default_storage.save(f"{stem}_thumb.webp", ContentFile(content))
    if not Photo.objects.filter(pk=photo_id, thumbnail="").update(thumbnail=name):
        default_storage.delete(name)
        return False
    return True
