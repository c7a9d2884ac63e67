"""Webhook events stored before issue 16 kept Moyasar's `secret_token` in their payload: remove it from
every row (backend/payments/services.py: webhook_receive no longer stores it)."""

from django.db import migrations

STRIP = "UPDATE payments_webhookevent SET payload = payload - 'secret_token' WHERE payload ? 'secret_token';"


class Migration(migrations.Migration):
    dependencies = [("payments", "0001_initial")]

    operations = [migrations.RunSQL(STRIP, reverse_sql=migrations.RunSQL.noop)]
