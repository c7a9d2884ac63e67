"""A client generated from the served schema drives a booking journey against a live server, and every
answer is checked twice: parsed by the generated models, and validated as raw JSON against the schema of
its operation and status (jsonschema). What a client developer would meet (issue 17): a schema the code
generator takes without warnings, headers it declares (Idempotency-Key), bodies that match it.

The client is generated once per session (about a second) with the same command the README gives, from
`/api/schema/` of pytest-django's live server; login codes come from the console provider's log line,
payments go to the fake Moyasar."""

import contextlib
import importlib
import json
import logging
import re
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from django.utils import timezone
from jsonschema import Draft202012Validator

from backend.bookings.models import Booking, BookingStatus, PaymentStatus
from backend.fakes.moyasar import DEFAULT_SECRET_KEY, FakeMoyasar
from backend.payments.models import Payment
from tests.support.factories import make_salon, make_service, make_staff, make_user

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

CONFIG = Path(__file__).with_name("openapi-python-client.yaml")
PACKAGE = "salon_api_client"
PHONE = "+966501234567"
CALLBACK = "https://app.example.com/paid"
CONSOLE_OTP = re.compile(r"console OTP for (\+\d+) by sms: (\d{6})")


def generate_command(schema_url: str, output: Path) -> list[str]:
    """`openapi-python-client generate` as the README writes it."""
    return [
        *(sys.executable, "-m", "openapi_python_client", "generate"),
        *("--url", schema_url, "--config", str(CONFIG), "--meta", "none"),
        *("--output-path", str(output), "--fail-on-warning"),
    ]


def nullable_as_json_schema(node: Any) -> Any:
    """OpenAPI 3.0's `nullable: true` as JSON Schema says it (OpenAPI 3.1 does the same)."""
    if isinstance(node, list):
        return [nullable_as_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: nullable_as_json_schema(value) for key, value in node.items() if key != "nullable"}
    return {"anyOf": [converted, {"type": "null"}]} if node.get("nullable") is True else converted


@pytest.fixture(scope="session")
def generated(django_db_setup, live_server, tmp_path_factory) -> Iterator[SimpleNamespace]:
    """The client package, generated from the live server's schema and imported; and that schema."""
    output = tmp_path_factory.mktemp("client") / PACKAGE
    run = subprocess.run(
        generate_command(f"{live_server.url}/api/schema/", output),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0 and "Warning" not in run.stdout + run.stderr, run.stdout + run.stderr
    sys.path.insert(0, str(output.parent))
    try:
        package = importlib.import_module(PACKAGE)
        yield SimpleNamespace(
            Client=package.Client,
            AuthenticatedClient=package.AuthenticatedClient,
            api=lambda tag, operation_id: importlib.import_module(f"{PACKAGE}.api.{tag}.{operation_id}"),
            models=importlib.import_module(f"{PACKAGE}.models"),
            schema=httpx.get(f"{live_server.url}/api/schema/?format=json", timeout=30).json(),
        )
    finally:
        sys.path.remove(str(output.parent))
        for name in [name for name in sys.modules if name.split(".")[0] == PACKAGE]:
            del sys.modules[name]


class SchemaCheck:
    """Validates each raw answer against the schema of its operation and status."""

    def __init__(self, schema: dict) -> None:
        self.components = nullable_as_json_schema(schema["components"])
        self.operations = {
            operation["operationId"]: operation
            for operations in schema["paths"].values()
            for operation in operations.values()
        }
        self.checked: set[str] = set()

    def __call__(self, operation_id: str, response, status: int) -> Any:
        assert response.status_code == status, (operation_id, response.status_code, response.content)
        declared = self.operations[operation_id]["responses"][str(status)]
        for header, spec in declared.get("headers", {}).items():
            if header in response.headers:
                Draft202012Validator(nullable_as_json_schema(spec["schema"])).validate(
                    response.headers[header]
                )
        assert response.parsed is not None, operation_id  # the generated models took it
        body_schema = nullable_as_json_schema(declared["content"]["application/json"]["schema"])
        validator = Draft202012Validator(
            {**body_schema, "components": self.components}, format_checker=Draft202012Validator.FORMAT_CHECKER
        )
        validator.validate(json.loads(response.content))
        self.checked.add(f"{operation_id} {status}")
        return response.parsed


@pytest.fixture
def moyasar(settings):
    with FakeMoyasar(webhook_url="http://127.0.0.1:9/webhook") as fake:  # webhooks go nowhere
        settings.MOYASAR_BASE_URL = fake.url
        settings.MOYASAR_SECRET_KEY = DEFAULT_SECRET_KEY
        yield fake


@pytest.fixture
def salon():
    """A prepayment salon: a booking holds its slot until it is paid."""
    salon = make_salon(prepayment_required=True)
    service = make_service(salon, price_halalas=10000)
    staff = make_staff(salon, services=[service], user=make_user(name="Sara"))
    return SimpleNamespace(id=salon.pk, service=service.pk, staff=staff.pk)


@pytest.fixture
def clients(generated, live_server) -> Iterator[Callable[..., Any]]:
    """Makes generated clients and closes them after the test: an open keep-alive connection would keep
    its server thread, and that thread's database session, until the end of the run."""
    with contextlib.ExitStack() as stack:

        def make(token: str | None = None) -> Any:
            if token is None:
                client = generated.Client(base_url=live_server.url, raise_on_unexpected_status=True)
            else:
                client = generated.AuthenticatedClient(
                    base_url=live_server.url, token=token, raise_on_unexpected_status=True
                )
            return stack.enter_context(client)

        yield make


def test_a_booking_journey_through_the_generated_client(generated, clients, salon, moyasar, settings, caplog):
    settings.OTP_PROVIDER = "console"
    check = SchemaCheck(generated.schema)
    api, models = generated.api, generated.models
    anonymous = clients()

    # Log in with a code from the console provider's log line.
    with caplog.at_level(logging.INFO, logger="backend.providers.console"):
        sent = api("auth", "auth_otp_request").sync_detailed(
            client=anonymous, body=models.OtpRequestRequest(phone=PHONE, channel=models.ChannelEnum.SMS)
        )
    check("auth_otp_request", sent, 202)
    phone, code = CONSOLE_OTP.search(caplog.text).groups()
    assert phone == PHONE
    wrong = api("auth", "auth_otp_verify").sync_detailed(
        client=anonymous,
        body=models.OtpVerifyRequest(phone=PHONE, code=f"{(int(code) + 1) % 1_000_000:06d}"),
    )
    assert check("auth_otp_verify", wrong, 400).error.code == "otp_invalid"
    login = api("auth", "auth_otp_verify").sync_detailed(
        client=anonymous, body=models.OtpVerifyRequest(phone=PHONE, code=code)
    )
    me = clients(check("auth_otp_verify", login, 200).access)

    # Free slots tomorrow onwards.
    tomorrow = (timezone.localtime() + timedelta(days=1)).date()
    free = api("catalog", "salons_availability").sync_detailed(
        salon.id, client=me, service=salon.service, date=tomorrow, days=2
    )
    slots = check("salons_availability", free, 200).slots
    assert len(slots) >= 3

    # Book with a key; the same request again answers the same booking and creates nothing.
    key = str(uuid.uuid4())
    body = models.BookingCreateRequest(salon=salon.id, service=salon.service, start=slots[0].start)
    first = api("bookings", "bookings_create").sync_detailed(client=me, body=body, idempotency_key=key)
    booking = check("bookings_create", first, 201)
    assert booking.status == models.BookingStatusEnum.PENDING_PAYMENT
    replay = api("bookings", "bookings_create").sync_detailed(client=me, body=body, idempotency_key=key)
    assert check("bookings_create", replay, 201).to_dict() == booking.to_dict()
    assert replay.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    assert Booking.objects.count() == 1
    reused = api("bookings", "bookings_create").sync_detailed(
        client=me,
        body=models.BookingCreateRequest(salon=salon.id, service=salon.service, start=slots[1].start),
        idempotency_key=key,
    )
    assert check("bookings_create", reused, 409).error.code == "idempotency_key_reused"

    # Move it, then cancel it (unpaid: nothing to refund).
    moved = api("bookings", "bookings_reschedule").sync_detailed(
        booking.id, client=me, body=models.BookingRescheduleRequest(start=slots[2].start)
    )
    assert check("bookings_reschedule", moved, 200).start == slots[2].start
    cancelled = api("bookings", "bookings_cancel").sync_detailed(
        booking.id, client=me, body=models.BookingCancelRequest(reason="Plans changed")
    )
    assert check("bookings_cancel", cancelled, 200).status == models.BookingStatusEnum.CANCELLED
    again = api("bookings", "bookings_cancel").sync_detailed(
        booking.id, client=me, body=models.BookingCancelRequest(reason="")
    )
    assert check("bookings_cancel", again, 409).error.code == "not_cancellable"

    # Book again and pay: 3-D Secure on the fake Moyasar, then the app reads the payment back.
    second = api("bookings", "bookings_create").sync_detailed(
        client=me,
        body=models.BookingCreateRequest(salon=salon.id, service=salon.service, start=slots[0].start),
        idempotency_key=str(uuid.uuid4()),
    )
    booking = check("bookings_create", second, 201)
    pay_key = str(uuid.uuid4())
    payment_body = models.PaymentCreateRequest(
        source=models.PaymentSourceRequest.from_dict({"type": "token", "token": "tok_good"}),
        callback_url=CALLBACK,
    )
    paid = api("bookings", "payments_create").sync_detailed(
        booking.id, client=me, body=payment_body, idempotency_key=pay_key
    )
    payment = check("payments_create", paid, 201)
    assert payment.status == models.PaymentGatewayStatusEnum.INITIATED and payment.transaction_url
    paid_again = api("bookings", "payments_create").sync_detailed(
        booking.id, client=me, body=payment_body, idempotency_key=pay_key
    )
    assert check("payments_create", paid_again, 201).id == payment.id and Payment.objects.count() == 1
    moyasar.complete(str(payment.id))  # the gateway's id is ours
    read = api("payments", "payments_retrieve").sync_detailed(payment.id, client=me)
    assert check("payments_retrieve", read, 200).status == models.PaymentGatewayStatusEnum.PAID
    final = api("bookings", "bookings_retrieve").sync_detailed(booking.id, client=me)
    assert check("bookings_retrieve", final, 200).status == models.BookingStatusEnum.CONFIRMED
    stored = Booking.objects.get(pk=booking.id)
    assert (stored.status, stored.payment_status) == (BookingStatus.CONFIRMED, PaymentStatus.PAID)

    # Errors parse into the one Error model too.
    missing = api("bookings", "bookings_retrieve").sync_detailed(999_999, client=me)
    assert check("bookings_retrieve", missing, 404).error.code == "not_found"
    assert check.checked == {
        *("auth_otp_request 202", "auth_otp_verify 400", "auth_otp_verify 200", "salons_availability 200"),
        *("bookings_create 201", "bookings_create 409", "bookings_reschedule 200", "bookings_cancel 200"),
        *("bookings_cancel 409", "payments_create 201", "payments_retrieve 200", "bookings_retrieve 200"),
        "bookings_retrieve 404",
    }
