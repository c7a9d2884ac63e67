"""Thumbnails: made once by `photos.make_thumbnails` after the upload commits, by a real worker."""

import io

import pytest
from django.core.files.storage import default_storage
from PIL import Image

from backend.photos.models import Photo
from backend.photos.services import photo_delete, photo_thumbnail_make
from tests.photos.conftest import image_bytes, upload
from tests.support.factories import client_for, make_admin, make_salon, make_user
from tests.support.waiting import wait_until
from worker.tasks.photos import make_thumbnails

pytestmark = pytest.mark.django_db


def add_photo(salon, manager, content: bytes, kind: str = "gallery") -> Photo:
    response = client_for(manager).post(
        f"/api/v1/manage/salons/{salon.id}/photos/",
        {"kind": kind, "file": upload(content, "p.png", "image/png")},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    return Photo.objects.get(pk=response.json()["id"])


@pytest.fixture
def manager():
    return make_user()


@pytest.fixture
def salon(manager):
    return make_salon(managers=[manager])


def test_the_upload_enqueues_the_thumbnail_after_commit(
    salon, manager, django_capture_on_commit_callbacks, monkeypatch
):
    enqueued = []
    monkeypatch.setattr(make_thumbnails, "apply_async", lambda args, countdown: enqueued.append(*args))
    with django_capture_on_commit_callbacks(execute=True):
        photo = add_photo(salon, manager, image_bytes("PNG", size=(1200, 600), mode="RGBA"))
    assert enqueued == [photo.pk]


def test_the_task_makes_a_small_webp_once(salon, manager):
    photo = add_photo(
        salon, manager, image_bytes("PNG", size=(1200, 600), mode="RGBA", color=(0, 90, 90, 100))
    )
    assert make_thumbnails(photo.pk) is True
    photo.refresh_from_db()
    with default_storage.open(photo.thumbnail.name) as thumbnail:
        image = Image.open(io.BytesIO(thumbnail.read()))
    assert (image.format, image.size, image.mode) == ("WEBP", (480, 240), "RGBA")
    name = photo.thumbnail.name
    assert make_thumbnails(photo.pk) is False  # a second run does nothing
    photo.refresh_from_db()
    assert photo.thumbnail.name == name
    body = client_for(None).get(f"/api/v1/salons/{salon.id}/").json()
    assert body["gallery"][0]["thumbnail_url"] == f"http://testserver/media/{name}"


def test_a_deleted_photo_gets_no_thumbnail_and_leaves_no_file(salon, manager, media_root):
    photo = add_photo(salon, manager, image_bytes("JPEG"))
    photo_id = photo.pk
    photo_delete(photo=photo)
    assert photo_thumbnail_make(photo_id=photo_id) is False


def test_a_thumbnail_made_meanwhile_by_another_run_wins(salon, manager, media_root, monkeypatch):
    photo = add_photo(salon, manager, image_bytes("JPEG"))
    real_save = default_storage.save

    def save_and_race(name, content):
        Photo.objects.filter(pk=photo.pk).update(thumbnail="other.webp")  # the other run committed first
        return real_save(name, content)

    monkeypatch.setattr(default_storage, "save", save_and_race)
    assert photo_thumbnail_make(photo_id=photo.pk) is False
    assert not any(path.name.endswith("_thumb.webp") for path in media_root.rglob("*"))


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_makes_the_thumbnail(settings, celery_worker_process):
    media_root = celery_worker_process.media_root  # the worker writes there; so does this test's upload
    settings.MEDIA_ROOT = str(media_root)
    manager = make_user()
    salon = make_salon(managers=[manager])
    photo = add_photo(salon, manager, image_bytes("JPEG", size=(2000, 1000)))

    def thumbnail_made():
        photo.refresh_from_db()
        return photo.thumbnail

    wait_until(thumbnail_made)
    assert photo.thumbnail.name.endswith("_thumb.webp")
    assert Image.open(media_root / photo.thumbnail.name).size == (480, 240)


def test_a_palette_png_gets_a_webp_thumbnail(salon, manager):
    photo = add_photo(salon, manager, image_bytes("PNG", size=(1000, 1000), mode="P", color=3))
    assert photo_thumbnail_make(photo_id=photo.pk) is True
    photo.refresh_from_db()
    with default_storage.open(photo.thumbnail.name) as thumbnail:
        assert Image.open(io.BytesIO(thumbnail.read())).size == (480, 480)


def test_the_django_admin_shows_photos_read_only(salon, manager, client):
    add_photo(salon, manager, image_bytes("PNG"))
    client.force_login(make_admin())
    assert client.get("/admin/photos/photo/").status_code == 200
    assert client.get("/admin/photos/photo/add/").status_code == 403
    assert client.get(f"/admin/photos/photo/{Photo.objects.get().pk}/delete/").status_code == 403


def test_the_admin_names_a_photo_by_kind_and_salon(salon, manager, client):
    photo = add_photo(salon, manager, image_bytes("PNG"), kind="cover")
    assert str(photo) == f"cover #{photo.pk} of salon {salon.pk}"
    client.force_login(make_admin())
    page = client.get(f"/admin/photos/photo/{photo.pk}/change/")
    assert page.status_code == 200 and str(photo).encode() in page.content
