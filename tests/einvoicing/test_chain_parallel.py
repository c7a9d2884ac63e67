"""The chain under real concurrency: threads, each with its own PostgreSQL connection, paying at once."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from backend.bookings.models import BookingStatus
from backend.core.errors import ApplicationError
from backend.einvoicing import hashing
from backend.einvoicing.models import Document, Unit
from backend.payments.checkout import booking_checkout
from backend.payments.models import InSalonPayment
from tests.einvoicing.wiring import assert_chain, chain_of, make_paid_payment, make_tax_profile
from tests.support.factories import make_booking

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

PAYMENTS = 50


def run_at_once(count: int, work):
    barrier = threading.Barrier(count)

    def one(index: int):
        try:
            barrier.wait()
            return work(index)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(one, range(count)))


def bookings(service, staff, count: int, status=BookingStatus.COMPLETED):
    now = timezone.now()
    return [
        make_booking(service=service, staff=staff, start=now - timedelta(hours=2 * (n + 1)), status=status)
        for n in range(count)
    ]


def test_fifty_parallel_payments_give_counters_1_to_50_and_an_unbroken_chain(salon, service, staff):
    make_tax_profile(salon)
    paid = bookings(service, staff, PAYMENTS)
    payments = run_at_once(PAYMENTS, lambda index: make_paid_payment(paid[index]))
    assert all(payment.status == "paid" for payment in payments)
    documents = chain_of(Unit.objects.get(salon=salon).pk)
    assert len(documents) == PAYMENTS
    assert_chain(documents, hashing.FIRST_PIH)  # counters 1..50, each PIH its predecessor's hash
    assert {document.payment_id for document in documents} == {payment.pk for payment in payments}
    unit = Unit.objects.get(salon=salon)
    assert (unit.last_counter, unit.last_hash) == (PAYMENTS, documents[-1].invoice_hash)


def test_parallel_checkouts_of_one_booking_record_one_payment_of_its_price(salon, service, staff, manager):
    make_tax_profile(salon)
    (booking,) = bookings(service, staff, 1, status=BookingStatus.CONFIRMED)

    def checkout(index: int):
        try:
            return booking_checkout(
                salon_id=salon.pk, booking_id=booking.pk, actor=manager, method="cash", tip_halalas=index
            )
        except ApplicationError as error:
            return error.code

    outcomes = run_at_once(8, checkout)
    assert sorted(map(str, outcomes)).count("already_paid") == 7
    payment = InSalonPayment.objects.get()
    assert payment.amount_halalas == booking.price_halalas
    assert Document.objects.get().total_halalas == booking.price_halalas + payment.tip_halalas


def test_parallel_checkouts_of_many_bookings_never_drift(salon, service, staff, manager):
    make_tax_profile(salon)
    many = bookings(service, staff, 12, status=BookingStatus.CONFIRMED)
    run_at_once(
        12,
        lambda index: booking_checkout(
            salon_id=salon.pk,
            booking_id=many[index].pk,
            actor=manager,
            method="mada",
            tip_halalas=100 * index,
        ),
    )
    documents = chain_of(Unit.objects.get(salon=salon).pk)
    assert_chain(documents, hashing.FIRST_PIH)
    recorded = sum(payment.total_halalas for payment in InSalonPayment.objects.all())
    assert recorded == sum(document.total_halalas for document in documents) == 12 * 11500 + 100 * 66
