"""POST/GET `/notifications/webhooks/whatsapp/`: WhatsApp's delivery statuses and its subscription
challenge (backend/providers/whatsapp_webhook.py has the protocol, whatsapp_status.py applies them)."""

from django.conf import settings
from django.http import HttpResponse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.core.errors import ApplicationError
from backend.core.serializers import error_responses
from backend.notifications.serializers import WebhookReceivedSerializer, WhatsAppWebhookSerializer
from backend.notifications.whatsapp_status import (
    whatsapp_row_settle,
    whatsapp_statuses_apply,
    whatsapp_statuses_record,
)
from backend.providers.whatsapp_webhook import challenge_answer, parse_statuses, signature_valid


def _unauthorized() -> ApplicationError:
    return ApplicationError("webhook_unauthorized", _("The webhook signature is wrong."), status=401)


class WhatsAppWebhookView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []  # Meta posts as fast as messages move; it signs every call

    @extend_schema(
        operation_id="notifications_webhooks_whatsapp_verify",
        summary="Answer WhatsApp's subscription check",
        parameters=[
            OpenApiParameter("hub.mode", str, required=True, description="`subscribe`."),
            OpenApiParameter("hub.verify_token", str, required=True, description="WHATSAPP_VERIFY_TOKEN."),
            OpenApiParameter("hub.challenge", str, required=True, description="Echoed back."),
        ],
        responses={
            (200, "text/plain"): OpenApiResponse(OpenApiTypes.STR, description="The challenge, as sent."),
            **error_responses(403, codes={403: "webhook_unauthorized: wrong verify token"}),
        },
    )
    def get(self, request: Request) -> HttpResponse:
        """Meta's subscription check: the challenge is echoed when the verify token is ours."""
        answer = challenge_answer(request.query_params, settings.WHATSAPP_VERIFY_TOKEN)
        if answer is None:
            raise ApplicationError("webhook_unauthorized", _("The verify token is wrong."), status=403)
        return HttpResponse(answer, content_type="text/plain")

    @extend_schema(
        operation_id="notifications_webhooks_whatsapp_receive",
        summary="Receive WhatsApp delivery statuses",
        request=WhatsAppWebhookSerializer,
        responses={
            200: WebhookReceivedSerializer,
            **error_responses(400, 401, codes={401: "webhook_unauthorized"}),
        },
    )
    def post(self, request: Request) -> Response:
        """Delivery statuses, signed with `X-Hub-Signature-256` over the raw body. Each is applied once and
        only forward; a `failed` moves the message on to the customer's next channel."""
        raw = request.body  # kept before parsing: the signature covers the bytes as sent
        data = request.data  # the API's parser first, like every JSON operation (depth limit: 400)
        if not signature_valid(raw, request.headers.get("X-Hub-Signature-256"), settings.WHATSAPP_APP_SECRET):
            raise _unauthorized()
        updates = parse_statuses(data)
        for wamid, notification_id in whatsapp_statuses_record(updates=updates).items():
            # No row holds the wamid yet: its worker may have died before recording it (the row's id
            # came back as callback data), and the row is then recorded sent rather than sent again.
            if not whatsapp_statuses_apply(wamid=wamid) and notification_id is not None:
                whatsapp_row_settle(notification_id=notification_id)
        return Response({"received": len(updates)})
