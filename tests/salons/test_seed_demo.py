from datetime import time

import pytest
from django.core.management import call_command
from django.forms.models import model_to_dict

from backend.accounts.models import User
from backend.salons.management.commands.seed_demo import DEMO_MANAGER_PHONE, DEMO_STAFF_PHONE
from backend.salons.models import BusinessHours, Salon, Service, StaffMember, StaffService, WorkingHours

pytestmark = pytest.mark.django_db

MODELS = (User, Salon, BusinessHours, Service, StaffMember, StaffService, WorkingHours)


def snapshot() -> dict[str, list[dict]]:
    return {model.__name__: [model_to_dict(row) for row in model.objects.order_by("pk")] for model in MODELS}


def test_seed_demo_is_idempotent():
    call_command("seed_demo", verbosity=0)
    first = snapshot()
    call_command("seed_demo", verbosity=0)
    assert snapshot() == first
    assert Salon.objects.count() == 1


def test_the_demo_salon_is_realistic():
    call_command("seed_demo", verbosity=0)
    salon = Salon.objects.get()
    assert salon.name_ar and salon.timezone == "Asia/Riyadh"
    assert list(salon.managers.values_list("phone_number", flat=True)) == [DEMO_MANAGER_PHONE]
    assert salon.services.count() == 8
    assert all(service.name_ar and service.price_halalas >= 1000 for service in salon.services.all())
    assert salon.services.filter(buffer_minutes__gt=0).exists()
    assert salon.staff.count() == 4
    assert all(staff.staff_services.exists() and staff.name_ar for staff in salon.staff.all())
    barber = StaffMember.objects.get(phone=DEMO_STAFF_PHONE)
    assert barber.user.phone_number == DEMO_STAFF_PHONE and barber.invitation_status == "accepted"
    friday = salon.business_hours.filter(weekday=4)
    assert [(hours.start, hours.end) for hours in friday] == [(time(16), time(23))]
    saturday = salon.business_hours.filter(weekday=5)
    assert [(hours.start, hours.end) for hours in saturday] == [(time(10), time(13)), (time(16), time(23))]
