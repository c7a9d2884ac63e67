"""Payment reads: who may see or manage a payment, and how much of a booking's money can go back."""

from django.db.models import QuerySet, Sum
from django.shortcuts import get_object_or_404

from backend.accounts.models import User
from backend.bookings.access import booking_access_for_pay, booking_get_for_user, booking_list_for_user
from backend.bookings.models import Booking
from backend.payments.models import SUCCESS_STATUSES, Payment, Refund, RefundStatus


def payment_get_for_user(*, user: User, payment_id) -> Payment:
    """The payment if `user` may see its booking (its customer, the salon's staff and managers, platform
    admins); Http404 otherwise."""
    visible = Payment.objects.filter(booking__in=booking_list_for_user(user=user).values("pk"))
    return get_object_or_404(visible, pk=payment_id)


def payment_get_for_manager(*, user: User, payment_id) -> Payment:
    """The payment if `user` manages its salon or is a platform admin; Http404 otherwise."""
    payments = Payment.objects.all()
    if not user.is_superuser:
        payments = payments.filter(booking__salon__managers=user)
    return get_object_or_404(payments, pk=payment_id)


def refund_requested_halalas(*, payment: Payment) -> int:
    """Refunds asked for and not settled yet: already promised, so no longer refundable."""
    pending = Refund.objects.filter(payment=payment, status=RefundStatus.REQUESTED)
    return pending.aggregate(total=Sum("amount_halalas"))["total"] or 0


def payment_refundable_halalas(*, payment: Payment) -> int:
    """What may still be refunded: taken, minus refunded, minus refunds already requested."""
    return max(
        0, payment.settled_halalas - payment.refunded_halalas - refund_requested_halalas(payment=payment)
    )


def payments_refundable_of_booking(*, booking_id: int) -> QuerySet[Payment]:
    return Payment.objects.filter(booking_id=booking_id, status__in=SUCCESS_STATUSES).order_by("created_at")


def booking_paid_halalas(*, booking_id: int) -> int:
    """What the customer has paid for the booking and not got back (nor been promised back)."""
    return sum(
        payment_refundable_halalas(payment=payment)
        for payment in payments_refundable_of_booking(booking_id=booking_id)
    )


def payment_personal_data(*, user: User) -> list[dict]:
    """The payments section of the user's data export (GET /me/export/)."""
    return [
        {
            "id": str(payment.pk),
            "booking": payment.booking_id,
            "amount_halalas": payment.amount_halalas,
            "currency": payment.currency,
            "status": payment.status,
            "source_type": payment.source_type,
            "refunded_halalas": payment.refunded_halalas,
            "created_at": payment.created_at,
        }
        for payment in Payment.objects.filter(booking__customer=user).order_by("created_at")
    ]


def booking_get_for_payer(*, user: User, booking_id: int) -> Booking:
    """The booking if `user` may pay for it (its customer: `booking_access_for_pay`); Http404 otherwise."""
    booking = booking_get_for_user(user=user, booking_id=booking_id)
    booking_access_for_pay(user=user, booking=booking)
    return booking
