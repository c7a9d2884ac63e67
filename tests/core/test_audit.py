"""The audit trail: manager API changes, admin edits and money actions are recorded with who, what, when
and from where, and the trail cannot be edited in the admin."""

from datetime import datetime, time

import pytest
from auditlog.models import LogEntry

from backend.salons.models import Salon, Service
from tests.support.factories import (
    client_for,
    make_admin,
    make_booking,
    make_salon,
    make_service,
    make_staff,
    make_user,
    next_weekday,
)

pytestmark = pytest.mark.django_db


def entries_for(instance) -> list[LogEntry]:
    return list(LogEntry.objects.get_for_object(instance).order_by("timestamp"))


def a_booking(**kwargs):
    service = make_service(make_salon())
    return make_booking(
        service=service,
        staff=make_staff(service.salon, services=[service]),
        start=datetime.combine(next_weekday(0), time(10), tzinfo=service.salon.tz),
        **kwargs,
    )


def test_a_manager_change_through_the_api_names_the_manager_and_the_address():
    manager = make_user()
    salon = make_salon(managers=[manager])
    response = client_for(manager).patch(
        f"/api/v1/manage/salons/{salon.id}/settings/",
        {"name": "Lamsa Spa"},
        format="json",
        REMOTE_ADDR="203.0.113.7",
    )
    assert response.status_code == 200, response.content
    change = entries_for(salon)[-1]
    assert change.actor == manager and change.action == LogEntry.Action.UPDATE
    assert change.changes_dict["name"] == ["Test Salon", "Lamsa Spa"]
    assert change.remote_addr == "203.0.113.7"


@pytest.mark.parametrize(
    ("proxies", "forwarded", "port", "recorded", "recorded_port"),
    [
        ({}, "1.1.1.1", "443", "203.0.113.7", None),  # no proxy configured: the header is the client's
        ({"API_NUM_PROXIES": 1}, "1.1.1.1, 198.51.100.9", "443", "198.51.100.9", 443),
        ({"API_TRUSTED_PROXIES": ["203.0.113.0/24"]}, "198.51.100.9", "99999", "198.51.100.9", None),
        ({"API_NUM_PROXIES": 1}, "x" * 8192, "", None, None),
    ],
)
def test_the_trail_records_the_address_every_limit_uses(
    settings, proxies, forwarded, port, recorded, recorded_port
):
    for name, value in proxies.items():
        setattr(settings, name, value)
    manager = make_user()
    salon = make_salon(managers=[manager])
    response = client_for(manager).patch(
        f"/api/v1/manage/salons/{salon.id}/settings/",
        {"name": "Lamsa Spa"},
        format="json",
        REMOTE_ADDR="203.0.113.7",
        HTTP_X_FORWARDED_FOR=forwarded,
        HTTP_X_FORWARDED_PORT=port,
    )
    assert response.status_code == 200, response.content
    change = entries_for(salon)[-1]
    assert (change.remote_addr, change.remote_port) == (recorded, recorded_port)


def test_the_trail_can_leave_addresses_out(settings):
    settings.AUDITLOG_DISABLE_REMOTE_ADDR = True
    manager = make_user()
    salon = make_salon(managers=[manager])
    client_for(manager).patch(f"/api/v1/manage/salons/{salon.id}/settings/", {"name": "X"}, format="json")
    assert entries_for(salon)[-1].remote_addr is None


def test_an_admin_edit_names_the_admin(client):
    admin = make_admin()
    service = make_service(make_salon())
    client.force_login(admin)
    form = {
        "salon": service.salon_id,
        "name": "Beard trim",
        "name_ar": "",
        "duration_minutes": 30,
        "price_halalas": 4000,
        "currency": "SAR",
        "buffer_minutes": 0,
        "processing_minutes": 0,
        "is_active": "on",
    }
    response = client.post(f"/admin/salons/service/{service.id}/change/", form)
    assert response.status_code == 302, response.content[:2000]
    change = entries_for(Service.objects.get(pk=service.pk))[-1]
    assert change.actor == admin and change.changes_dict["name"] == ["Haircut", "Beard trim"]


def test_a_cancellation_and_its_refund_decision_are_recorded_against_the_customer():
    customer = make_user()
    booking = a_booking(customer=customer)
    client_for(customer).post(f"/api/v1/bookings/{booking.id}/cancel/", {}, format="json")
    change = entries_for(booking)[-1]
    assert change.actor == customer
    assert change.changes_dict["status"] == ["confirmed", "cancelled"]
    assert "refund_halalas" in change.changes_dict  # the money decision is part of the record


def test_phone_numbers_are_masked_in_the_trail():
    user = make_user()
    user.name = "Renamed"
    user.save()
    [created, *_] = entries_for(user)
    assert "phone_number" in created.changes_dict
    assert user.phone_number not in str(created.changes_dict)


def test_the_trail_is_visible_but_not_editable_in_the_admin(client):
    client.force_login(make_admin())
    salon = make_salon()
    entry = entries_for(Salon.objects.get(pk=salon.pk))[0]
    assert client.get("/admin/auditlog/logentry/").status_code == 200
    assert client.get("/admin/auditlog/logentry/add/").status_code == 403
    page = client.get(f"/admin/auditlog/logentry/{entry.pk}/change/")
    assert page.status_code == 200 and b'name="_save"' not in page.content
    assert client.post(f"/admin/auditlog/logentry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403


def test_money_rows_are_in_the_trail_with_their_changes():
    from backend.payments.models import Refund
    from tests.support.factories import make_paid_payment

    payment = make_paid_payment(a_booking())
    payment.refunded_halalas = 2000
    payment.save()
    refund = Refund.objects.create(payment=payment, amount_halalas=2000, reason="partial", key="manual:test")
    assert [entry.action for entry in entries_for(payment)] == [
        LogEntry.Action.CREATE,
        LogEntry.Action.UPDATE,
    ]
    assert entries_for(payment)[-1].changes_dict["refunded_halalas"] == ["0", "2000"]
    assert "gateway_payload" not in entries_for(payment)[0].changes_dict
    assert entries_for(refund)[0].changes_dict["amount_halalas"] == ["None", "2000"]


def test_login_codes_and_idempotency_records_are_readable_not_editable_in_the_admin(client):
    from django.utils import timezone

    from backend.accounts.models import OtpChallenge
    from backend.core.models import IdempotencyRecord

    user = make_user()
    challenge = OtpChallenge.objects.create(
        phone_number=user.phone_number,
        channel="sms",
        code_hash="h" * 64,
        sent_at=timezone.now(),
        expires_at=timezone.now(),
    )
    record = IdempotencyRecord.objects.create(user=user, scope="bookings.create", key="k", request_hash="x")
    client.force_login(make_admin())
    for path in ("/admin/accounts/otpchallenge/", "/admin/core/idempotencyrecord/"):
        assert client.get(path).status_code == 200
        assert client.get(f"{path}add/").status_code == 403
    page = client.get(f"/admin/accounts/otpchallenge/{challenge.pk}/change/")
    assert page.status_code == 200 and b"h" * 64 not in page.content
    assert client.get(f"/admin/core/idempotencyrecord/{record.pk}/change/").status_code == 200


def test_naming_the_actor_needs_a_request_context_and_is_skipped_outside_one():
    """The JWT authentication names the actor in auditlog's request context. A task or a command has
    none (a fresh context, as a worker thread starts with): there it is skipped, and none is made."""
    import contextvars

    from auditlog.context import auditlog_value, set_actor

    from backend.core.audit import audit_actor_bind

    user = make_user()

    def outside_a_request():
        audit_actor_bind(user=user)
        return auditlog_value.get(None)

    def inside_an_anonymous_request():
        with set_actor(None):  # what auditlog's middleware opens before DRF authenticates
            audit_actor_bind(user=user)
            return auditlog_value.get()["actor"]

    assert contextvars.Context().run(outside_a_request) is None
    assert contextvars.Context().run(inside_an_anonymous_request) == user


def test_create_entries_hold_the_rows_own_fields_and_no_reverse_relations():
    from auditlog.registry import auditlog

    for model in auditlog.get_models():
        reverse = {
            field.name
            for field in model._meta.get_fields()
            if field.auto_created and not field.concrete and not field.many_to_many
        }
        missing = reverse - set(auditlog.get_model_fields(model)["exclude_fields"])
        assert not missing, f"add {sorted(missing)} to {model._meta.label}'s exclude_fields in settings"
    customer = make_user()
    booking = a_booking(customer=customer)
    created = entries_for(booking)[0].changes_dict
    assert created["status"] == ["None", "confirmed"] and "payments" not in created
    assert not any(str(new).endswith(".None") for _old, new in created.values())
