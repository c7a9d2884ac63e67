"""The database refuses what the rules forbid, whoever writes (the API, the admin, a shell)."""

from datetime import UTC, date, datetime, time

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import translation

from backend.salons.models import BusinessHours, Closure, Salon, Service, StaffService, TimeOff, WorkingHours
from backend.salons.validators import validate_cancellation_policy, validate_timezone
from tests.support.factories import make_salon, make_service, make_staff

pytestmark = pytest.mark.django_db


def refused(create) -> bool:
    try:
        with transaction.atomic():
            create()
    except IntegrityError:
        return True
    return False


def test_constraints():
    salon = make_salon()
    service = make_service(salon)
    staff = make_staff(salon, services=[service])
    assert refused(lambda: BusinessHours.objects.create(salon=salon, weekday=0, start=time(13), end=time(13)))
    assert BusinessHours.objects.create(salon=salon, weekday=0, start=time(16), end=time(2)).pk
    assert refused(lambda: BusinessHours.objects.create(salon=salon, weekday=7, start=time(9), end=time(13)))
    assert refused(lambda: WorkingHours.objects.create(staff=staff, weekday=0, start=time(9), end=time(9)))
    assert refused(lambda: Service.objects.create(salon=salon, name="X", duration_minutes=0, price_halalas=1))
    assert refused(
        lambda: Service.objects.create(salon=salon, name="X", duration_minutes=10, price_halalas=-1)
    )
    assert refused(lambda: StaffService.objects.create(staff=staff, service=service))
    new_year = date(2027, 1, 1)
    assert refused(
        lambda: Closure.objects.bulk_create([Closure(salon=salon, date=new_year, end_date=new_year)] * 2)
    )
    moment = datetime(2027, 1, 1, tzinfo=UTC)
    assert refused(lambda: TimeOff.objects.create(staff=staff, start=moment, end=moment))
    assert refused(lambda: Salon.objects.create(name="X", city="Y", slot_step_minutes=0))

    def two_staff_with_phone(phone: str) -> None:
        make_staff(salon, phone=phone)
        make_staff(salon, phone=phone)

    assert refused(lambda: two_staff_with_phone("+966551234567"))
    assert not refused(lambda: two_staff_with_phone(""))  # an empty phone is no phone


def test_localized_name_falls_back_to_name():
    salon = Salon(name="Lamsa", name_ar="لمسة")
    with translation.override("ar"):
        assert salon.localized_name == "لمسة"
        assert Salon(name="Lamsa").localized_name == "Lamsa"
    with translation.override("en"):
        assert salon.localized_name == "Lamsa"


@pytest.mark.parametrize("name", ["Asia/Riyadh", "Europe/Berlin", "UTC", "America/Argentina/Buenos_Aires"])
def test_iana_zones_are_valid(name):
    validate_timezone(name)


@pytest.mark.parametrize(
    "name", ["", "Riyadh", "+03:00", "AST", "localtime", "Factory", "/etc/localtime", "asia/riyadh"]
)
def test_other_zone_names_are_not(name):
    with pytest.raises(ValidationError):
        validate_timezone(name)


@pytest.mark.parametrize(
    "policy",
    [
        [],
        [{"hours_before": 0, "refund_percent": 0}],
        [{"hours_before": 48, "refund_percent": 100}, {"hours_before": 24, "refund_percent": 100}],
        [{"hours_before": 2, "refund_percent": 50}, {"hours_before": 24, "refund_percent": 100}],
    ],
)
def test_sensible_policies(policy):
    validate_cancellation_policy(policy)


@pytest.mark.parametrize(
    "policy",
    [
        None,
        {"hours_before": 1, "refund_percent": 1},
        [[24, 100]],
        [{"hours_before": True, "refund_percent": 100}],
        [{"hours_before": 1.5, "refund_percent": 100}],
        [{"hours_before": 1, "refund_percent": 100, "extra": 1}],
        [{"hours_before": 1, "refund_percent": -1}],
        [{"hours_before": 24, "refund_percent": 10}, {"hours_before": 2, "refund_percent": 20}],
    ],
)
def test_senseless_policies(policy):
    with pytest.raises(ValidationError):
        validate_cancellation_policy(policy)


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        ([{"hours_before": -1, "refund_percent": 0}], "hours_before must not be negative."),
        ([{"hours_before": 1, "refund_percent": 101}], "refund_percent must be between 0 and 100."),
        (
            [{"hours_before": 24, "refund_percent": 50}, {"hours_before": 24, "refund_percent": 100}],
            "Each hours_before may appear only once.",
        ),
    ],
)
def test_a_senseless_policy_says_what_is_wrong(policy, message):
    """The API's serializer refuses these before they reach the validator; the model field uses it too."""
    with translation.override("en"):
        with pytest.raises(ValidationError) as raised:
            validate_cancellation_policy(policy)
        assert raised.value.messages == [message]
        # Through the model (the admin, full_clean()): the JSONField must not swap in "Value must be valid
        # JSON." for the rule that was broken.
        salon = make_salon(cancellation_policy=[])
        salon.cancellation_policy = policy
        with pytest.raises(ValidationError) as raised:
            salon.full_clean()
        assert raised.value.message_dict["cancellation_policy"] == [message]
