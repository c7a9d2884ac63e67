"""salons 0004: closures gain `end_date` (forward, each closes its one date) and lose it (backward, a span
becomes a closure a date, so no closed date reopens)."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

BEFORE = [("salons", "0003_salon_max_unpaid_holds")]
AFTER = [("salons", "0004_closure_spans_and_cancellation")]


def migrate(target):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(target)
    return executor.loader.project_state(target).apps


def latest():
    """Every app's last migration: where the rest of the suite expects the database."""
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()


@pytest.fixture(autouse=True)
def back_to_latest():
    yield
    migrate(latest())


def test_forward_and_backward():
    old_apps = migrate(BEFORE)
    salon = old_apps.get_model("salons", "Salon").objects.create(name="Old", city="Riyadh")
    old_closure = old_apps.get_model("salons", "Closure")
    old_closure.objects.create(salon=salon, date=date(2027, 4, 5), reason="Inventory")

    new_apps = migrate(AFTER)
    closure = new_apps.get_model("salons", "Closure")
    [kept] = closure.objects.all()
    assert (kept.date, kept.end_date, kept.reason) == (date(2027, 4, 5), date(2027, 4, 5), "Inventory")
    assert kept.cancel_requested_at is None
    eid = date(2027, 3, 30)
    closure.objects.create(salon_id=salon.pk, date=eid, end_date=eid + timedelta(days=3), reason="Eid")

    old_apps = migrate(BEFORE)
    rows = old_apps.get_model("salons", "Closure").objects.order_by("date").values_list("date", "reason")
    assert list(rows) == [(eid + timedelta(days=n), "Eid") for n in range(4)] + [
        (date(2027, 4, 5), "Inventory")
    ]
