"""Shared set-up for channel tests: fake FCM, WhatsApp and Unifonic servers, settings pointing at them,
and outbox rows to a customer with a channel preference."""

import json
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction

from backend.accounts.models import User
from backend.fakes import FakeUnifonic
from backend.fakes.fcm import FakeFcm
from backend.fakes.whatsapp import FakeWhatsApp
from backend.notifications.models import Device, Kind, Notification
from backend.notifications.services import notification_create
from backend.providers import fcm

CONTEXT = {
    "salon": "Lamsa",
    "service": "Haircut",
    "staff": "Sara",
    "when": "Tuesday 16:30",
    "amount": "SAR 80.00",
}
APP_SID = "test-unifonic-appsid"
WA_TOKEN = "wa-token"
WA_NUMBER_ID = "555"
WA_SECRET = "wa-app-secret"
TEMPLATES = {
    Kind.BOOKING_CONFIRMED: {
        "name": "booking_confirmed_v1",
        "languages": ["ar", "en"],
        "parameters": ["salon", "service", "staff", "when"],
    }
}
FAKE_TEMPLATES = {"booking_confirmed_v1": {"ar": 4, "en": 4}}
PHONE = "+966501234567"


@dataclass
class Fakes:
    fcm: FakeFcm
    whatsapp: FakeWhatsApp
    unifonic: FakeUnifonic
    settings: dict[str, str]  # as environment variables, for worker processes


@contextmanager
def channel_fakes(directory: Path, webhook_url: str | None = None) -> Iterator[Fakes]:
    fcm.forget_tokens()
    with ExitStack() as stack:
        push = stack.enter_context(FakeFcm(project_id="salon-push"))
        whatsapp = stack.enter_context(
            FakeWhatsApp(
                access_token=WA_TOKEN,
                phone_number_id=WA_NUMBER_ID,
                templates=FAKE_TEMPLATES,
                webhook_url=webhook_url,
                app_secret=WA_SECRET,
            )
        )
        unifonic = stack.enter_context(FakeUnifonic(app_sid=APP_SID))
        values = {
            "SMS_PROVIDER": "unifonic",
            "UNIFONIC_BASE_URL": unifonic.url,
            "UNIFONIC_APP_SID": APP_SID,
            "FCM_PROJECT_ID": "salon-push",
            "FCM_CREDENTIALS_FILE": str(push.write_service_account(directory / "fcm.json")),
            "FCM_BASE_URL": push.url,
            "WHATSAPP_BASE_URL": whatsapp.url,
            "WHATSAPP_TOKEN": WA_TOKEN,
            "WHATSAPP_PHONE_NUMBER_ID": WA_NUMBER_ID,
            "WHATSAPP_APP_SECRET": WA_SECRET,
            "WHATSAPP_TEMPLATES": json.dumps(TEMPLATES),
        }
        yield Fakes(push, whatsapp, unifonic, values)
    fcm.forget_tokens()


def apply_settings(settings, fakes: Fakes) -> None:
    for name, value in fakes.settings.items():
        setattr(settings, name, json.loads(value) if name == "WHATSAPP_TEMPLATES" else value)


def customer(channels: list[str], *, devices: tuple[str, ...] = (), phone: str = PHONE) -> User:
    user = User.objects.create_user(phone, channels=channels, language="en")
    for token in devices:
        Device.objects.create(user=user, token=token, platform="android")
    return user


def message_to(user: User, key: str = "booking:1:booking_confirmed") -> Notification:
    with transaction.atomic():
        return notification_create(
            kind=Kind.BOOKING_CONFIRMED,
            phone=user.phone_number,
            language=user.language,
            context=CONTEXT,
            dedupe_key=key,
            recipient=user,
        )
