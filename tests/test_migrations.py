import pytest
from django.core.management import call_command


# makemigrations checks the migration history of every database the router migrates, which under test
# includes the replica tests' stale copy (config/test_settings.py).
@pytest.mark.django_db(databases="__all__")
def test_models_and_migrations_agree():
    """makemigrations --check exits non-zero when a model change has no migration."""
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)
