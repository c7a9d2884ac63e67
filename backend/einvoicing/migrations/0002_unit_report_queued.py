"""A unit's `report_queued` mark (one report run queued per unit, not one per payment), and a unit for
every tax profile: issuing now reads the profile through its locked unit, in one statement, instead of
creating the unit first. tax_profile_set has always created both; this makes sure of it for old rows."""

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
    ]
