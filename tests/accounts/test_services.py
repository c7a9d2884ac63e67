"""Account services called directly, for what the API cannot reach on demand."""

import pytest
from django.db.models import QuerySet
from django.utils import timezone

from backend.accounts.models import OtpChallenge, User
from backend.accounts.services import otp_code_hash, user_get_or_create_by_phone
from tests.accounts.support import PHONE

pytestmark = pytest.mark.django_db


def test_get_or_create_survives_a_parallel_creation(monkeypatch):
    existing = User.objects.create_user(PHONE)
    monkeypatch.setattr(QuerySet, "first", lambda self: None)  # as if created just after our lookup
    assert user_get_or_create_by_phone(phone="0501234567") == (existing, False)


def test_code_hashes_are_keyed_and_bound_to_the_number(settings):
    first = otp_code_hash(phone_number=PHONE, code="123456")
    assert otp_code_hash(phone_number="+966551234567", code="123456") != first
    settings.OTP_HASH_KEY = "another-key"
    assert otp_code_hash(phone_number=PHONE, code="123456") != first


def test_challenge_str():
    challenge = OtpChallenge(phone_number=PHONE, sent_at=timezone.now())
    assert str(challenge).startswith(PHONE)
