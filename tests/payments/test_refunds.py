"""Capture, refund and void by managers; cancellation and late-payment refunds; exactly-once execution."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from backend.bookings.models import BookingStatus, PaymentStatus
from backend.bookings.services import booking_cancel, booking_reschedule
from backend.notifications.models import Kind, Notification
from backend.payments.models import Payment, Refund, RefundStatus, Status
from backend.payments.selectors import booking_paid_halalas
from backend.payments.services import payment_refresh, payments_reconcile, refund_execute
from backend.providers import moyasar as moyasar_client
from backend.salons.models import StaffService
from tests.payments.conftest import authorize, pay
from tests.support.api import error_code
from tests.support.factories import at, client_for, make_admin, make_staff, make_user, next_weekday

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid(moyasar, client, booking):
    payment_id = pay(client, booking).json()["id"]
    moyasar.complete(payment_id)
    return payment_refresh(payment_id=payment_id)


@pytest.fixture
def boss(manager):
    return client_for(manager)


def act(client, payment, action, amount=None):
    body = {} if amount is None else {"amount_halalas": amount}
    return client.post(f"/api/v1/manage/payments/{payment.pk}/{action}/", body, format="json")


@pytest.fixture
def lose_refund_answer(monkeypatch, moyasar):
    """The next refund call (not the look-up before it) times out; `processed`: it landed anyway."""

    def arm(*, processed: bool) -> None:
        real = moyasar_client.payment_refund

        def refund(**kwargs):
            monkeypatch.setattr(moyasar_client, "payment_refund", real)
            moyasar.timeout_next(1, processed=processed)
            return real(**kwargs)

        monkeypatch.setattr(moyasar_client, "payment_refund", refund)

    return arm


def refund_calls(moyasar) -> int:
    return sum(1 for call in moyasar.journal() if call["path"].endswith("/refund"))


def test_partial_refunds_add_up_and_never_exceed_what_was_paid(moyasar, boss, paid, booking):
    first = act(boss, paid, "refund", 3000)
    assert first.status_code == 200, first.content
    assert first.json()["refunded_halalas"] == 3000 and first.json()["status"] == "paid"
    booking.refresh_from_db()
    assert booking.payment_status == PaymentStatus.PARTIALLY_REFUNDED
    too_much = act(boss, paid, "refund", 7001)
    assert too_much.status_code == 400 and error_code(too_much) == "invalid_amount"
    assert act(boss, paid, "refund", 3000).json()["refunded_halalas"] == 6000
    rest = act(boss, paid, "refund")
    assert (rest.json()["status"], rest.json()["refunded_halalas"]) == ("refunded", 10000)
    booking.refresh_from_db()
    assert booking.payment_status == PaymentStatus.REFUNDED
    assert act(boss, paid, "refund", 1).status_code == 409
    assert moyasar.payment(str(paid.pk))["refunded"] == 10000 and refund_calls(moyasar) == 3
    assert Notification.objects.filter(kind=Kind.REFUND_ISSUED).count() == 3


@pytest.mark.parametrize("amount", [0, -5, 10**10, "abc", True])
def test_amounts_out_of_range_are_400(moyasar, boss, paid, amount):
    assert act(boss, paid, "refund", amount).status_code == 400
    assert refund_calls(moyasar) == 0


def test_only_the_salons_manager_or_an_admin_may_act(moyasar, paid, staff, customer):
    for other in (staff.user, customer, make_user()):
        assert act(client_for(other), paid, "refund").status_code == 404
    assert act(client_for(make_admin()), paid, "void").status_code == 200


def test_capture_only_an_authorized_payment(moyasar, boss, booking, paid):
    assert error_code(act(boss, paid, "capture")) == "invalid_payment_state"
    held = authorize(moyasar, booking)
    assert error_code(act(boss, held, "capture", 10001)) == "invalid_amount"
    captured = act(boss, held, "capture", 8000).json()
    assert (captured["status"], captured["captured_halalas"]) == ("captured", 8000)


def test_void_a_paid_payment_before_anything_was_refunded(moyasar, boss, paid, booking):
    voided = act(boss, paid, "void")
    assert voided.status_code == 200 and voided.json()["status"] == "voided"
    booking.refresh_from_db()
    assert booking.payment_status == PaymentStatus.UNPAID
    assert error_code(act(boss, paid, "void")) == "invalid_payment_state"


def test_a_gateway_refusal_of_an_action_is_409(moyasar, boss, paid):
    moyasar.fail_next(1, status=400)
    assert error_code(act(boss, paid, "void")) == "invalid_payment_state"


def test_a_lost_void_answer_is_reconciled_by_fetching(moyasar, boss, paid):
    moyasar.timeout_next(1, processed=True)
    assert act(boss, paid, "void").json()["status"] == "voided"


def test_a_void_that_did_not_land_is_502(moyasar, boss, paid):
    moyasar.timeout_next(1, processed=False)
    response = act(boss, paid, "void")
    assert response.status_code == 502 and Payment.objects.get(pk=paid.pk).status == Status.PAID
    moyasar.timeout_next(3, processed=False)
    assert act(boss, paid, "void").status_code == 502


def test_a_refund_whose_answer_was_lost_is_not_sent_twice(moyasar, boss, paid, lose_refund_answer):
    lose_refund_answer(processed=True)
    response = act(boss, paid, "refund", 2500)
    assert response.status_code == 200 and response.json()["refunds"][0]["status"] == "requested"
    refund = Refund.objects.get()
    assert refund.gateway_refunded_before == 0 and "no answer" in refund.last_error
    assert refund_execute(refund_id=refund.pk).status == "succeeded"
    assert refund_calls(moyasar) == 1 and moyasar.payment(str(paid.pk))["refunded"] == 2500
    assert refund_execute(refund_id=refund.pk).status == "skipped"


def test_a_refund_that_did_not_land_is_sent_again(moyasar, boss, paid, lose_refund_answer):
    lose_refund_answer(processed=False)
    act(boss, paid, "refund", 2500)
    assert refund_execute(refund_id=Refund.objects.get().pk).status == "succeeded"
    assert refund_calls(moyasar) == 2 and moyasar.payment(str(paid.pk))["refunded"] == 2500


def test_a_refund_the_gateway_can_no_longer_make_fails(moyasar, paid):
    refund = Refund.objects.create(payment=paid, amount_halalas=2500, key="manual:x")
    moyasar_client.payment_void(gateway_id=str(paid.pk))  # meanwhile, at the gateway's dashboard
    assert refund_execute(refund_id=refund.pk).status == "failed"
    refund.refresh_from_db()
    assert refund.last_error == "not refundable: voided" and refund_calls(moyasar) == 0


def test_a_refund_in_doubt_refused_on_its_second_try_fails(moyasar, boss, paid, lose_refund_answer):
    lose_refund_answer(processed=False)
    act(boss, paid, "refund", 2500)
    moyasar_client.payment_void(gateway_id=str(paid.pk))
    refund = Refund.objects.get()
    assert refund_execute(refund_id=refund.pk).status == "failed"
    refund.refresh_from_db()
    assert "HTTP 400" in refund.last_error


def test_a_refund_refused_outright_fails(moyasar, boss, paid):
    moyasar.fail_next(2, status=400)  # the look-up before the call is refused too
    act(boss, paid, "refund", 2500)
    assert Refund.objects.get().status == RefundStatus.FAILED


def test_refunds_give_up_after_their_attempts(moyasar, boss, paid, settings):
    settings.PAYMENT_REFUND_MAX_ATTEMPTS = 2
    moyasar.down = True
    act(boss, paid, "refund", 2500)
    refund = Refund.objects.get()
    outcome = refund_execute(refund_id=refund.pk)
    assert outcome.status == "failed"
    refund.refresh_from_db()
    assert refund.attempts == 2 and refund.last_error.startswith("attempts exhausted")


def test_one_refund_of_a_payment_goes_out_at_a_time(moyasar, boss, paid, lose_refund_answer):
    lose_refund_answer(processed=False)
    act(boss, paid, "refund", 2500)  # in doubt: its baseline is set
    second = act(boss, paid, "refund", 2500).json()
    assert [r["status"] for r in second["refunds"]] == ["requested", "requested"]
    assert refund_calls(moyasar) == 1
    first, later = Refund.objects.order_by("pk")
    assert refund_execute(refund_id=first.pk).status == "succeeded"
    assert refund_execute(refund_id=later.pk).status == "succeeded"
    assert moyasar.payment(str(paid.pk))["refunded"] == 5000


def test_a_cancellation_commits_its_refund_request(moyasar, paid, booking, customer):
    assert booking_paid_halalas(booking_id=booking.pk) == 10000
    cancelled = booking_cancel(booking_id=booking.pk, actor=customer)  # two days ahead: 100 %
    assert cancelled.refund_halalas == 10000
    refund = Refund.objects.get()
    assert refund.key == f"cancellation:{booking.pk}:{paid.pk}" and refund.status == RefundStatus.REQUESTED
    assert booking_paid_halalas(booking_id=booking.pk) == 0  # promised back already
    assert refund_execute(refund_id=refund.pk).status == "succeeded"
    booking.refresh_from_db()
    assert booking.payment_status == PaymentStatus.REFUNDED


def test_a_reschedule_to_a_lower_price_refunds_the_difference_through_the_refund_path(
    moyasar, paid, booking, customer, salon, service
):
    cheaper = make_staff(salon, name="Cheaper")
    StaffService.objects.create(staff=cheaper, service=service, price_halalas=6000)
    moved = booking_reschedule(
        booking_id=booking.pk, actor=customer, start=at(next_weekday(0), "12:00"), staff_id=cheaper.pk
    )
    assert moved.refund_halalas == 4000
    refund = Refund.objects.get()
    assert refund_execute(refund_id=refund.pk).status == "succeeded"
    assert moyasar.payment(str(paid.pk))["refunded"] == 4000
    booking.refresh_from_db()
    assert (booking.price_halalas, booking.payment_status) == (6000, PaymentStatus.PARTIALLY_REFUNDED)
    assert Notification.objects.filter(kind=Kind.REFUND_ISSUED).count() == 1


def test_a_payment_that_succeeds_after_the_booking_expired_is_refunded_in_full(moyasar, client, booking):
    payment_id = pay(client, booking).json()["id"]
    booking.status = BookingStatus.EXPIRED
    booking.save()
    moyasar.complete(payment_id)
    payment_refresh(payment_id=payment_id)
    refund = Refund.objects.get()
    assert refund.key == f"late_payment:{payment_id}" and refund.amount_halalas == 10000
    assert "expired" in refund.reason
    assert not Notification.objects.filter(kind=Kind.PAYMENT_RECEIVED).exists()
    assert refund_execute(refund_id=refund.pk).status == "succeeded"
    assert moyasar.payment(payment_id)["status"] == "refunded"


def test_a_second_payment_of_a_paid_booking_is_refunded(moyasar, client, booking):
    first, second = (pay(client, booking).json()["id"] for _ in range(2))
    for payment_id in (first, second):
        moyasar.complete(payment_id)
        payment_refresh(payment_id=payment_id)
    assert Refund.objects.get().key == f"late_payment:{second}"


def test_the_reconciler_enqueues_refunds_whose_task_was_lost(moyasar, paid, booking, customer, monkeypatch):
    booking_cancel(booking_id=booking.pk, actor=customer)
    sent = []
    monkeypatch.setattr("worker.tasks.payments.refund.apply_async", lambda args, countdown: sent.append(args))
    later = timezone.now() + timedelta(hours=1)
    with django_capture(connection) as callbacks:
        payments_reconcile(now=later)
    for callback in callbacks:
        callback()
    assert sent == [(Refund.objects.get().pk,)]


class django_capture:
    """Collects on_commit callbacks of the test's transaction (they never fire in a rolled-back test)."""

    def __init__(self, conn):
        self.conn = conn

    def __enter__(self):
        self.start = len(self.conn.run_on_commit)
        self.callbacks: list = []
        return self.callbacks

    def __exit__(self, *exc):
        self.callbacks.extend(callback for _, callback, _ in self.conn.run_on_commit[self.start :])


@pytest.mark.django_db(transaction=True)
def test_concurrent_refunds_never_exceed_what_was_paid(moyasar, manager, booking, client):
    payment_id = pay(client, booking).json()["id"]
    moyasar.complete(payment_id)
    payment_refresh(payment_id=payment_id)
    answers: list[int] = []

    def refund() -> None:
        try:
            answers.append(
                client_for(manager)
                .post(
                    f"/api/v1/manage/payments/{payment_id}/refund/", {"amount_halalas": 3000}, format="json"
                )
                .status_code
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=refund) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers.count(200) == 3 and sorted(set(answers)) == [200, 400]
    for refund_row in Refund.objects.filter(status=RefundStatus.REQUESTED):
        refund_execute(refund_id=refund_row.pk)
    assert moyasar.payment(payment_id)["refunded"] == 9000
    assert (
        sum(Refund.objects.filter(status=RefundStatus.SUCCEEDED).values_list("amount_halalas", flat=True))
        == 9000
    )
