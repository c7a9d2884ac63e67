"""Schemathesis against the API's own OpenAPI schema (`/api/schema/`): generated requests, valid and not,
for every operation. Any 5xx fails, and so does any answer the schema does not describe: an undocumented
status code, content type or header, a body that does not match. Requests that break the schema must be
refused (4xx); authenticated operations must refuse a missing or wrong token.

The schema is loaded from the app in-process (WSGI, no server). Each request runs inside the test's
transaction on the real PostgreSQL test database, as with Django's test client: nothing is committed, so
no task is enqueued. Requests carry real JWTs: every operation runs as a customer, and the management,
staff-only and platform-admin ones again as the role they are for, against a seeded salon, so they get
past 403/404. Payments talk to the fake Moyasar; login codes go to the console provider (test settings).

Bounded and reproducible: MAX_EXAMPLES generated cases per operation (plus schemathesis' deterministic
coverage cases) from a fixed seed, so a rerun sends the same requests. A failure names the operation, the
check, the response and the request as a curl command. `FUZZ_MAX_EXAMPLES=100 FUZZ_SEED=7 make test
ARGS=tests/test_api_fuzz.py` digs deeper locally (a few minutes)."""

import io
import os
import uuid
import zlib
from collections.abc import Iterator
from datetime import datetime, time, timedelta
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from PIL import Image
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken
from schemathesis.config import SchemathesisConfig

from backend.bookings.models import BookingStatus
from backend.fakes.moyasar import DEFAULT_SECRET_KEY, FakeMoyasar
from backend.payments.models import Payment
from backend.payments.services import payment_refresh
from backend.photos.models import PhotoKind
from backend.photos.services import photo_add
from backend.providers import moyasar as moyasar_client
from backend.reviews.models import Review
from backend.salons.models import Closure, TimeOff
from config.wsgi import application
from tests.support.factories import make_admin, make_booking, make_salon, make_service, make_staff, make_user

MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "6"))
SEED = int(os.environ.get("FUZZ_SEED", "20261201"))
MAX_ID = 2**63 - 1

CONFIG = SchemathesisConfig.from_dict(
    {
        "seed": SEED,
        "generation": {
            "max-examples": MAX_EXAMPLES,
            "deterministic": True,
            # Unknown query parameters and body properties are ignored, as by most HTTP APIs; the schema
            # does not forbid them, so sending them proves nothing.
            "allow-extra-parameters": False,
            # The token is the role's real one (sent by each test); generated ones would only be refused.
            "with-security-parameters": False,
        },
        "checks": {
            # Off: a request the schema allows may still break a rule the schema cannot say (a phone
            # number that is no mobile, an id of no row, a start outside working hours); the API refuses
            # it with a documented 400/404/409, which is right. Every other check stays on.
            "positive_data_acceptance": {"enabled": False},
        },
    }
)
schema = schemathesis.openapi.from_wsgi("/api/schema/", application, config=CONFIG)


# --- Seeded values instead of generated ones ---------------------------------------------------------------
# Generated integers almost never name a row, so every operation under a salon would stop at its 404; a
# generated phone number is never a mobile, a refresh token never valid. So a well-formed value of such a
# parameter or body field is swapped for one of the seeded rows' (KNOWN, filled by each test) or kept, by a
# deterministic pick. Malformed values are left alone: they are the invalid (negative) cases. The swap is
# made just before the call, so that it applies to every phase (the deterministic coverage cases send id
# 0 with every variation of a body), and schemathesis re-checks afterwards what is still invalid about
# the case, so a case the swap made valid is no longer expected to be refused.
KNOWN: dict[str, list[Any]] = {}
_KINDS = {
    "salon_id": "salon",
    "salon": "salon",
    "service_id": "service",
    "service": "service",
    "staff_id": "staff",
    "staff": "staff",
    "booking_id": "booking",
    "payment_id": "payment",
    "review_id": "review",
    "closure_id": "closure",
    "time_off_id": "time_off",
    "photo_id": "photo",
    "start": "start",
    "end": "end",
    "date": "date",
    "phone": "phone",
    "manager_phone": "phone",
    "refresh": "refresh",
    "secret_token": "secret_token",
}
_UUID_KINDS = ("payment",)
_TEXT_KINDS = ("phone", "refresh", "secret_token")


def _well_formed(kind: str, value: Any) -> bool:
    if kind in _TEXT_KINDS:
        return isinstance(value, str) and value != ""
    if kind in ("start", "end", "date"):
        try:
            return (parse_date if kind == "date" else parse_datetime)(value) is not None
        except (TypeError, ValueError):
            return False
    if kind in _UUID_KINDS:
        try:
            uuid.UUID(value)
        except (TypeError, ValueError, AttributeError):
            return False
        return True
    # An id: a JSON integer, or digits in a path or query (the coverage phase sends them as text).
    return (isinstance(value, int) and not isinstance(value, bool)) or (
        isinstance(value, str) and value.isascii() and value.isdigit()
    )


def _pick(value: Any, choices: list[Any]) -> Any:
    """One of `choices`, the same one for the same value in every run (str hashes are salted per run).
    Id 0, which the coverage phase sends with every variation of a body, picks a seeded row."""
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    number = value if isinstance(value, int) else zlib.crc32(str(value).encode("utf-8", "surrogatepass"))
    return choices[number % len(choices)]


def _swap_known(container: Any) -> None:
    if not isinstance(container, dict):
        return
    for name, value in container.items():
        kind = _KINDS.get(name, "")
        if KNOWN.get(kind) and _well_formed(kind, value):
            container[name] = _pick(value, [*KNOWN[kind], value])


@schemathesis.hook  # before_call hooks are global only; KNOWN is empty outside this module's tests
def before_call(context, case, kwargs):
    for container in (case.path_parameters, case.query, case.body):
        _swap_known(container)


# --- The seeded salon ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def moyasar() -> Iterator[FakeMoyasar]:
    with FakeMoyasar(webhook_url="http://127.0.0.1:9/webhook") as fake:  # nobody listens: never delivered
        yield fake


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), "teal").save(buffer, "PNG")
    return buffer.getvalue()


def _gateway_payment(moyasar: FakeMoyasar, booking, *, manual: bool) -> Payment:
    """A payment the fake Moyasar knows, completed by the payer: paid, or authorized when `manual`."""
    payment = Payment.objects.create(
        booking=booking, amount_halalas=booking.price_halalas, source_type="token"
    )
    moyasar_client.payment_create(
        given_id=str(payment.pk),
        amount=booking.price_halalas,
        currency="SAR",
        description="fuzz",
        callback_url="https://app.example.com/paid",
        source={"type": "token", "token": "tok_fuzz", "manual": manual},
        metadata={},
    )
    moyasar.complete(str(payment.pk))
    return payment_refresh(payment_id=payment.pk)


@pytest.fixture
def tokens(db, settings, tmp_path, moyasar) -> Iterator[dict[str, str]]:
    """Seeds a salon with a manager, a staff member, a customer's bookings in every state that matters,
    payments, a review, photos, a closure and time off; answers each role's access token."""
    settings.MEDIA_ROOT = str(tmp_path)
    settings.MOYASAR_BASE_URL = moyasar.url
    settings.MOYASAR_SECRET_KEY = DEFAULT_SECRET_KEY
    settings.MOYASAR_WEBHOOK_SECRET = "fuzz-webhook-secret"
    settings.MOYASAR_TIMEOUT_SECONDS = 2

    users = {
        "customer": make_user(name="Noura"),
        "manager": make_user(name="Fahad"),
        "staff": make_user(name="Sara"),
        "admin": make_admin(),
    }
    customer = users["customer"]
    salon = make_salon(managers=[users["manager"]])
    service = make_service(salon)
    staff = make_staff(salon, services=[service], user=users["staff"], name="Sara")
    now = timezone.now()

    def booking(days: float, status: str = BookingStatus.CONFIRMED, **fields):
        start = now + timedelta(days=days)
        return make_booking(
            service=service, staff=staff, customer=customer, start=start, status=status, **fields
        )

    reviewed = booking(-3, BookingStatus.COMPLETED)
    review = Review.objects.create(
        booking=reviewed, salon=salon, staff=staff, service=service, customer=customer, rating=4
    )
    completed = booking(-2, BookingStatus.COMPLETED)
    started = booking(-0.01)  # confirmed and begun: staff may complete it or mark a no-show
    paid = booking(5)
    authorized = booking(6)
    held = booking(7, BookingStatus.PENDING_PAYMENT, hold_expires_at=now + timedelta(minutes=15))
    payments = [
        _gateway_payment(moyasar, paid, manual=False),
        _gateway_payment(moyasar, authorized, manual=True),
    ]
    png = _png()
    gallery = photo_add(salon=salon, kind=PhotoKind.GALLERY, upload=io.BytesIO(png), size=len(png))
    photo_add(salon=salon, kind=PhotoKind.AVATAR, staff=staff, upload=io.BytesIO(png), size=len(png))
    closure = Closure.objects.create(salon=salon, date=(now + timedelta(days=30)).date())
    time_off = TimeOff.objects.create(staff=staff, start=now + timedelta(days=8), end=now + timedelta(days=9))
    # Free slots on the 30-minute grid of the salon's hours (09:00-21:00 every day), away from the rest.
    free_days = [(now + timedelta(days=days)).astimezone(salon.tz).date() for days in (10, 11)]
    starts = [datetime.combine(day, time(10, 30), tzinfo=salon.tz) for day in free_days]

    KNOWN.clear()
    KNOWN.update(
        salon=[salon.pk],
        service=[service.pk],
        staff=[staff.pk],
        booking=[row.pk for row in (reviewed, completed, started, paid, authorized, held)],
        payment=[str(payment.pk) for payment in payments],
        review=[review.pk],
        closure=[closure.pk],
        time_off=[time_off.pk],
        photo=[gallery.pk],
        start=[start.isoformat() for start in starts],
        end=[(start + timedelta(hours=1)).isoformat() for start in starts],
        date=[day.isoformat() for day in free_days],
        # A mobile number in two of the forms the API takes: OTP login, staff phones, new salons' managers.
        phone=["0551234567", "+966 55 765 4321"],
        refresh=[str(RefreshToken.for_user(customer))],
        secret_token=[settings.MOYASAR_WEBHOOK_SECRET],
    )
    # The app runs in the test's transaction: Django must not close the connection after each request.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield {role: str(AccessToken.for_user(user)) for role, user in users.items()}
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
        KNOWN.clear()


def call_as(case, tokens: dict[str, str], role: str) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {tokens[role]}"})


# --- The tests ---------------------------------------------------------------------------------------------
# The seeded rows serve all the cases of one operation (one test), so the health check about
# function-scoped fixtures does not apply; deadlines and slowness checks would only make CI flaky.
fuzz = hypothesis_settings(
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)


@fuzz
@schema.parametrize()
def test_api_as_customer(case, tokens):
    call_as(case, tokens, "customer")


@fuzz
@schema.include(path_regex=r"^/api/v1/manage/").parametrize()
def test_api_as_manager(case, tokens):
    call_as(case, tokens, "manager")


@fuzz
@schema.include(path_regex=r"^/api/v1/bookings/\{booking_id\}/(complete|no-show)/$").parametrize()
def test_api_as_staff(case, tokens):
    call_as(case, tokens, "staff")


@fuzz
@schema.include(path_regex=r"^/api/v1/(admin|ops)/").parametrize()
def test_api_as_admin(case, tokens):
    call_as(case, tokens, "admin")


# --- Abuse cases, through the schema's own operations -----------------------------------------------------
@pytest.fixture
def app_in_test_transaction() -> Iterator[None]:
    """As in `tokens`: Django must not close the test transaction's connection after each request."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def test_hold_flood(db, app_in_test_transaction):
    """Issue 16: one customer's eight unpaid holds took a salon's evening. The flood again, through the
    schema's create operation, each answer checked against the schema: past the salon's
    `max_unpaid_holds` (2) every hold is the documented 409 `too_many_holds`."""
    salon = make_salon(prepayment_required=True)
    service = make_service(salon, duration_minutes=30)
    make_staff(salon, services=[service])
    token = str(AccessToken.for_user(make_user()))
    evening = datetime.combine((timezone.now() + timedelta(days=10)).date(), time(17), tzinfo=salon.tz)
    create = schema["/api/v1/bookings/"]["POST"]
    answers = []
    for n in range(8):
        start = evening + timedelta(minutes=30 * n)
        case = create.Case(
            body={"salon": salon.pk, "service": service.pk, "start": start.isoformat()},
            media_type="application/json",
        )
        response = case.call_and_validate(headers={"Authorization": f"Bearer {token}"})
        answers.append((response.status_code, response.json().get("error", {}).get("code")))
    assert answers == [(201, None)] * 2 + [(409, "too_many_holds")] * 6
