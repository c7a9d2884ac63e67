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
    """One real worker for the session on the default and payments queues of the test database and Redis.
    Notification tests start their own worker, with the provider they test against."""
    from worker.celery import app

    app.control.purge()  # messages left by an earlier, interrupted run
    worker = WorkerProcess(queues="default,payments").start()
    yield worker
    worker.stop()
