"""Reviews through the API, on real PostgreSQL: who may write them, when, how often, and what they do to
the salon's and the staff member's ratings."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError
from django.utils import timezone

from backend.accounts.export import _sections
from backend.bookings.models import BookingStatus
from backend.reviews.models import Review
from backend.reviews.selectors import review_personal_data
from backend.reviews.services import review_create
from tests.reviews.conftest import completed_booking
from tests.support.api import error_code
from tests.support.factories import (
    client_for,
    make_admin,
    make_booking,
    make_salon,
    make_staff,
    make_user,
    make_visit,
)

pytestmark = pytest.mark.django_db


def review_url(booking) -> str:
    return f"/api/v1/bookings/{booking.id}/review/"


def post_review(client, booking, body):
    return client.post(review_url(booking), body, format="json")


def salon_rating(salon) -> tuple[Decimal, int]:
    body = client_for(None).get(f"/api/v1/salons/{salon.id}/").json()
    return Decimal(str(body["rating"])), body["review_count"]


def staff_rating(salon, staff) -> tuple[Decimal, int]:
    body = client_for(None).get(f"/api/v1/salons/{salon.id}/staff/").json()
    [row] = [row for row in body["results"] if row["id"] == staff.id]
    return Decimal(str(row["rating"])), row["review_count"]


def review_as(booking, rating: int, comment: str = ""):
    response = client_for(booking.customer).post(
        review_url(booking), {"rating": rating, "comment": comment}, format="json", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 201, response.content
    return response.json()


# --- writing a review ---------------------------------------------------------------------------------


def test_the_customer_reviews_a_completed_booking(customer_client, completed, salon, staff, service):
    response = post_review(customer_client, completed, {"rating": 4, "comment": "  Great fade.  "})
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {
        "id",
        "rating",
        "comment",
        "staff",
        "service",
        "customer_name",
        "reply",
        "replied_at",
        "created_at",
        "updated_at",
    }
    assert (body["rating"], body["comment"], body["staff"], body["service"]) == (
        4,
        "Great fade.",
        staff.id,
        service.id,
    )
    assert body["customer_name"] == "Noura"  # the first name only
    assert body["reply"] == "" and body["replied_at"] is None
    assert salon_rating(salon) == (Decimal("4.00"), 1)
    assert staff_rating(salon, staff) == (Decimal("4.00"), 1)


def test_the_comment_is_optional(customer_client, completed):
    response = post_review(customer_client, completed, {"rating": 5})
    assert response.status_code == 201 and response.json()["comment"] == ""


def test_a_customer_without_a_name_is_shown_as_customer(service, staff, salon):
    booking = completed_booking(service=service, staff=staff, customer=make_user(name=""))
    assert review_as(booking, 3)["customer_name"] == "Customer"
    response = client_for(None).get(f"/api/v1/salons/{salon.id}/reviews/", HTTP_ACCEPT_LANGUAGE="ar")
    assert response.json()["results"][0]["customer_name"] == "عميل"


@pytest.mark.parametrize("status", [s for s in BookingStatus if s != BookingStatus.COMPLETED])
def test_only_a_completed_booking_can_be_reviewed(customer_client, customer, service, staff, status):
    booking = make_booking(
        service=service,
        staff=staff,
        customer=customer,
        start=timezone.now() - timedelta(days=1),
        status=status,
    )
    response = post_review(customer_client, booking, {"rating": 5})
    assert response.status_code == 400 and error_code(response) == "booking_not_completed"
    assert not Review.objects.exists()


def test_someone_who_cannot_see_the_booking_gets_404(completed, customer):
    other_manager = make_user()
    make_salon(managers=[other_manager])
    for user in (make_user(), other_manager):  # another customer; a manager of another salon
        response = post_review(client_for(user), completed, {"rating": 1})
        assert response.status_code == 404 and error_code(response) == "not_found"
    response = client_for(customer).post("/api/v1/bookings/999999999/review/", {"rating": 1}, format="json")
    assert response.status_code == 404
    assert post_review(client_for(None), completed, {"rating": 1}).status_code == 401
    assert not Review.objects.exists()


def test_salon_staff_who_see_the_booking_but_did_not_book_it_get_403(completed, manager, staff):
    for user in (manager, staff.user, make_admin()):
        response = post_review(client_for(user), completed, {"rating": 5})
        assert response.status_code == 403 and error_code(response) == "permission_denied", user
        response = client_for(user).patch(review_url(completed), {"rating": 1}, format="json")
        assert response.status_code == 403
    assert not Review.objects.exists()


def test_a_booking_is_reviewed_once(customer_client, completed, salon):
    review_as(completed, 5)
    response = post_review(customer_client, completed, {"rating": 1})
    assert response.status_code == 409 and error_code(response) == "already_reviewed"
    assert Review.objects.count() == 1
    assert salon_rating(salon) == (Decimal("5.00"), 1)


def test_the_database_refuses_a_second_review_and_an_out_of_range_rating(completed, customer):
    review_create(booking=completed, actor=customer, rating=5)
    with pytest.raises(IntegrityError):
        Review.objects.create(
            booking=completed,
            salon_id=completed.salon_id,
            staff_id=completed.staff_id,
            service_id=completed.service_id,
            customer=customer,
            rating=5,
        )


def test_an_out_of_range_rating_that_skips_the_api_is_refused_by_the_database(completed, customer):
    with pytest.raises(IntegrityError):
        review_create(booking=completed, actor=customer, rating=9)


@pytest.mark.parametrize(
    "body",
    [
        {"rating": 0},
        {"rating": 6},
        {"rating": -1},
        {"rating": 4.5},
        {"rating": "five"},
        {"rating": True},
        {"rating": None},
        {"rating": [5]},
        {},
        {"rating": 5, "comment": "x" * 2001},
        {"rating": 5, "comment": {"text": "hi"}},
        {"rating": 5, "comment": 0},  # DRF's CharField would have saved "0" (found by tests/test_api_fuzz.py)
        {"rating": 10**30},
    ],
)
def test_bad_review_input_is_a_validation_error(customer_client, completed, body):
    response = post_review(customer_client, completed, body)
    assert response.status_code == 400, response.content
    assert error_code(response) == "validation_error"
    assert set(response.json()["error"]["fields"]) <= {"rating", "comment"}
    assert not Review.objects.exists()


def test_a_comment_of_the_maximum_length_is_kept(customer_client, completed):
    response = post_review(customer_client, completed, {"rating": 5, "comment": "ش" * 2000})
    assert response.status_code == 201 and len(response.json()["comment"]) == 2000


def test_a_huge_body_is_refused_before_it_is_parsed(customer_client, completed):
    response = post_review(customer_client, completed, {"rating": 5, "comment": "x" * 3_000_000})
    assert response.status_code == 413 and error_code(response) == "request_too_large"
    assert not Review.objects.exists()


# --- editing ------------------------------------------------------------------------------------------


def test_the_customer_edits_their_review_and_the_ratings_follow(customer_client, completed, salon, staff):
    created = review_as(completed, 2, "Slow.")
    response = customer_client.patch(review_url(completed), {"rating": 4}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["id"], body["rating"], body["comment"]) == (created["id"], 4, "Slow.")
    assert body["updated_at"] > created["updated_at"]
    assert salon_rating(salon) == (Decimal("4.00"), 1) and staff_rating(salon, staff) == (Decimal("4.00"), 1)
    response = customer_client.patch(review_url(completed), {"comment": ""}, format="json")
    assert response.json()["comment"] == "" and response.json()["rating"] == 4


def test_editing_is_closed_after_the_window(customer_client, completed, settings):
    review_as(completed, 2)
    Review.objects.update(created_at=timezone.now() - timedelta(hours=72, minutes=1))
    response = customer_client.patch(review_url(completed), {"rating": 5}, format="json")
    assert response.status_code == 409 and error_code(response) == "review_not_editable"
    assert Review.objects.get().rating == 2
    settings.REVIEW_EDIT_WINDOW_HOURS = 100
    assert customer_client.patch(review_url(completed), {"rating": 5}, format="json").status_code == 200


def test_editing_needs_a_review_and_valid_input(customer_client, completed):
    response = customer_client.patch(review_url(completed), {"rating": 5}, format="json")
    assert response.status_code == 404 and error_code(response) == "not_found"
    review_as(completed, 2)
    for body in ({"rating": 7}, {"comment": "x" * 2001}, {"rating": "x"}):
        response = customer_client.patch(review_url(completed), body, format="json")
        assert response.status_code == 400, body
    assert (
        client_for(make_user()).patch(review_url(completed), {"rating": 5}, format="json").status_code == 404
    )


# --- ratings --------------------------------------------------------------------------------------------


def test_ratings_are_the_mean_of_the_visible_reviews_rounded_half_up(salon, service, staff, other_staff):
    assert salon_rating(salon) == (Decimal("0"), 0)
    first, second, third = (completed_booking(service=service, staff=staff) for _ in range(3))
    review_as(first, 5)
    review_as(second, 4)
    assert salon_rating(salon) == (Decimal("4.50"), 2)
    review_as(third, 4)
    assert salon_rating(salon) == (Decimal("4.33"), 3)  # 13 / 3 = 4.333...
    review_as(completed_booking(service=service, staff=other_staff), 5)
    # 18 / 4 = 4.5; staff: 13 / 3 and 5 / 1
    assert salon_rating(salon) == (Decimal("4.50"), 4)
    assert staff_rating(salon, staff) == (Decimal("4.33"), 3)
    assert staff_rating(salon, other_staff) == (Decimal("5.00"), 1)


def make_staff_in(salon, service):
    return make_staff(salon, services=[service], name="Reem")


def test_half_way_means_round_up(salon, service):
    staff = make_staff_in(salon, service)
    for rating in (5, 4, 4, 4, 4, 4, 4, 4):  # 33 / 8 = 4.125
        review_as(completed_booking(service=service, staff=staff), rating)
    assert staff_rating(salon, staff) == (Decimal("4.13"), 8)


# --- the public list ------------------------------------------------------------------------------------


def test_the_public_list_is_newest_first_filtered_by_staff_and_paginated(
    salon, service, staff, other_staff, api_client
):
    ids = [review_as(completed_booking(service=service, staff=staff), 5)["id"] for _ in range(3)]
    other = review_as(completed_booking(service=service, staff=other_staff), 3)["id"]
    body = api_client.get(f"/api/v1/salons/{salon.id}/reviews/").json()
    assert body["count"] == 4 and [row["id"] for row in body["results"]] == [other, *reversed(ids)]
    body = api_client.get(f"/api/v1/salons/{salon.id}/reviews/?staff={staff.id}&page_size=2").json()
    assert body["count"] == 3 and [row["id"] for row in body["results"]] == [ids[2], ids[1]]
    assert body["next"] is not None
    for not_an_id in ("abc", "0.5"):
        assert api_client.get(f"/api/v1/salons/{salon.id}/reviews/?staff={not_an_id}").status_code == 400
    assert api_client.get("/api/v1/salons/999999999/reviews/").status_code == 404
    other_salon = make_salon()
    assert api_client.get(f"/api/v1/salons/{other_salon.id}/reviews/").json()["count"] == 0


def test_a_visits_review_is_listed_and_rated_under_each_of_its_staff_members(
    salon, service, staff, other_staff, api_client
):
    start = timezone.now() - timedelta(days=1)
    visit = make_visit(
        [(service, staff, start), (service, other_staff, start + timedelta(hours=1))],
        status=BookingStatus.COMPLETED,
    )
    review_id = review_as(visit, 4)["id"]
    for member in (staff, other_staff):  # the second item's staff member too
        listed = api_client.get(f"/api/v1/salons/{salon.id}/reviews/?staff={member.id}").json()
        assert [row["id"] for row in listed["results"]] == [review_id]
        assert staff_rating(salon, member) == (Decimal("4.00"), 1)


def test_the_public_list_costs_the_same_queries_for_many_reviews(
    salon, service, staff, api_client, django_assert_max_num_queries
):
    review_as(completed_booking(service=service, staff=staff), 5)
    with django_assert_max_num_queries(4):  # salon, its hours, count, page (customers joined)
        assert len(api_client.get(f"/api/v1/salons/{salon.id}/reviews/").json()["results"]) == 1
    for _ in range(15):
        review_as(completed_booking(service=service, staff=staff), 4)
    with django_assert_max_num_queries(4):
        assert len(api_client.get(f"/api/v1/salons/{salon.id}/reviews/").json()["results"]) == 16


# --- replies --------------------------------------------------------------------------------------------


def test_the_manager_replies_and_others_get_404(completed, salon, manager, staff):
    review = review_as(completed, 2, "Late.")
    url = f"/api/v1/manage/salons/{salon.id}/reviews/{review['id']}/reply/"
    for user in (staff.user, completed.customer, make_user()):
        response = client_for(user).post(url, {"reply": "Sorry"}, format="json")
        assert response.status_code == 404, user
    other_salon = make_salon(managers=[make_user()])
    response = client_for(other_salon.managers.get()).post(
        f"/api/v1/manage/salons/{other_salon.id}/reviews/{review['id']}/reply/", {"reply": "x"}, format="json"
    )
    assert response.status_code == 404
    manager_client = client_for(manager)
    for body in ({}, {"reply": ""}, {"reply": "x" * 2001}):
        assert manager_client.post(url, body, format="json").status_code == 400
    response = manager_client.post(url, {"reply": "We are sorry, come again."}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["reply"] == "We are sorry, come again." and response.json()["replied_at"]
    listed = client_for(None).get(f"/api/v1/salons/{salon.id}/reviews/").json()["results"][0]
    assert listed["reply"] == "We are sorry, come again."
    assert salon_rating(salon) == (Decimal("2.00"), 1)


# --- moderation -----------------------------------------------------------------------------------------


def test_a_platform_admin_hides_and_unhides_a_review(salon, service, staff, other_staff):
    kept = review_as(completed_booking(service=service, staff=staff), 5)
    abusive = review_as(completed_booking(service=service, staff=staff), 1, "abuse")
    assert salon_rating(salon) == (Decimal("3.00"), 2)
    admin = client_for(make_admin())
    response = admin.post(f"/api/v1/admin/reviews/{abusive['id']}/hide/")
    assert response.status_code == 200 and response.json()["is_hidden"] is True
    assert salon_rating(salon) == (Decimal("5.00"), 1) and staff_rating(salon, staff) == (Decimal("5.00"), 1)
    listed = client_for(None).get(f"/api/v1/salons/{salon.id}/reviews/").json()
    assert [row["id"] for row in listed["results"]] == [kept["id"]]
    assert admin.post(f"/api/v1/admin/reviews/{abusive['id']}/hide/").status_code == 200  # no change
    assert salon_rating(salon) == (Decimal("5.00"), 1)
    response = admin.post(f"/api/v1/admin/reviews/{abusive['id']}/unhide/")
    assert response.status_code == 200 and response.json()["is_hidden"] is False
    assert salon_rating(salon) == (Decimal("3.00"), 2)
    assert admin.post("/api/v1/admin/reviews/999999999/hide/").status_code == 404


def test_only_platform_admins_moderate(completed, manager, customer_client):
    review = review_as(completed, 1)
    for client in (client_for(manager), customer_client):
        response = client.post(f"/api/v1/admin/reviews/{review['id']}/hide/")
        assert response.status_code == 403
    assert client_for(None).post(f"/api/v1/admin/reviews/{review['id']}/hide/").status_code == 401
    assert not Review.objects.get().is_hidden


def test_the_django_admin_hides_through_the_service(completed, salon, client):
    review = review_as(completed, 1)
    admin = make_admin()
    client.force_login(admin)
    changelist = "/admin/reviews/review/"
    response = client.post(changelist, {"action": "hide_reviews", "_selected_action": [review["id"]]})
    assert response.status_code == 302
    assert Review.objects.get().is_hidden and salon_rating(salon) == (Decimal("0"), 0)
    client.post(changelist, {"action": "unhide_reviews", "_selected_action": [review["id"]]})
    assert not Review.objects.get().is_hidden and salon_rating(salon) == (Decimal("1.00"), 1)
    assert client.get(f"{changelist}{review['id']}/change/").status_code == 200  # viewable, read-only
    assert client.get("/admin/reviews/review/add/").status_code == 403


def test_a_hidden_review_can_still_be_edited_but_stays_out_of_the_ratings(customer_client, completed, salon):
    review = review_as(completed, 1)
    client_for(make_admin()).post(f"/api/v1/admin/reviews/{review['id']}/hide/")
    assert customer_client.patch(review_url(completed), {"rating": 5}, format="json").status_code == 200
    assert salon_rating(salon) == (Decimal("0"), 0)


# --- personal data --------------------------------------------------------------------------------------


def test_reviews_are_in_the_export_and_their_comments_go_with_the_account(customer_client, completed, salon):
    review_as(completed, 4, "My words")
    assert _sections["reviews"] is review_personal_data  # registered for GET /me/export/
    [row] = review_personal_data(user=completed.customer)
    assert (row["rating"], row["comment"], row["booking"]) == (4, "My words", completed.id)
    assert customer_client.delete("/api/v1/me/").status_code == 204
    review = Review.objects.get()
    assert review.comment == "" and review.rating == 4
    assert salon_rating(salon) == (Decimal("4.00"), 1)
    listed = client_for(None).get(f"/api/v1/salons/{salon.id}/reviews/", HTTP_ACCEPT_LANGUAGE="en")
    assert listed.json()["results"][0]["customer_name"] == "Customer"
