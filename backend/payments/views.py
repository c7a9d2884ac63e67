from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.accounts.permissions import PhoneRequired
from backend.bookings.access import works_at_salon
from backend.bookings.serializers import BookingSerializer
from backend.core.errors import ApplicationError
from backend.core.http import ProviderError
from backend.core.idempotency import HEADER, idempotent_response
from backend.core.serializers import error_responses
from backend.payments.checkout import booking_checkout
from backend.payments.selectors import (
    booking_get_for_payer,
    payment_get_for_manager,
    payment_get_for_user,
)
from backend.payments.serializers import (
    CheckoutSerializer,
    PaymentAmountSerializer,
    PaymentCreateSerializer,
    PaymentSerializer,
    WebhookEventSerializer,
    WebhookOutcomeSerializer,
)
from backend.payments.services import (
    payment_capture,
    payment_create,
    payment_refresh,
    payment_refund,
    payment_void,
    webhook_authenticate,
    webhook_receive,
)

_CREATE_ERRORS = {
    400: "raw_card_refused, payment_rejected",
    403: "phone_required: the caller has not verified a phone number yet",
    409: "already_paid, not_payable; idempotency_key_reused, request_in_progress",
    502: "gateway_unavailable (the payment stays pending; retry with the same Idempotency-Key)",
}
_MANAGE_ERRORS = {400: "invalid_amount", 409: "invalid_payment_state", 502: "gateway_unavailable"}


class PaymentCreateView(APIView):
    permission_classes = [IsAuthenticated, PhoneRequired]

    @extend_schema(
        operation_id="payments_create",
        request=PaymentCreateSerializer,
        responses={
            201: PaymentSerializer,
            **error_responses(400, 401, 403, 404, 409, 502, codes=_CREATE_ERRORS),
        },
        description="The booking's customer pays for it. Card payments answer `initiated` with a "
        "`transaction_url` for 3-D Secure. Honours an `Idempotency-Key` header.",
    )
    def post(self, request: Request, booking_id: int) -> Response:
        booking = booking_get_for_payer(user=request.user, booking_id=booking_id)

        def create() -> Response:
            payload = PaymentCreateSerializer(data=request.data)
            payload.is_valid(raise_exception=True)
            payment = payment_create(
                booking_id=booking.pk,
                source=payload.validated_data["source"],
                callback_url=payload.validated_data["callback_url"],
                request_key=(request.headers.get(HEADER) or "").strip(),
            )
            return Response(PaymentSerializer(payment).data, status=status.HTTP_201_CREATED)

        return idempotent_response(
            request, scope=f"payments.create:{booking.pk}", handler=create, atomic_with_handler=False
        )


class PaymentDetailView(APIView):
    @extend_schema(
        operation_id="payments_retrieve", responses={200: PaymentSerializer, **error_responses(401, 404)}
    )
    def get(self, request: Request, payment_id) -> Response:
        """Re-checked with the gateway while not final: the app calls it when the payer returns from
        3-D Secure."""
        payment = payment_get_for_user(user=request.user, payment_id=payment_id)
        return Response(PaymentSerializer(payment_refresh(payment_id=payment.pk)).data)


class PaymentWebhookView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []

    @extend_schema(
        operation_id="payments_webhook",
        request=WebhookEventSerializer,
        responses={
            200: OpenApiResponse(
                WebhookOutcomeSerializer, description="Received (also for replays and unknown events)."
            ),
            **error_responses(400, 401, 502, codes={401: "webhook_unauthorized"}),
        },
    )
    def post(self, request: Request) -> Response:
        """Moyasar's webhook: authenticated by `secret_token` in the body, stored once per event id; the
        payment is re-fetched from Moyasar before anything is applied."""
        body = request.data if isinstance(request.data, dict) else {}
        webhook_authenticate(body)
        event = WebhookEventSerializer(data=body)
        event.is_valid(raise_exception=True)
        try:
            outcome = webhook_receive(
                event_id=event.validated_data["id"], event_type=event.validated_data["type"], payload=body
            )
        except ProviderError as error:
            # Not processed: a non-2xx makes Moyasar deliver the event again.
            raise ApplicationError(
                "gateway_unavailable", _("The payment service did not answer. Please try again."), status=502
            ) from error
        return Response({"outcome": outcome})


def _amount(request: Request) -> int | None:
    payload = PaymentAmountSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    return payload.validated_data.get("amount_halalas")


_MANAGE_RESPONSES = {200: PaymentSerializer, **error_responses(400, 401, 404, 409, 502, codes=_MANAGE_ERRORS)}


class PaymentCaptureView(APIView):
    @extend_schema(
        operation_id="manage_payments_capture", request=PaymentAmountSerializer, responses=_MANAGE_RESPONSES
    )
    def post(self, request: Request, payment_id) -> Response:
        """Captures an authorized payment (the salon's manager or a platform admin)."""
        payment = payment_get_for_manager(user=request.user, payment_id=payment_id)
        return Response(
            PaymentSerializer(payment_capture(payment_id=payment.pk, amount_halalas=_amount(request))).data
        )


class PaymentRefundView(APIView):
    @extend_schema(
        operation_id="manage_payments_refund", request=PaymentAmountSerializer, responses=_MANAGE_RESPONSES
    )
    def post(self, request: Request, payment_id) -> Response:
        """Refunds a paid payment, in full or in part (the salon's manager or a platform admin). If the
        gateway cannot be reached the refund stays `requested` and is retried in the background."""
        payment = payment_get_for_manager(user=request.user, payment_id=payment_id)
        refunded = payment_refund(payment_id=payment.pk, amount_halalas=_amount(request))
        return Response(PaymentSerializer(refunded).data)


class PaymentVoidView(APIView):
    @extend_schema(operation_id="manage_payments_void", request=None, responses=_MANAGE_RESPONSES)
    def post(self, request: Request, payment_id) -> Response:
        """Voids an authorized payment, or a paid one before settlement (the salon's manager or a platform
        admin)."""
        payment = payment_get_for_manager(user=request.user, payment_id=payment_id)
        return Response(PaymentSerializer(payment_void(payment_id=payment.pk)).data)


class BookingCheckoutView(APIView):
    @extend_schema(
        operation_id="manage_bookings_checkout",
        summary="Take an in-salon payment",
        request=CheckoutSerializer,
        responses={
            200: BookingSerializer,
            **error_responses(
                400,
                401,
                404,
                409,
                codes={409: "invalid_booking_state, not_started, payment_in_progress, already_paid"},
            ),
        },
    )
    def post(self, request: Request, salon_id: int, booking_id: int) -> Response:
        """Staff or a manager of the salon records the payment of a started booking not paid online (cash,
        card or mada on the salon's terminal, with an optional tip): the booking becomes paid and completed,
        and its invoice is issued when the salon has a tax profile."""
        if not works_at_salon(user=request.user, salon_id=salon_id):
            raise Http404
        payload = CheckoutSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        booking = booking_checkout(
            salon_id=salon_id,
            booking_id=booking_id,
            actor=request.user,
            method=payload.validated_data["method"],
            tip_halalas=payload.validated_data["tip_halalas"],
        )
        return Response(BookingSerializer(booking).data)
