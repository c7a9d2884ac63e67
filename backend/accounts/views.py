from typing import Any

from django.utils.translation import get_language
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.accounts.authentication import token_user_or_none
from backend.accounts.export import personal_data_export
from backend.accounts.models import Language
from backend.accounts.serializers import (
    OtpLoginSerializer,
    OtpRequestResultSerializer,
    OtpRequestSerializer,
    OtpVerifySerializer,
    RefreshTokenSerializer,
    SocialSignInSerializer,
    TokenPairSerializer,
    UserSerializer,
    UserUpdateSerializer,
)
from backend.accounts.services import (
    otp_request,
    otp_verify,
    token_refresh,
    token_revoke,
    user_delete,
    user_update,
)
from backend.accounts.social import social_sign_in
from backend.core.client_ip import client_ip
from backend.core.serializers import ErrorSerializer


def _error(description: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorSerializer, description=description)


def _validated(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _request_language() -> str:
    """The caller's language (Accept-Language, picked by LocaleMiddleware), for new accounts and SMS."""
    language = get_language()
    return language if language in Language.values else Language.ARABIC


class _PublicView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]


class OtpRequestView(_PublicView):
    @extend_schema(
        operation_id="auth_otp_request",
        summary="Send a login code",
        description="Sends a 6-digit code by SMS or WhatsApp. The answer is the same whether or not the "
        "number has an account. A new request replaces the previous code.",
        request=OtpRequestSerializer,
        responses={
            202: OtpRequestResultSerializer,
            400: _error(
                "`validation_error`, `invalid_phone` (not a mobile number), "
                "`phone_region_not_allowed`, `channel_unavailable`."
            ),
            429: _error(
                "`otp_throttled`: too soon after the last code, or too many codes this hour; "
                "`retry_after` and the `Retry-After` header give the seconds to wait."
            ),
            502: _error(
                "`otp_delivery_failed`: the SMS/WhatsApp provider did not take the message; "
                "it does not count against the limits, ask again."
            ),
        },
    )
    def post(self, request: Request) -> Response:
        data = _validated(OtpRequestSerializer, request.data)
        result = otp_request(
            phone=data["phone"],
            channel=data["channel"],
            client_ip=client_ip(request),
            language=_request_language(),
        )
        return Response(OtpRequestResultSerializer(result).data, status=202)


class OtpVerifyView(_PublicView):
    @extend_schema(
        operation_id="auth_otp_verify",
        auth=[{"jwtAuth": []}, {}],  # the token is optional (token_user_or_none)
        summary="Log in with a code",
        description="Exchanges the code for a JWT pair; the first login of a number creates its account.\n\n"
        "Sent with the access token of an account that has no phone yet (Sign in with Apple or Google), "
        "it attaches the verified number to that account. When the number already belongs to an "
        "account, the caller's Apple/Google sign-ins are linked to that account instead and the answer "
        "carries its tokens; the caller's phone-less account is deleted and its tokens stop working. "
        "An expired or invalid token is ignored (a plain login): refresh it first.",
        request=OtpVerifySerializer,
        responses={
            200: OtpLoginSerializer,
            400: _error(
                "`validation_error`, `invalid_phone`, `phone_region_not_allowed`; `otp_invalid` "
                "(wrong code, with `attempts_left`); `otp_expired` (expired, already used, or no "
                "code was requested)."
            ),
            403: _error("`account_disabled`."),
            429: _error("`otp_locked`: too many wrong codes; ask for a new code."),
        },
    )
    def post(self, request: Request) -> Response:
        data = _validated(OtpVerifySerializer, request.data)
        # A valid access token of an account without a phone (Sign in with Apple or Google) attaches the
        # number to it; an invalid or expired one is ignored, so a stale header never blocks a login.
        caller = token_user_or_none(request)
        login = otp_verify(
            phone=data["phone"], code=data["code"], language=_request_language(), caller=caller
        )
        return Response(OtpLoginSerializer(login).data)


class SocialSignInView(_PublicView):
    @extend_schema(
        operation_id="auth_social",
        summary="Sign in with Apple or Google",
        description="Exchanges a provider's identity token for a JWT pair. The token's signature (the "
        "provider's published keys), issuer, audience (this deployment's client ids), expiry and, when "
        "given, nonce are verified. The provider's subject identifies the person, never the e-mail. The "
        "first sign-in creates an account without a phone (`user.phone` null, `is_new_user` true): it "
        "must verify a phone with the OTP endpoints, sending its access token, before it may book or pay.",
        request=SocialSignInSerializer,
        responses={
            200: OtpLoginSerializer,
            400: _error(
                "`validation_error`; `social_token_invalid` (bad signature, unknown key, wrong audience or "
                "issuer, expired, issued in the future, nonce mismatch); `social_provider_disabled` (this "
                "deployment does not offer the provider)."
            ),
            403: _error("`account_disabled`."),
            503: _error(
                "`social_keys_unavailable`: the provider's keys could not be fetched and none are cached; "
                "try again shortly."
            ),
        },
    )
    def post(self, request: Request) -> Response:
        data = _validated(SocialSignInSerializer, request.data)
        login = social_sign_in(
            provider=data["provider"],
            id_token=data["id_token"],
            nonce=data.get("nonce"),
            name=data.get("name", "").strip(),
            language=_request_language(),
        )
        return Response(OtpLoginSerializer(login).data)


class TokenRefreshView(_PublicView):
    @extend_schema(
        operation_id="auth_token_refresh",
        summary="Refresh the JWT pair",
        description="Refresh tokens rotate: the one sent is refused from now on.",
        request=RefreshTokenSerializer,
        responses={
            200: TokenPairSerializer,
            400: _error("`validation_error`."),
            401: _error("`token_invalid`: expired, already used, revoked, or the account is gone."),
        },
    )
    def post(self, request: Request) -> Response:
        data = _validated(RefreshTokenSerializer, request.data)
        return Response(TokenPairSerializer(token_refresh(refresh=data["refresh"])).data)


class LogoutView(_PublicView):
    @extend_schema(
        operation_id="auth_logout",
        summary="Log out",
        description="Revokes the refresh token; the access token expires on its own shortly.",
        request=RefreshTokenSerializer,
        responses={
            204: OpenApiResponse(description="Logged out."),
            400: _error("`validation_error`."),
            401: _error("`token_invalid`."),
        },
    )
    def post(self, request: Request) -> Response:
        data = _validated(RefreshTokenSerializer, request.data)
        token_revoke(refresh=data["refresh"])
        return Response(status=204)


_UNAUTHENTICATED = _error("`not_authenticated`, `token_invalid`.")


class MeView(APIView):
    @extend_schema(
        operation_id="me_read", summary="My account", responses={200: UserSerializer, 401: _UNAUTHENTICATED}
    )
    def get(self, request: Request) -> Response:
        return Response(UserSerializer(request.user).data)

    @extend_schema(
        operation_id="me_update",
        summary="Change my profile",
        request=UserUpdateSerializer,
        responses={200: UserSerializer, 400: _error("`validation_error`."), 401: _UNAUTHENTICATED},
    )
    def patch(self, request: Request) -> Response:
        data = _validated(UserUpdateSerializer, request.data)
        return Response(UserSerializer(user_update(user=request.user, data=data)).data)

    @extend_schema(
        operation_id="me_delete",
        summary="Delete my account",
        description="Anonymises the account: phone, name and email are erased, every token stops working "
        "at once, future bookings are cancelled, Apple and Google sign-ins are unlinked; history is kept "
        "without personal data. The number can register again as a new account.",
        responses={204: OpenApiResponse(description="Deleted."), 401: _UNAUTHENTICATED},
    )
    def delete(self, request: Request) -> Response:
        user_delete(user=request.user)
        return Response(status=204)


class MeExportView(APIView):
    @extend_schema(
        operation_id="me_export",
        summary="Export my personal data",
        description="Every personal datum the platform holds on the caller, one section per kind: "
        "`profile`, `login_codes` (when codes were sent and used, never the codes), `sessions` (issued "
        "refresh tokens, without the tokens), `social_identities` (linked Apple and Google sign-ins), "
        "and the sections of other apps (bookings, payments...).",
        responses={
            200: OpenApiResponse(OpenApiTypes.OBJECT, description="The export."),
            401: _UNAUTHENTICATED,
        },
    )
    def get(self, request: Request) -> Response:
        return Response(personal_data_export(user=request.user))
