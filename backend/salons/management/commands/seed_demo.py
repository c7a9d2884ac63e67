"""A demo barbershop in Riyadh, so the API can be tried at once (`make run` calls this).

Idempotent: when the demo salon exists it changes nothing, so running it again creates no duplicates and
keeps whatever was changed by hand. Everything is created in one transaction, through the services."""

from datetime import time

from django.core.management.base import BaseCommand
from django.db import transaction

from backend.accounts.models import User
from backend.salons import services
from backend.salons.models import Salon
from backend.salons.services import ServiceOverride, WeekRange

DEMO_SALON_NAME = "Al Faris Barbershop"
DEMO_MANAGER_PHONE = "+966500000001"
DEMO_STAFF_PHONE = "+966500000002"

SAT_TO_THU = (5, 6, 0, 1, 2, 3)  # date.weekday() numbers
FRIDAY = 4

# name, Arabic name, minutes, halalas, buffer minutes
SERVICES = [
    ("Haircut", "قص الشعر", 30, 5000, 5),
    ("Beard trim and shaping", "تحديد وتشذيب اللحية", 20, 3000, 5),
    ("Haircut and beard", "قص الشعر واللحية", 45, 7500, 10),
    ("Kids haircut", "قص شعر الأطفال", 25, 3500, 5),
    ("Hot towel shave", "حلاقة بالمنشفة الساخنة", 30, 4500, 5),
    ("Facial cleansing", "تنظيف البشرة", 45, 12000, 10),
    ("Hair colouring", "صبغة الشعر", 60, 15000, 15),
    ("Moroccan bath", "حمام مغربي", 60, 20000, 15),
]
# name, Arabic name, phone, services (by English name), days off (date.weekday() numbers)
STAFF = [
    ("Ahmed", "أحمد", DEMO_STAFF_PHONE, [name for name, *_ in SERVICES], ()),
    ("Khalid", "خالد", "", ["Haircut", "Beard trim and shaping", "Haircut and beard", "Kids haircut"], (1,)),
    ("Omar", "عمر", "", ["Haircut", "Hot towel shave", "Facial cleansing", "Moroccan bath"], (2,)),
    ("Yousef", "يوسف", "", ["Haircut", "Haircut and beard", "Hair colouring", "Kids haircut"], (0,)),
]


def _week(*, days_off: tuple[int, ...] = ()) -> list[WeekRange]:
    """Saturday to Thursday 10:00-13:00 and 16:00-23:00 (the afternoon break), Friday evening only."""
    ranges = [
        WeekRange(day, start, end)
        for day in SAT_TO_THU
        for start, end in ((time(10), time(13)), (time(16), time(23)))
    ]
    ranges.append(WeekRange(FRIDAY, time(16), time(23)))
    return [hours for hours in ranges if hours.weekday not in days_off]


class Command(BaseCommand):
    help = "Creates the demo salon (staff, services, hours, a manager login) unless it already exists."

    @transaction.atomic
    def handle(self, *args: object, **options: object) -> None:
        if Salon.objects.filter(name=DEMO_SALON_NAME).exists():
            self.stdout.write("seed_demo: the demo salon exists; nothing to do.")
            return
        salon = services.salon_create(
            name=DEMO_SALON_NAME,
            name_ar="صالون الفارس للحلاقة",
            city="Riyadh",
            manager_phone=DEMO_MANAGER_PHONE,
        )
        services.salon_update(
            salon=salon,
            data={
                "slot_step_minutes": 15,
                "min_notice_minutes": 60,
                "horizon_days": 30,
                "cancellation_policy": [
                    {"hours_before": 24, "refund_percent": 100},
                    {"hours_before": 3, "refund_percent": 50},
                ],
            },
        )
        services.business_hours_replace(salon=salon, ranges=_week())
        by_name = {
            name: services.service_create(
                salon=salon,
                name=name,
                name_ar=name_ar,
                duration_minutes=minutes,
                price_halalas=halalas,
                buffer_minutes=buffer,
            )
            for name, name_ar, minutes, halalas, buffer in SERVICES
        }
        for name, name_ar, phone, service_names, days_off in STAFF:
            staff = services.staff_create(
                salon=salon,
                name=name,
                name_ar=name_ar,
                phone=phone,
                service_ids=[by_name[service].id for service in service_names],
                # The senior barber: his haircut costs more and takes longer.
                overrides=[ServiceOverride(by_name["Haircut"].id, 40, 7000)] if phone else [],
            )
            services.working_hours_replace(staff=staff, ranges=_week(days_off=days_off))
            if phone:  # the demo's barber has accepted the invitation his phone was sent
                barber = User.objects.filter(phone_number=phone).first() or User.objects.create_user(phone)
                services.staff_invitation_accept(user=barber, staff_id=staff.id)
        self.stdout.write(
            f"seed_demo: created {DEMO_SALON_NAME} (id {salon.id}); manager {DEMO_MANAGER_PHONE}, "
            f"staff {DEMO_STAFF_PHONE}."
        )
