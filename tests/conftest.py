import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from tests.support.processes import WorkerProcess


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture(autouse=True)
def _clear_cache():
    """Throttle counters, cached health figures and the like never leak from one test to another."""
    cache.clear()
    yield


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker):
    """One real worker for the session, consuming every queue of the test database and Redis."""
    from worker.celery import app

    app.control.purge()  # messages left by an earlier, interrupted run
    worker = WorkerProcess().start()
    yield worker
    worker.stop()
