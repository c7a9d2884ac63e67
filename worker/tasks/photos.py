from celery import shared_task

from backend.photos.services import photo_thumbnail_make


@shared_task(
    name="photos.make_thumbnails",
    ignore_result=True,
    autoretry_for=(OSError,),  # the storage was briefly unreachable
    retry_backoff=True,
    max_retries=5,
)
def make_thumbnails(photo_id: int) -> bool:
    """After an upload commits: the photo's thumbnail, once (a rerun or a deleted photo does nothing)."""
    return photo_thumbnail_make(photo_id=photo_id)
