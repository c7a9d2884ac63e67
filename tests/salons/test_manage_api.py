"""The salon management API (/manage/salons/{id}/...) through HTTP, as the manager app calls it."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from backend.accounts.models import User
from backend.bookings.models import BookingStatus
from backend.salons.models import Closure, Service, StaffMember, TimeOff
from backend.salons.services import staff_invitation_accept
from tests.core.test_errors import ARABIC, assert_error_shape
from tests.support.factories import (
    at,
    make_booking,
    make_salon,
    make_service,
    make_staff,
    make_user,
    next_weekday,
)

pytestmark = pytest.mark.django_db

RIYADH = ZoneInfo("Asia/Riyadh")


def url(salon, rest: str = "") -> str:
    return f"/api/v1/manage/salons/{salon.id}/{rest}"


# --- Settings -------------------------------------------------------------------------------------------
def test_settings_read_and_change(manager_client, salon):
    response = manager_client.get(url(salon, "settings/"))
    assert response.status_code == 200
    assert response.json()["timezone"] == "Asia/Riyadh"
    changes = {
        "name": "Lamsa",
        "name_ar": "لمسة",
        "timezone": "Europe/Berlin",
        "slot_step_minutes": 20,
        "min_notice_minutes": 120,
        "horizon_days": 14,
        "prepayment_required": True,
        "hold_minutes": 10,
        "cancellation_policy": [
            {"hours_before": 2, "refund_percent": 50},
            {"hours_before": 24, "refund_percent": 100},
        ],
    }
    response = manager_client.patch(url(salon, "settings/"), changes)
    assert response.status_code == 200, response.content
    saved = response.json()
    # Tiers come back largest hours_before first, the order a refund is looked up in.
    assert saved["cancellation_policy"] == [
        {"hours_before": 24, "refund_percent": 100},
        {"hours_before": 2, "refund_percent": 50},
    ]
    assert {key: saved[key] for key in changes if key != "cancellation_policy"} == {
        key: value for key, value in changes.items() if key != "cancellation_policy"
    }
    assert manager_client.get(url(salon, "settings/")).json() == saved


def test_a_partial_change_keeps_the_rest(manager_client, salon):
    response = manager_client.patch(url(salon, "settings/"), {"city": "Jeddah"})
    assert response.status_code == 200
    salon.refresh_from_db()
    assert (salon.city, salon.name, salon.slot_step_minutes) == ("Jeddah", "Test Salon", 30)


def test_an_empty_policy_means_no_refunds(manager_client, salon):
    response = manager_client.patch(url(salon, "settings/"), {"cancellation_policy": []}, format="json")
    assert response.status_code == 200
    assert response.json()["cancellation_policy"] == []


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"timezone": "+03:00"}, "timezone"),
        ({"timezone": "localtime"}, "timezone"),
        ({"timezone": "../../etc/passwd"}, "timezone"),
        ({"slot_step_minutes": 0}, "slot_step_minutes"),
        ({"min_notice_minutes": -1}, "min_notice_minutes"),
        ({"horizon_days": 366}, "horizon_days"),
        ({"hold_minutes": 0}, "hold_minutes"),
        ({"name": ""}, "name"),
        ({"cancellation_policy": {"hours_before": 24}}, "cancellation_policy"),
        ({"cancellation_policy": [{"hours_before": -1, "refund_percent": 0}]}, "cancellation_policy"),
        ({"cancellation_policy": [{"hours_before": 1, "refund_percent": 101}]}, "cancellation_policy"),
        ({"cancellation_policy": [{"hours_before": 1}]}, "cancellation_policy"),
        ({"cancellation_policy": [{"hours_before": "x", "refund_percent": 1}]}, "cancellation_policy"),
        (
            {
                "cancellation_policy": [
                    {"hours_before": 5, "refund_percent": 50},
                    {"hours_before": 5, "refund_percent": 20},
                ]
            },
            "cancellation_policy",
        ),
        (
            # Cancelling 24 h ahead would refund less than cancelling 2 h ahead.
            {
                "cancellation_policy": [
                    {"hours_before": 24, "refund_percent": 50},
                    {"hours_before": 2, "refund_percent": 100},
                ]
            },
            "cancellation_policy",
        ),
    ],
)
def test_bad_settings_are_400_and_change_nothing(manager_client, salon, changes, field):
    response = manager_client.patch(url(salon, "settings/"), changes, format="json")
    assert field in assert_error_shape(response, 400, "validation_error")["fields"]
    salon.refresh_from_db()
    assert (salon.timezone, salon.slot_step_minutes) == ("Asia/Riyadh", 30)


def test_policy_messages_are_arabic_for_arabic_clients(manager_client, salon):
    policy = [{"hours_before": 24, "refund_percent": 50}, {"hours_before": 2, "refund_percent": 100}]
    response = manager_client.patch(
        url(salon, "settings/"), {"cancellation_policy": policy}, format="json", HTTP_ACCEPT_LANGUAGE="ar"
    )
    assert ARABIC.search(str(assert_error_shape(response, 400, "validation_error")["fields"]))


# --- Weekly hours ---------------------------------------------------------------------------------------
WEEK = [
    {"day": "mon", "start": "16:00", "end": "23:00"},
    {"day": "sun", "start": "09:00", "end": "13:00"},
    {"day": "sun", "start": "16:00", "end": "23:00"},
    {"day": "sat", "start": "10:00", "end": "13:00"},
    {"day": "mon", "start": "10:00", "end": "13:00"},
]
SAVED_WEEK = [  # Sunday first, each day's ranges by start
    {"day": "sun", "start": "09:00", "end": "13:00"},
    {"day": "sun", "start": "16:00", "end": "23:00"},
    {"day": "mon", "start": "10:00", "end": "13:00"},
    {"day": "mon", "start": "16:00", "end": "23:00"},
    {"day": "sat", "start": "10:00", "end": "13:00"},
]


@pytest.fixture(params=["business-hours/", "working-hours/"])
def week_url(request, salon, staff):
    return (
        url(salon, request.param)
        if request.param == "business-hours/"
        else url(salon, f"staff/{staff.id}/working-hours/")
    )


def test_put_replaces_the_whole_week_and_answers_it(manager_client, week_url):
    response = manager_client.put(week_url, WEEK, format="json")
    assert response.status_code == 200, response.content
    assert response.json() == SAVED_WEEK
    assert manager_client.get(week_url).json() == SAVED_WEEK
    response = manager_client.put(
        week_url, [{"day": "fri", "start": "16:00:00", "end": "23:00"}], format="json"
    )
    assert response.json() == [{"day": "fri", "start": "16:00", "end": "23:00"}]
    assert manager_client.put(week_url, [], format="json").json() == []


def test_touching_ranges_are_fine(manager_client, week_url):
    week = [
        {"day": "tue", "start": "10:00", "end": "13:00"},
        {"day": "tue", "start": "13:00", "end": "15:00"},
    ]
    assert manager_client.put(week_url, week, format="json").status_code == 200


@pytest.mark.parametrize(
    "week",
    [
        [{"day": "sun", "start": "09:00", "end": "13:00"}, {"day": "sun", "start": "12:00", "end": "14:00"}],
        [{"day": "sun", "start": "09:00", "end": "18:00"}, {"day": "sun", "start": "10:00", "end": "11:00"}],
        [{"day": "sun", "start": "13:00", "end": "09:00"}, {"day": "mon", "start": "08:00", "end": "10:00"}],
        [{"day": "sat", "start": "13:00", "end": "09:00"}, {"day": "sun", "start": "08:00", "end": "10:00"}],
        [{"day": "sun", "start": "09:00", "end": "09:00"}],
        [{"day": "sunday", "start": "09:00", "end": "13:00"}],
        [{"day": "sun", "start": "25:00", "end": "26:00"}],
        [{"day": "sun", "start": "9am", "end": "13:00"}],
        [{"day": "sun", "start": "9:00", "end": "13:00"}],  # two digits, as the schema's pattern says
        [{"day": "sun", "start": "09:00:00Z", "end": "13:00"}],  # OpenAPI's `format: time`, not ours
        [{"day": "sun", "start": 900, "end": "13:00"}],
        [  # 169 ranges of a minute: none overlap, but more ranges than hours in a week
            {
                "day": "sun",
                "start": f"{m // 60:02d}:{m % 60:02d}",
                "end": f"{(m + 1) // 60:02d}:{(m + 1) % 60:02d}",
            }
            for m in range(169)
        ],
    ],
)
def test_bad_weeks_are_400_and_keep_the_saved_week(manager_client, week_url, week):
    manager_client.put(week_url, WEEK, format="json")
    assert_error_shape(manager_client.put(week_url, week, format="json"), 400, "validation_error")
    assert manager_client.get(week_url).json() == SAVED_WEEK


def test_a_night_range_is_saved_and_answered_as_given(manager_client, week_url):
    week = [
        {"day": "thu", "start": "16:00", "end": "02:00"},
        {"day": "fri", "start": "02:00", "end": "04:00"},
        {"day": "sat", "start": "10:00", "end": "00:00"},
    ]
    response = manager_client.put(week_url, week, format="json")
    assert response.status_code == 200, response.content
    assert response.json() == [week[0], week[1], week[2]]
    assert manager_client.get(week_url).json() == week


def test_an_overlapping_spill_is_400_naming_the_range(manager_client, week_url):
    week = [
        {"day": "thu", "start": "16:00", "end": "02:00"},
        {"day": "fri", "start": "01:00", "end": "04:00"},
    ]
    response = manager_client.put(week_url, week, format="json", HTTP_ACCEPT_LANGUAGE="en")
    body = assert_error_shape(response, 400, "validation_error")
    assert "fri 01:00-04:00 overlaps thu 16:00-02:00" in str(body["fields"])


def test_overlap_message_names_the_day_in_arabic(manager_client, salon):
    week = [
        {"day": "sun", "start": "09:00", "end": "13:00"},
        {"day": "sun", "start": "12:00", "end": "14:00"},
    ]
    response = manager_client.put(
        url(salon, "business-hours/"), week, format="json", HTTP_ACCEPT_LANGUAGE="ar"
    )
    assert ARABIC.search(str(assert_error_shape(response, 400, "validation_error")["fields"]))


# --- Services -------------------------------------------------------------------------------------------
def test_service_lifecycle(manager_client, salon):
    body = {
        "name": "Facial",
        "name_ar": "تنظيف البشرة",
        "duration_minutes": 45,
        "price_halalas": 12000,
        "buffer_minutes": 10,
        "processing_minutes": 20,
    }
    created = manager_client.post(url(salon, "services/"), body)
    assert created.status_code == 201, created.content
    service = created.json()
    assert service == {"id": service["id"], "currency": "SAR", **body}
    listing = manager_client.get(url(salon, "services/")).json()
    assert listing["count"] == 1 and listing["results"] == [service]
    detail = url(salon, f"services/{service['id']}/")
    assert manager_client.get(detail).json() == service
    changed = manager_client.patch(detail, {"price_halalas": 0, "buffer_minutes": 0, "processing_minutes": 0})
    assert changed.status_code == 200
    assert (changed.json()["price_halalas"], changed.json()["duration_minutes"]) == (0, 45)
    assert changed.json()["processing_minutes"] == 0
    assert manager_client.delete(detail).status_code == 204
    assert_error_shape(manager_client.get(detail), 404, "not_found")
    assert manager_client.get(url(salon, "services/")).json()["count"] == 0
    assert Service.objects.get(id=service["id"]).is_active is False  # bookings may still point at it


def test_a_deleted_service_is_no_longer_performed(manager_client, salon, service, staff):
    manager_client.delete(url(salon, f"services/{service.id}/"))
    assert manager_client.get(url(salon, f"staff/{staff.id}/")).json()["service_ids"] == []


@pytest.mark.parametrize(
    "body",
    [
        {"name": "X", "duration_minutes": 0, "price_halalas": 100},
        {"name": "X", "duration_minutes": -30, "price_halalas": 100},
        {"name": "X", "duration_minutes": 30, "price_halalas": -1},
        {"name": "X", "duration_minutes": 30, "price_halalas": 12.5},
        {"name": "X", "duration_minutes": 30, "price_halalas": 100, "buffer_minutes": -5},
        {"name": "X", "duration_minutes": 30, "price_halalas": 100, "processing_minutes": -5},
        {"name": "X", "duration_minutes": 30, "price_halalas": 100, "processing_minutes": 1441},
        {"name": "", "duration_minutes": 30, "price_halalas": 100},
        {"duration_minutes": 30, "price_halalas": 100},
        {"name": 7, "duration_minutes": 30, "price_halalas": 100},  # JSON strings only, not numbers as text
        {"name": "X", "name_ar": 0, "duration_minutes": 30, "price_halalas": 100},
        # 201 characters as sent: the schema's maxLength is 200, whatever whitespace DRF would trim.
        {"name": "\n" + "x" * 200, "duration_minutes": 30, "price_halalas": 100},
    ],
)
def test_bad_services_are_400(manager_client, salon, body):
    assert_error_shape(manager_client.post(url(salon, "services/"), body), 400, "validation_error")
    assert not salon.services.exists()


# --- Staff ----------------------------------------------------------------------------------------------
def test_staff_with_services_overrides_and_a_phone_in_any_form(manager_client, salon, service):
    other = make_service(salon, name="Beard")
    user = make_user(phone="+966501234567")
    body = {
        "name": "Khalid",
        "name_ar": "خالد",
        "phone": "00966 50 123 4567",
        "service_ids": [service.id, other.id],
        "overrides": [{"service": other.id, "price_halalas": 4000}],
    }
    response = manager_client.post(url(salon, "staff/"), body, format="json")
    assert response.status_code == 201, response.content
    staff = response.json()
    # The phone has an account, but it only becomes staff once it accepts (issue 16: the answer told the
    # manager whether the number was registered, and made its owner staff without asking).
    assert staff == {
        "id": staff["id"],
        "name": "Khalid",
        "name_ar": "خالد",
        "phone": "+966501234567",
        "user_linked": False,
        "invitation": "pending",
        "service_ids": sorted([service.id, other.id]),
        "overrides": [{"service": other.id, "duration_minutes": None, "price_halalas": 4000}],
        "rating": 0.0,
        "review_count": 0,
    }
    assert StaffMember.objects.get(id=staff["id"]).user is None and user.phone_number == staff["phone"]
    assert manager_client.get(url(salon, f"staff/{staff['id']}/")).json() == staff
    assert manager_client.get(url(salon, "staff/")).json()["results"] == [staff]


def test_staff_patch_semantics(manager_client, salon, service):
    other = make_service(salon, name="Beard")
    third = make_service(salon, name="Shave")
    staff_url = url(salon, "staff/")
    created = manager_client.post(
        staff_url,
        {
            "name": "Omar",
            "service_ids": [service.id, other.id],
            "overrides": [
                {"service": other.id, "duration_minutes": 25},
                {"service": service.id, "price_halalas": 1},
            ],
        },
        format="json",
    ).json()
    detail = url(salon, f"staff/{created['id']}/")
    # Only service_ids: overrides of the services kept stay.
    kept = manager_client.patch(detail, {"service_ids": [other.id, third.id]}, format="json").json()
    assert kept["service_ids"] == sorted([other.id, third.id])
    assert kept["overrides"] == [{"service": other.id, "duration_minutes": 25, "price_halalas": None}]
    # Only overrides: they replace the overrides, the services stay.
    replaced = manager_client.patch(detail, {"overrides": []}, format="json").json()
    assert (replaced["service_ids"], replaced["overrides"]) == (kept["service_ids"], [])
    renamed = manager_client.patch(detail, {"name": "Omar A."}, format="json").json()
    assert (renamed["name"], renamed["service_ids"]) == ("Omar A.", kept["service_ids"])


def test_a_phone_change_unlinks_and_invites_the_new_number_and_clearing_it_unlinks(manager_client, salon):
    first, second = make_user(), make_user()
    created = manager_client.post(url(salon, "staff/"), {"name": "Sara", "phone": first.phone_number}).json()
    detail = url(salon, f"staff/{created['id']}/")
    staff_invitation_accept(user=first, staff_id=created["id"])
    # The same number again (in another form) keeps the link.
    same = manager_client.patch(detail, {"phone": "0" + first.phone_number[4:]}).json()
    assert (same["user_linked"], same["invitation"]) == (True, "accepted")
    changed = manager_client.patch(detail, {"phone": second.phone_number}).json()
    assert (changed["user_linked"], changed["invitation"]) == (False, "pending")
    assert StaffMember.objects.get(id=created["id"]).user is None
    staff_invitation_accept(user=second, staff_id=created["id"])
    assert StaffMember.objects.get(id=created["id"]).user == second
    cleared = manager_client.patch(detail, {"phone": ""}).json()
    assert (cleared["user_linked"], cleared["invitation"]) == (False, None)
    assert StaffMember.objects.get(id=created["id"]).user is None


def test_a_staff_phone_waits_for_its_user_to_accept(manager_client, salon):
    created = manager_client.post(url(salon, "staff/"), {"name": "Sara", "phone": "0551112233"}).json()
    assert (created["user_linked"], created["invitation"]) == (False, "pending")
    user = make_user(phone="+966551112233")
    assert manager_client.get(url(salon, f"staff/{created['id']}/")).json()["user_linked"] is False
    staff_invitation_accept(user=user, staff_id=created["id"])
    assert manager_client.get(url(salon, f"staff/{created['id']}/")).json()["user_linked"] is True


def test_roles_follow_staff_profiles_and_managed_salons(salon, manager, staff):
    from backend.accounts.selectors import user_roles

    assert user_roles(user=manager) == ["customer", "manager"]
    worker = make_user()
    staff.phone = worker.phone_number
    staff.save()
    assert user_roles(user=worker) == ["customer"]  # invited, not yet staff
    staff_invitation_accept(user=worker, staff_id=staff.id)
    assert user_roles(user=worker) == ["customer", "staff"]
    assert user_roles(user=make_user()) == ["customer"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "A", "service_ids": ["x"]}, "service_ids"),
        ({"name": "A", "service_ids": [999999999]}, "service_ids"),
        ({"name": "A", "overrides": [{"service": "SERVICE", "duration_minutes": 20}]}, "overrides"),
        (
            {
                "name": "A",
                "service_ids": ["SERVICE"],
                "overrides": [{"service": "SERVICE", "duration_minutes": 0}],
            },
            "overrides",
        ),
        (
            {
                "name": "A",
                "service_ids": ["SERVICE"],
                "overrides": [{"service": "SERVICE", "price_halalas": -1}],
            },
            "overrides",
        ),
        (
            {
                "name": "A",
                "service_ids": ["SERVICE"],
                "overrides": [{"service": "SERVICE"}, {"service": "SERVICE"}],
            },
            "overrides",
        ),
    ],
)
def test_bad_staff_are_400(manager_client, salon, service, body, field):
    body = {
        key: [
            service.id
            if item == "SERVICE"
            else ({**item, "service": service.id} if isinstance(item, dict) else item)
            for item in value
        ]
        if isinstance(value, list)
        else value
        for key, value in body.items()
    }
    response = manager_client.post(url(salon, "staff/"), body, format="json")
    assert field in assert_error_shape(response, 400, "validation_error")["fields"]
    assert not salon.staff.exists()


def test_services_of_another_salon_are_unknown_to_staff(manager_client, salon):
    foreign = make_service(make_salon())
    response = manager_client.post(
        url(salon, "staff/"), {"name": "A", "service_ids": [foreign.id]}, format="json"
    )
    assert "service_ids" in assert_error_shape(response, 400, "validation_error")["fields"]


@pytest.mark.parametrize(
    ("phone", "code"), [("12345", "invalid_phone"), ("+201001234567", "phone_region_not_allowed")]
)
def test_bad_staff_phones_are_400(manager_client, salon, phone, code):
    assert_error_shape(manager_client.post(url(salon, "staff/"), {"name": "A", "phone": phone}), 400, code)


def test_a_phone_is_used_once_among_a_salons_active_staff(manager_client, salon):
    manager_client.post(url(salon, "staff/"), {"name": "A", "phone": "0551112233"})
    response = manager_client.post(url(salon, "staff/"), {"name": "B", "phone": "+966551112233"})
    assert "phone" in assert_error_shape(response, 400, "validation_error")["fields"]
    other_salon = make_salon(managers=[User.objects.get(name="Manager")])
    assert (
        manager_client.post(url(other_salon, "staff/"), {"name": "B", "phone": "0551112233"}).status_code
        == 201
    )


def test_deleting_staff_hides_them_and_frees_their_phone(manager_client, salon, staff):
    staff.phone = "+966551112233"
    staff.save()
    assert manager_client.delete(url(salon, f"staff/{staff.id}/")).status_code == 204
    assert_error_shape(manager_client.get(url(salon, f"staff/{staff.id}/")), 404, "not_found")
    assert manager_client.get(url(salon, "staff/")).json()["count"] == 0
    assert (
        manager_client.post(url(salon, "staff/"), {"name": "B", "phone": "+966551112233"}).status_code == 201
    )


# --- Time off and closures ------------------------------------------------------------------------------
def test_time_off_lifecycle(manager_client, salon, staff):
    base = url(salon, f"staff/{staff.id}/time-off/")
    body = {"start": "2027-01-10T12:00:00+03:00", "end": "2027-01-12T09:00:00Z", "reason": "Umrah"}
    created = manager_client.post(base, body)
    assert created.status_code == 201, created.content
    assert created.json() == {
        "id": created.json()["id"],
        "start": "2027-01-10T12:00:00+03:00",
        "end": "2027-01-12T12:00:00+03:00",  # shown in the salon's zone
        "reason": "Umrah",
        "bookings_in_the_way": 0,
        "cancellation": None,
    }
    assert manager_client.get(base).json()["results"] == [created.json()]
    assert manager_client.delete(f"{base}{created.json()['id']}/").status_code == 204
    assert not TimeOff.objects.exists()


def test_time_off_counts_the_active_bookings_it_overlaps(manager_client, salon, service, staff):
    day = next_weekday(2)
    make_booking(service=service, staff=staff, start=at(day, "11:00"))  # 11:00-12:00, inside the time off
    make_booking(service=service, staff=staff, start=at(day, "13:00"), status=BookingStatus.PENDING_PAYMENT)
    # 10:00-11:00 ends as the time off starts: not in its way.
    make_booking(service=service, staff=staff, start=at(day, "10:00"))
    make_booking(service=service, staff=staff, start=at(day, "14:00"), status=BookingStatus.CANCELLED)
    colleague = make_staff(salon, services=[service], name="Huda")
    make_booking(service=service, staff=colleague, start=at(day, "13:00"))
    base = url(salon, f"staff/{staff.id}/time-off/")
    body = {"start": at(day, "11:00").isoformat(), "end": at(day, "15:00").isoformat()}
    created = manager_client.post(base, body)
    assert created.status_code == 201, created.content
    assert created.json()["bookings_in_the_way"] == 2
    manager_client.post(base, {"start": at(day, "20:00").isoformat(), "end": at(day, "21:00").isoformat()})
    listed = manager_client.get(base).json()["results"]
    assert sorted(row["bookings_in_the_way"] for row in listed) == [0, 2]


def test_a_closure_counts_the_active_bookings_of_that_local_date(
    manager_client, salon, service, staff, django_assert_num_queries
):
    day = next_weekday(2)
    late = datetime.combine(day, time(23, 30), tzinfo=RIYADH)  # 20:30 UTC, that day
    make_booking(service=service, staff=staff, start=late)
    make_booking(service=service, staff=staff, start=late + timedelta(hours=1))  # the next local day
    make_booking(service=service, staff=staff, start=late - timedelta(hours=3), status=BookingStatus.EXPIRED)
    elsewhere = make_salon()
    other_service = make_service(elsewhere)
    make_booking(service=other_service, staff=make_staff(elsewhere, services=[other_service]), start=late)
    created = manager_client.post(url(salon, "closures/"), {"date": str(day)})
    assert created.status_code == 201, created.content
    assert created.json()["bookings_in_the_way"] == 1
    for offset in (1, 2, 3):
        manager_client.post(url(salon, "closures/"), {"date": str(day + timedelta(days=offset))})
    with django_assert_num_queries(4):  # user, salon, page count, page: one query for every count
        listed = manager_client.get(url(salon, "closures/")).json()["results"]
    by_date = {row["date"]: row["bookings_in_the_way"] for row in listed}
    assert by_date == {str(day + timedelta(days=offset)): int(offset < 2) for offset in range(4)}


@pytest.mark.parametrize(
    "body",
    [
        {"start": "2027-01-10T12:00:00", "end": "2027-01-10T14:00:00+03:00"},
        {"start": "2027-01-10T12:00:00+03:00", "end": "2027-01-10T14:00:00"},
        {"start": "2027-01-10T12:00:00+03:00", "end": "2027-01-10T12:00:00+03:00"},
        {"start": "2027-01-10T12:00:00+03:00", "end": "2027-01-10T11:00:00+03:00"},
        {"start": "2027-02-30T12:00:00+03:00", "end": "2027-03-01T11:00:00+03:00"},
        {"start": "0001-01-01T00:00:00+03:00", "end": "2027-03-01T11:00:00+03:00"},
        # Found by tests/test_api_fuzz.py: saved, then shown as "1946-...+03:06:52" (Riyadh's local mean
        # time), which is no RFC 3339 datetime.
        {"start": "1946-05-01T10:00:00+03:00", "end": "1946-05-01T12:00:00+03:00"},
        {"start": "2027-01-10T12:00:00+03:00", "end": "2200-01-01T12:00:00+03:00"},
        {"start": "soon", "end": "later"},
        {"start": "2027-01-10T12:00:00+03:00"},
    ],
)
def test_bad_time_off_is_400(manager_client, salon, staff, body):
    response = manager_client.post(url(salon, f"staff/{staff.id}/time-off/"), body)
    assert_error_shape(response, 400, "validation_error")
    assert not TimeOff.objects.exists()


def test_a_naive_time_says_to_include_the_offset_in_arabic_too(manager_client, salon, staff):
    body = {"start": "2027-01-10T12:00:00", "end": "2027-01-10T14:00:00+03:00"}
    response = manager_client.post(url(salon, f"staff/{staff.id}/time-off/"), body, HTTP_ACCEPT_LANGUAGE="ar")
    assert ARABIC.search(assert_error_shape(response, 400, "validation_error")["fields"]["start"][0])


def test_closure_lifecycle(manager_client, salon):
    created = manager_client.post(url(salon, "closures/"), {"date": "2027-04-01", "reason": "Eid"})
    assert created.status_code == 201, created.content
    assert created.json() == {
        "id": created.json()["id"],
        "date": "2027-04-01",
        "end_date": "2027-04-01",
        "reason": "Eid",
        "bookings_in_the_way": 0,
        "cancellation": None,
    }
    again = manager_client.post(url(salon, "closures/"), {"date": "2027-04-01"})
    assert "date" in assert_error_shape(again, 400, "validation_error")["fields"]
    assert manager_client.get(url(salon, "closures/")).json()["results"] == [created.json()]
    assert manager_client.delete(url(salon, f"closures/{created.json()['id']}/")).status_code == 204
    assert not Closure.objects.exists()


@pytest.mark.parametrize("day", ["2027-02-30", "01/04/2027", "", "2027-04-01T00:00:00+03:00"])
def test_bad_closure_dates_are_400(manager_client, salon, day):
    assert_error_shape(manager_client.post(url(salon, "closures/"), {"date": day}), 400, "validation_error")


def test_a_closure_reason_is_a_string_not_a_number(manager_client, salon):
    response = manager_client.post(
        url(salon, "closures/"), {"date": "2027-04-01", "reason": 0}, format="json"
    )
    assert "reason" in assert_error_shape(response, 400, "validation_error")["fields"]
    assert not Closure.objects.exists()


def test_a_staff_patch_override_needs_its_service(manager_client, salon, service, staff):
    """PATCH is partial, and DRF skipped the required `service` of each override too: a KeyError, 500."""
    body = {"overrides": [{"duration_minutes": 30}]}
    response = manager_client.patch(url(salon, f"staff/{staff.id}/"), body, format="json")
    fields = assert_error_shape(response, 400, "validation_error")["fields"]
    assert fields == {"overrides": {"0": {"service": [fields["overrides"]["0"]["service"][0]]}}}


@pytest.mark.parametrize("path", ["settings/", "business-hours/", "services/", "closures/", "bookings/"])
def test_an_unsupported_method_is_405_even_for_who_may_not_manage_the_salon(customer_client, salon, path):
    """The method is wrong whatever the salon: 405 before the salon is looked up (and its 404)."""
    response = customer_client.generic("TRACE", url(salon, path))
    assert_error_shape(response, 405, "method_not_allowed")
    assert response.has_header("Allow")


# --- The salon's bookings -------------------------------------------------------------------------------
def test_bookings_list_with_local_date_staff_and_status_filters(manager_client, salon, service, staff):
    other_staff = make_staff(salon, services=[service])
    day = next_weekday(0)
    # 01:00 in Riyadh is the day before in UTC: `date` is the salon's local date.
    early = make_booking(service=service, staff=staff, start=datetime.combine(day, time(1), tzinfo=RIYADH))
    late = make_booking(
        service=service, staff=other_staff, start=datetime.combine(day, time(22), tzinfo=RIYADH)
    )
    cancelled = make_booking(
        service=service,
        staff=staff,
        start=datetime.combine(day, time(12), tzinfo=RIYADH),
        status=BookingStatus.CANCELLED,
    )
    make_booking(
        service=service, staff=staff, start=datetime.combine(day + timedelta(days=1), time(1), tzinfo=RIYADH)
    )
    make_booking(
        service=make_service(make_salon()),
        staff=make_staff(make_salon()),
        start=datetime.combine(day, time(10), tzinfo=RIYADH),
    )

    def ids(**params) -> list[int]:
        response = manager_client.get(url(salon, "bookings/"), params)
        assert response.status_code == 200, response.content
        return [booking["id"] for booking in response.json()["results"]]

    assert ids(date=day.isoformat()) == [early.id, cancelled.id, late.id]
    assert ids(date=day.isoformat(), staff=staff.id) == [early.id, cancelled.id]
    assert ids(date=day.isoformat(), status="cancelled") == [cancelled.id]
    assert len(ids()) == 4
    booking = manager_client.get(url(salon, "bookings/"), {"date": day.isoformat()}).json()["results"][0]
    assert booking == {
        "id": early.id,
        "salon": salon.id,
        "service": service.id,
        "staff": staff.id,
        "start": f"{day.isoformat()}T01:00:00+03:00",
        "end": f"{day.isoformat()}T02:00:00+03:00",
        "status": "confirmed",
        "price_halalas": 5000,
        "currency": "SAR",
        "payment_status": "unpaid",
        "hold_expires_at": None,
        "refund_halalas": None,
        "cancelled_at": None,
        "cancelled_by": "",
        "created_at": booking["created_at"],
        "items": [  # a one-service booking is a one-item visit (issue 22)
            {
                "service": service.id,
                "staff": staff.id,
                "start": f"{day.isoformat()}T01:00:00+03:00",
                "end": f"{day.isoformat()}T02:00:00+03:00",
                "price_halalas": 5000,
            }
        ],
        "customer": {"id": early.customer.id, "name": "", "phone": early.customer.phone_number},
    }
    assert booking["created_at"].endswith("+03:00")


@pytest.mark.parametrize("params", [{"date": "2027-13-01"}, {"status": "done"}, {"staff": "x"}])
def test_bad_booking_filters_are_400(manager_client, salon, params):
    assert_error_shape(manager_client.get(url(salon, "bookings/"), params), 400, "validation_error")


# --- Salons the caller manages --------------------------------------------------------------------------
def test_managed_salons_are_the_callers_own(manager_client, admin_client, salon):
    make_salon(name="Someone else's")
    assert [item["id"] for item in manager_client.get("/api/v1/manage/salons/").json()["results"]] == [
        salon.id
    ]
    assert admin_client.get("/api/v1/manage/salons/").json()["count"] == 2
