from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import IntegrityError, ProgrammingError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.state import StateApps

from tests.support.factories import make_user


# makemigrations checks the migration history of every database the router migrates, which under test
# includes the replica tests' stale copy (config/test_settings.py).
@pytest.mark.django_db(databases="__all__")
def test_models_and_migrations_agree():
    """makemigrations --check exits non-zero when a model change has no migration."""
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


VISITS_BEFORE = [
    ("bookings", "0003_booking_offered_status"),
    ("salons", "0007_service_processing_minutes"),
]
VISITS_AFTER = [("bookings", "0004_visit_items")]


def _migrate(executor: MigrationExecutor, targets) -> StateApps:
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_each_booking_becomes_a_one_item_visit_and_back():
    """From the schema before visits, with data: each booking becomes one item carrying its occupation
    (guarded by the moved exclusion constraint), and back; a visit of two items refuses to go back."""
    executor = MigrationExecutor(connection)
    try:
        old = _migrate(executor, VISITS_BEFORE)
        salon = old.get_model("salons", "Salon").objects.create(name="Old", city="Riyadh")
        service = old.get_model("salons", "Service").objects.create(
            salon=salon, name="Cut", duration_minutes=30, price_halalas=5000, buffer_minutes=10
        )
        staff = old.get_model("salons", "StaffMember").objects.create(salon=salon, name="Sara")
        user = make_user()  # accounts is not migrated back: its model of today
        start = datetime(2027, 3, 1, 10, tzinfo=UTC)
        fields = {
            "salon": salon,
            "service": service,
            "staff": staff,
            "customer_id": user.pk,
            "price_halalas": 5000,
        }
        booking_model = old.get_model("bookings", "Booking")
        active = booking_model.objects.create(
            start=start,
            end=start + timedelta(minutes=30),
            occupied_until=start + timedelta(minutes=40),
            status="confirmed",
            **fields,
        )
        cancelled = booking_model.objects.create(
            start=start,
            end=start + timedelta(minutes=30),
            occupied_until=start + timedelta(minutes=40),
            status="cancelled",
            **fields,
        )

        new = _migrate(executor, VISITS_AFTER)
        items = new.get_model("bookings", "BookingItem").objects.order_by("booking_id")
        assert [
            (
                i.booking_id,
                i.position,
                i.staff_id,
                i.service_id,
                i.start,
                i.occupied_until,
                i.price_halalas,
                i.active,
            )
            for i in items
        ] == [
            (active.pk, 0, staff.pk, service.pk, start, start + timedelta(minutes=40), 5000, True),
            (cancelled.pk, 0, staff.pk, service.pk, start, start + timedelta(minutes=40), 5000, False),
        ]
        # The guard moved with the occupations: reactivating the cancelled one would overlap.
        with pytest.raises(IntegrityError, match="booking_staff_no_overlap"), transaction.atomic():
            new.get_model("bookings", "Booking").objects.filter(pk=cancelled.pk).update(status="confirmed")

        _migrate(executor, VISITS_BEFORE)
        with pytest.raises(IntegrityError, match="booking_staff_no_overlap"), transaction.atomic():
            booking_model.objects.filter(pk=cancelled.pk).update(status="confirmed")

        new = _migrate(executor, VISITS_AFTER)
        new.get_model("bookings", "BookingItem").objects.create(
            booking_id=active.pk,
            position=1,
            service_id=service.pk,
            staff_id=staff.pk,
            start=start + timedelta(hours=1),
            end=start + timedelta(minutes=90),
            occupied_until=start + timedelta(minutes=100),
            price_halalas=0,
        )
        with pytest.raises(ProgrammingError, match="visits of several services"):
            _migrate(executor, VISITS_BEFORE)
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
