"""Salon photos and staff avatars through the API: only real JPEG/PNG/WebP within the limits get in,
re-encoded without their metadata; their absolute URLs show in the catalog; deleting removes the files."""

import io
from pathlib import Path

import pytest
from PIL import Image

from backend.photos.models import Photo
from backend.photos.services import MAX_GALLERY_PHOTOS
from tests.photos.conftest import gps_exif, image_bytes, png_declaring, upload
from tests.support.factories import client_for, make_salon, make_staff, make_user

pytestmark = pytest.mark.django_db


def photos_url(salon) -> str:
    return f"/api/v1/manage/salons/{salon.id}/photos/"


def post_photo(client, salon, kind="gallery", content=None, name="photo.jpg", content_type="image/jpeg"):
    data = {"kind": kind}
    if content is not None:
        data["file"] = upload(content, name, content_type)
    return client.post(photos_url(salon), data, format="multipart")


def stored_files(media_root: Path) -> list[Path]:
    return sorted(path for path in media_root.rglob("*") if path.is_file())


def fetch(url: str, media_root: Path) -> bytes:
    assert url.startswith("http://testserver/media/")
    return (media_root / url.removeprefix("http://testserver/media/")).read_bytes()


def test_a_jpeg_loses_its_gps_metadata_and_trailing_bytes(manager_client, salon, media_root):
    original = image_bytes("JPEG", exif=gps_exif()) + b"<?php system($_GET['c']); ?>"
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)  # the test image does carry GPS
    response = post_photo(manager_client, salon, "cover", original)
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["kind"], body["width"], body["height"], body["thumbnail_url"]) == ("cover", 64, 48, None)
    stored = fetch(body["url"], media_root)
    image = Image.open(io.BytesIO(stored))
    assert image.format == "JPEG" and not image.getexif() and not image.getexif().get_ifd(0x8825)
    assert b"PhoneMaker" not in stored and b"php" not in stored
    assert body["url"].endswith(".jpg") and "photo" not in body["url"].rsplit("/", 1)[1]  # random name


def test_the_exif_orientation_is_applied_before_it_is_dropped(manager_client, salon):
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° to show
    response = post_photo(manager_client, salon, content=image_bytes("JPEG", size=(64, 48), exif=exif))
    assert (response.json()["width"], response.json()["height"]) == (48, 64)


@pytest.mark.parametrize(
    ("image_format", "mode", "extension"),
    [("PNG", "RGBA", "png"), ("PNG", "P", "png"), ("WEBP", "RGB", "webp"), ("JPEG", "CMYK", "jpg")],
)
def test_png_and_webp_are_kept_in_their_format(
    manager_client, salon, media_root, image_format, mode, extension
):
    content = image_bytes(image_format, mode=mode, exif=gps_exif())
    response = post_photo(manager_client, salon, content=content, name=f"x.{extension}")
    assert response.status_code == 201, response.content
    assert response.json()["url"].endswith(f".{extension}")
    stored = Image.open(io.BytesIO(fetch(response.json()["url"], media_root)))
    assert stored.format == image_format and not stored.getexif()


@pytest.mark.parametrize(
    ("content", "name", "content_type", "code"),
    [
        (b"hello, I am text", "photo.jpg", "image/jpeg", "photo_invalid"),
        (image_bytes("GIF"), "photo.gif", "image/gif", "photo_invalid"),
        (
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "photo.svg",
            "image/svg+xml",
            "photo_invalid",
        ),
        (image_bytes("BMP"), "photo.png", "image/png", "photo_invalid"),
        (image_bytes("JPEG")[:200], "photo.jpg", "image/jpeg", "photo_invalid"),  # truncated
        (
            image_bytes("PNG")[:-20] + b"\0" * 20,
            "photo.png",
            "image/png",
            "photo_invalid",
        ),  # broken checksums
        (png_declaring(100_000, 100_000), "bomb.png", "image/png", "photo_too_many_pixels"),
        (png_declaring(5000, 5000), "big.png", "image/png", "photo_too_many_pixels"),  # 25 MP > 24 MP
        (b"", "empty.jpg", "image/jpeg", "validation_error"),
    ],
)
@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_what_is_not_an_acceptable_image_is_a_400_and_nothing_is_stored(
    manager_client, salon, media_root, content, name, content_type, code
):
    response = post_photo(manager_client, salon, content=content, name=name, content_type=content_type)
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == code
    assert not Photo.objects.exists() and stored_files(media_root) == []


def test_a_missing_file_or_kind_is_a_validation_error(manager_client, salon, staff):
    response = post_photo(manager_client, salon)
    assert response.status_code == 400 and "file" in response.json()["error"]["fields"]
    response = post_photo(manager_client, salon, "avatar", image_bytes("PNG"), "x.png")
    assert response.status_code == 400 and "kind" in response.json()["error"]["fields"]
    response = manager_client.put(
        f"/api/v1/manage/salons/{salon.id}/staff/{staff.id}/avatar/", {}, format="multipart"
    )
    assert response.status_code == 400 and "file" in response.json()["error"]["fields"]
    response = manager_client.post(photos_url(salon), {"kind": "cover"}, format="json")
    assert response.status_code == 415
    assert not Photo.objects.exists()


def test_files_over_the_byte_limit_are_refused(manager_client, salon, media_root, settings):
    settings.PHOTO_MAX_BYTES = 1000
    content = image_bytes("PNG", size=(200, 200), mode="RGB", compress_level=0)
    assert len(content) > 1000
    response = post_photo(manager_client, salon, content=content, name="x.png")
    assert response.status_code == 400 and response.json()["error"]["code"] == "photo_too_large"
    settings.PHOTO_MAX_BYTES = len(content) + 10  # the body (with its envelope) passes; the file does not
    response = post_photo(manager_client, salon, content=content + b"\0" * 100, name="x.png")
    assert response.status_code == 400 and response.json()["error"]["code"] == "photo_too_large"
    assert stored_files(media_root) == []


def test_only_the_salons_managers_upload_and_delete(salon, staff, manager_client):
    for user in (make_user(), staff.user or make_user()):
        client = client_for(user)
        assert post_photo(client, salon, content=image_bytes("PNG"), name="x.png").status_code == 404
    other = make_salon(managers=[make_user()])
    photo_id = post_photo(manager_client, salon, content=image_bytes("PNG"), name="x.png").json()["id"]
    other_client = client_for(other.managers.get())
    assert other_client.delete(f"{photos_url(salon)}{photo_id}/").status_code == 404
    assert other_client.delete(f"{photos_url(other)}{photo_id}/").status_code == 404
    assert post_photo(client_for(None), salon, content=image_bytes("PNG"), name="x.png").status_code == 401
    assert Photo.objects.count() == 1


def test_a_new_cover_replaces_the_old_one_and_its_file(
    manager_client, salon, media_root, django_capture_on_commit_callbacks
):
    first = post_photo(manager_client, salon, "cover", image_bytes("JPEG")).json()
    assert fetch(first["url"], media_root)
    with django_capture_on_commit_callbacks(execute=True):
        second = post_photo(manager_client, salon, "cover", image_bytes("PNG"), "x.png").json()
    assert list(Photo.objects.values_list("id", flat=True)) == [second["id"]]
    assert len(stored_files(media_root)) == 1 and fetch(second["url"], media_root)


def test_the_catalog_shows_absolute_urls_and_deleting_removes_the_files(
    manager_client, salon, staff, media_root, api_client, django_capture_on_commit_callbacks
):
    cover = post_photo(manager_client, salon, "cover", image_bytes("JPEG")).json()
    gallery = [
        post_photo(manager_client, salon, "gallery", image_bytes("WEBP"), "g.webp").json() for _ in range(2)
    ]
    avatar_url = f"/api/v1/manage/salons/{salon.id}/staff/{staff.id}/avatar/"
    response = manager_client.put(
        avatar_url, {"file": upload(image_bytes("PNG"), "a.png")}, format="multipart"
    )
    assert response.status_code == 200, response.content
    avatar = response.json()
    assert avatar["kind"] == "avatar"

    listed = api_client.get("/api/v1/salons/").json()["results"][0]
    assert listed["cover_url"] == cover["url"] and listed["cover_url"].startswith("http://testserver/media/")
    detail = api_client.get(f"/api/v1/salons/{salon.id}/").json()
    assert detail["cover_url"] == cover["url"]
    assert [photo["id"] for photo in detail["gallery"]] == [photo["id"] for photo in gallery]
    assert detail["gallery"][0]["url"].startswith("http://testserver/media/")
    [listed_staff] = api_client.get(f"/api/v1/salons/{salon.id}/staff/").json()["results"]
    assert listed_staff["avatar_url"] == avatar["url"]
    assert len(stored_files(media_root)) == 4

    with django_capture_on_commit_callbacks(execute=True):  # the files go once the deletion commits
        assert manager_client.delete(f"{photos_url(salon)}{gallery[0]['id']}/").status_code == 204
        assert manager_client.delete(f"{photos_url(salon)}{cover['id']}/").status_code == 204
        assert manager_client.delete(avatar_url).status_code == 204
    assert manager_client.delete(avatar_url).status_code == 404
    assert manager_client.delete(f"{photos_url(salon)}{cover['id']}/").status_code == 404
    detail = api_client.get(f"/api/v1/salons/{salon.id}/").json()
    assert detail["cover_url"] is None and [photo["id"] for photo in detail["gallery"]] == [gallery[1]["id"]]
    assert api_client.get(f"/api/v1/salons/{salon.id}/staff/").json()["results"][0]["avatar_url"] is None
    assert stored_files(media_root) == [
        media_root / gallery[1]["url"].removeprefix("http://testserver/media/")
    ]


def test_an_avatar_is_only_for_this_salons_staff(manager_client, salon):
    stranger = make_staff(make_salon())
    url = f"/api/v1/manage/salons/{salon.id}/staff/{stranger.id}/avatar/"
    assert (
        manager_client.put(url, {"file": upload(image_bytes("PNG"), "a.png")}, format="multipart").status_code
        == 404
    )
    assert manager_client.delete(url).status_code == 404


def test_an_avatar_id_is_not_a_salon_photo(manager_client, salon, staff):
    url = f"/api/v1/manage/salons/{salon.id}/staff/{staff.id}/avatar/"
    avatar = manager_client.put(url, {"file": upload(image_bytes("PNG"), "a.png")}, format="multipart").json()
    assert manager_client.delete(f"{photos_url(salon)}{avatar['id']}/").status_code == 404
    again = manager_client.put(url, {"file": upload(image_bytes("JPEG"), "b.jpg")}, format="multipart").json()
    assert list(Photo.objects.values_list("id", flat=True)) == [again["id"]]  # replaced


def test_the_gallery_is_bounded(manager_client, salon, media_root, monkeypatch):
    monkeypatch.setattr("backend.photos.services.MAX_GALLERY_PHOTOS", 2)
    for _ in range(2):
        assert post_photo(manager_client, salon, content=image_bytes("PNG"), name="x.png").status_code == 201
    response = post_photo(manager_client, salon, content=image_bytes("PNG"), name="x.png")
    assert response.status_code == 409 and response.json()["error"]["code"] == "gallery_full"
    assert Photo.objects.count() == 2 and len(stored_files(media_root)) == 2
    assert MAX_GALLERY_PHOTOS == 30


def test_the_catalog_lists_cost_no_more_queries_with_more_photos(api_client, django_assert_max_num_queries):
    manager = make_user()
    client = client_for(manager)
    salons = [make_salon(managers=[manager]) for _ in range(4)]
    staff = [make_staff(salons[0]) for _ in range(4)]
    for salon in salons:
        post_photo(client, salon, "cover", image_bytes("PNG"), "c.png")
        post_photo(client, salon, "gallery", image_bytes("PNG"), "g.png")
    for member in staff:
        url = f"/api/v1/manage/salons/{salons[0].id}/staff/{member.id}/avatar/"
        client.put(url, {"file": upload(image_bytes("PNG"), "a.png")}, format="multipart")
    with django_assert_max_num_queries(3):  # count, salons, their photos
        results = api_client.get("/api/v1/salons/").json()["results"]
    assert all(row["cover_url"] for row in results) and len(results) == 4
    with django_assert_max_num_queries(6):  # salon, hours, count, staff, their services, their avatars
        results = api_client.get(f"/api/v1/salons/{salons[0].id}/staff/").json()["results"]
    assert all(row["avatar_url"] for row in results) and len(results) == 4


def test_a_non_numeric_content_length_is_a_validation_error_not_a_crash(manager_client, salon, media_root):
    response = manager_client.post(
        photos_url(salon),
        {"kind": "gallery", "file": upload(image_bytes("PNG"), "x.png", "image/png")},
        format="multipart",
        CONTENT_LENGTH="a lot",
    )
    # DRF reads no body it cannot measure: the upload never reaches a parser, so its fields are missing.
    assert response.status_code == 400, response.content
    assert set(response.json()["error"]["fields"]) == {"kind", "file"}
    assert not Photo.objects.exists() and stored_files(media_root) == []
