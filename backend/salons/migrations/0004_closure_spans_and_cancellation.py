"""Closures over several days (issue 19): `end_date` (inclusive), existing rows closing their one date;
closures of a salon never share a date (an exclusion constraint in place of the unique date); closures and
time off record the state of a background cancellation of the bookings in their way.

Backward, a closure over several days becomes one closure a date, so no closed day reopens."""

import datetime

import django.contrib.postgres.constraints
import django.db.models.expressions
from django.db import migrations, models

import backend.salons.models

ONE_DAY_EACH = "UPDATE salons_closure SET end_date = date;"
# Backward: the dates after the first become closures of their own, then every row closes its `date`.
SPLIT_SPANS = """
INSERT INTO salons_closure (salon_id, date, end_date, reason, created_at)
SELECT closure.salon_id, day::date, day::date, closure.reason, closure.created_at
FROM salons_closure closure,
     generate_series(closure.date + 1, closure.end_date, interval '1 day') AS day
WHERE closure.end_date > closure.date;
UPDATE salons_closure SET end_date = date;
SET CONSTRAINTS ALL IMMEDIATE;
"""  # the new rows' deferred foreign key checks now: a table with pending ones cannot be altered


class Migration(migrations.Migration):
    dependencies = [
        ("salons", "0003_salon_max_unpaid_holds"),
    ]

    operations = [
        migrations.AddField(
            model_name="closure",
            name="end_date",
            field=models.DateField(null=True),
        ),
        migrations.RunSQL(ONE_DAY_EACH, reverse_sql=SPLIT_SPANS),
        migrations.AlterField(
            model_name="closure",
            name="end_date",
            field=models.DateField(),
        ),
        migrations.AddField(
            model_name="closure",
            name="cancel_finished_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="closure",
            name="cancel_progress_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="closure",
            name="cancel_requested_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddIndex(
            model_name="closure",
            index=models.Index(
                condition=models.Q(("cancel_finished_at__isnull", True), ("cancel_requested_at__isnull", False)),
                fields=["cancel_progress_at"],
                name="closure_cancellation_pending",
            ),
        ),
        migrations.RemoveConstraint(
            model_name="closure",
            name="closure_unique_per_salon_date",
        ),
        migrations.AddConstraint(
            model_name="closure",
            constraint=django.contrib.postgres.constraints.ExclusionConstraint(
                expressions=[
                    (backend.salons.models._IdPoint(models.F("salon_id")), "&&"),
                    (backend.salons.models._Dates(models.F("date"), models.F("end_date")), "&&"),
                ],
                name="closure_no_overlap",
                violation_error_message="The salon is already closed on one of these dates.",
            ),
        ),
        migrations.AddConstraint(
            model_name="closure",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("end_date__gte", models.F("date")),
                    (
                        "end_date__lt",
                        django.db.models.expressions.CombinedExpression(
                            models.F("date"), "+", models.Value(datetime.timedelta(days=366))
                        ),
                    ),
                ),
                name="closure_span_in_range",
                violation_error_message="A closure ends on or after its first date, within a year.",
            ),
        ),
        migrations.AddConstraint(
            model_name="closure",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("cancel_finished_at__isnull", True), ("cancel_requested_at__isnull", False), _connector="OR"
                ),
                name="closure_cancellation_finished_after_requested",
            ),
        ),
        migrations.AddField(
            model_name='timeoff',
            name='cancel_finished_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='timeoff',
            name='cancel_progress_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='timeoff',
            name='cancel_requested_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddIndex(
            model_name='timeoff',
            index=models.Index(condition=models.Q(('cancel_finished_at__isnull', True), ('cancel_requested_at__isnull', False)), fields=['cancel_progress_at'], name='time_off_cancellation_pending'),
        ),
        migrations.AddConstraint(
            model_name='timeoff',
            constraint=models.CheckConstraint(condition=models.Q(('cancel_finished_at__isnull', True), ('cancel_requested_at__isnull', False), _connector='OR'), name='time_off_cancellation_finished_after_requested'),
        ),
    ]
