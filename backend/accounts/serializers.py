import re
from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from backend.accounts.channels import ALLOWED as CHANNELS
from backend.accounts.channels import channels_normalise
from backend.accounts.models import Language, OtpChannel, SocialProvider, User
from backend.accounts.selectors import user_roles
from backend.accounts.services import OTP_CODE_DIGITS
from backend.core.serializers import StrictBooleanField, StrictCharField

# Arabic keyboards type Arabic-Indic (U+0660..U+0669) or Eastern Arabic-Indic (U+06F0..U+06F9) digits.
_ARABIC_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "0123456789" * 2)
_CODE = re.compile(rf"[0-9]{{{OTP_CODE_DIGITS}}}")


class OtpCodeField(StrictCharField):
    default_error_messages = {"format": _("Enter the 6-digit code.")}

    def to_internal_value(self, data: Any) -> str:
        code = super().to_internal_value(data).translate(_ARABIC_DIGITS).replace(" ", "")
        if not _CODE.fullmatch(code):
            self.fail("format")
        return code


# --- Input ----------------------------------------------------------------------------------------
class OtpRequestSerializer(serializers.Serializer):
    phone = StrictCharField(help_text="Mobile number in any common form; without a country code: Saudi.")
    channel = serializers.ChoiceField(choices=OtpChannel.choices, default=OtpChannel.SMS)


class OtpVerifySerializer(serializers.Serializer):
    phone = StrictCharField()
    code = OtpCodeField(help_text="The 6-digit code; Arabic-Indic digits are accepted.")


class SocialSignInSerializer(serializers.Serializer):
    provider = serializers.ChoiceField(choices=SocialProvider.choices)
    id_token = StrictCharField(
        max_length=8192, help_text="The identity token (a JWT) the provider's SDK gave the app."
    )
    nonce = StrictCharField(
        max_length=512,
        required=False,
        help_text="The nonce of the sign-in request, when the app used one: the token's `nonce` claim must "
        "be it, or its SHA-256 in lowercase hex (what an iOS app passes to Apple).",
    )
    name = StrictCharField(
        max_length=150,
        required=False,
        allow_blank=True,
        help_text="The person's name, for a new account (Apple gives it to the app on the first sign-in "
        "only, never in the token).",
    )


class RefreshTokenSerializer(serializers.Serializer):
    refresh = StrictCharField()


class UserUpdateSerializer(serializers.Serializer):
    name = StrictCharField(max_length=150, allow_blank=True, required=False)
    language = serializers.ChoiceField(choices=Language.choices, required=False)
    email = serializers.EmailField(allow_blank=True, required=False)
    marketing_opt_in = StrictBooleanField(required=False)
    channels = serializers.ListField(
        child=serializers.ChoiceField(choices=[(channel.value, channel.label) for channel in CHANNELS]),
        max_length=len(CHANNELS) * 2,
        required=False,
        help_text="Channels to reach me by, in order (push, whatsapp, sms). Listing whatsapp opts in to "
        "WhatsApp messages. `sms` is always last: it is moved there, or added, and repeats are dropped.",
    )

    def validate_channels(self, value: list[str]) -> list[str]:
        return channels_normalise(value)


# --- Output ---------------------------------------------------------------------------------------
class UserSerializer(serializers.ModelSerializer):
    phone = serializers.CharField(
        source="phone_number",
        allow_null=True,
        help_text="E.164; null for an account made by Sign in with Apple or Google until it verifies "
        "a phone.",
    )
    # Not `format: email`: an account without an email answers "", which that format refuses.
    email = serializers.CharField(read_only=True, help_text="An email address, or empty when none was given.")
    roles = serializers.SerializerMethodField()
    channels = serializers.ListField(
        child=serializers.ChoiceField(choices=[(channel.value, channel.label) for channel in CHANNELS]),
        help_text="Channels messages try, in order; sms is last.",
    )

    class Meta:
        model = User
        fields = ("id", "phone", "name", "language", "email", "roles", "marketing_opt_in", "channels")
        read_only_fields = fields

    def get_roles(self, user: User) -> list[str]:
        return user_roles(user=user)


class OtpRequestResultSerializer(serializers.Serializer):
    expires_in = serializers.IntegerField(help_text="Seconds the code stays valid.")
    resend_after = serializers.IntegerField(help_text="Seconds before another code may be requested.")


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class OtpLoginSerializer(TokenPairSerializer):
    user = UserSerializer()
    is_new_user = serializers.BooleanField(help_text="True when this login created the account.")
