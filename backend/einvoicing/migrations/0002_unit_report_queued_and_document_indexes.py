"""A unit's `report_queued` mark (one report run queued per unit, not one per payment), and a unit for
every tax profile: issuing now reads the profile through its locked unit, in one statement, instead of
creating the unit first. tax_profile_set has always created both; this makes sure of it for old rows.
And no index of their own for a document's unit, in-salon payment and refund: other indexes lead with
them, and each one is a b-tree written while the unit's row is locked."""

import django.db.models.deletion
from django.db import migrations, models


def units_for_profiles(apps, schema_editor):
    TaxProfile = apps.get_model("einvoicing", "TaxProfile")
    Unit = apps.get_model("einvoicing", "Unit")
    missing = TaxProfile.objects.exclude(salon_id__in=Unit.objects.values("salon_id"))
    Unit.objects.bulk_create([Unit(salon_id=salon_id) for salon_id in missing.values_list("salon_id", flat=True)])


class Migration(migrations.Migration):
    dependencies = [
        ("einvoicing", "0001_tax_profiles_units_documents"),
    ]

    operations = [
        migrations.AddField(
            model_name="unit",
            name="report_queued",
            field=models.BooleanField(default=False, verbose_name="report queued"),
        ),
        migrations.RunPython(units_for_profiles, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="document",
            name="unit",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="documents",
                to="einvoicing.unit",
            ),
        ),
        migrations.AlterField(
            model_name="document",
            name="in_salon_payment",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="payments.insalonpayment",
            ),
        ),
        migrations.AlterField(
            model_name="document",
            name="refund",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="payments.refund",
            ),
        ),
    ]
