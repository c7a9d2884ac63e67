import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from tests.support.factories import make_salon, make_service, make_user
from tests.support.processes import WorkerProcess, child_env


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def manager():
    return make_user(name="Manager")


@pytest.fixture
def salon(manager):
    """A salon open every day 09:00-21:00, managed by `manager`; directories override it as they need."""
    return make_salon(managers=[manager])


@pytest.fixture
def service(salon):
    return make_service(salon)


@pytest.fixture(autouse=True)
def _clear_cache():
    """Throttle counters, cached health figures and the like never leak from one test to another."""
    cache.clear()
    yield


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker, tmp_path_factory):
    """One real worker for the session on the default queue of the test database and Redis. Notification
    and payment tests start their own worker on their queue, pointed at the fake provider they test."""
    from worker.celery import app

    app.control.purge()  # messages left by an earlier, interrupted run
    # The only consumer of the default queue in the test run (so no task goes to a differently configured
    # worker); tests that need its files (photos) point MEDIA_ROOT at `worker.media_root`.
    media_root = tmp_path_factory.mktemp("worker-media")
    worker = WorkerProcess(queues="default", env=child_env(MEDIA_ROOT=str(media_root))).start()
    worker.media_root = media_root
    yield worker
    worker.stop()


@pytest.fixture
def fresh_celery_worker(celery_worker_process):
    """The session's worker, started again: the flush after a transactional test re-creates the content
    types under new ids, and a worker still caching the old ones cannot write its audit log entries. For
    worker tests whose tasks write audited rows, whatever ran before them."""
    celery_worker_process.stop()
    celery_worker_process.start()
    return celery_worker_process
