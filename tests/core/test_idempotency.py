"""Idempotency-Key rules that the booking API tests do not reach: expiry, answers that free the key, and the
non-atomic mode payments use (their handler commits before calling the gateway)."""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.db import OperationalError, connection
from django.utils import timezone
from rest_framework.response import Response

from backend.core.errors import ApplicationError
from backend.core.idempotency import idempotent_response
from backend.core.models import IdempotencyRecord
from tests.support import database
from tests.support.factories import make_user

pytestmark = pytest.mark.django_db


def request_with(user, key: str = "key-1", data=None):
    return SimpleNamespace(headers={"Idempotency-Key": key}, user=user, data=data or {"a": 1})


class Handler:
    """Counts its runs and answers what it is told to."""

    def __init__(self, answer):
        self.answer = answer
        self.runs = 0

    def __call__(self):
        self.runs += 1
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


@pytest.mark.parametrize("atomic", [True, False])
def test_the_first_answer_is_replayed_in_both_modes(atomic):
    user = make_user()
    handler = Handler(Response({"id": 7}, status=201))
    first = idempotent_response(request_with(user), scope="s", handler=handler, atomic_with_handler=atomic)
    again = idempotent_response(request_with(user), scope="s", handler=handler, atomic_with_handler=atomic)
    assert (first.status_code, again.status_code, again.data, handler.runs) == (201, 201, {"id": 7}, 1)


def test_an_expired_key_is_a_new_key(settings):
    user = make_user()
    handler = Handler(Response({"id": 1}, status=201))
    idempotent_response(request_with(user), scope="s", handler=handler)
    IdempotencyRecord.objects.update(
        created_at=timezone.now() - timedelta(hours=settings.IDEMPOTENCY_TTL_HOURS + 1)
    )
    idempotent_response(request_with(user, data={"changed": True}), scope="s", handler=handler)
    assert handler.runs == 2 and IdempotencyRecord.objects.count() == 1


@pytest.mark.parametrize(
    "answer",
    [
        Response({"error": "x"}, status=502),
        ApplicationError("gateway_unavailable", "down", status=502),
        RuntimeError(),
    ],
)
def test_a_server_side_failure_frees_the_key_for_a_retry(answer):
    user = make_user()
    failing = Handler(answer)
    if isinstance(answer, Exception):
        with pytest.raises(type(answer)):
            idempotent_response(request_with(user), scope="s", handler=failing, atomic_with_handler=False)
    else:
        assert idempotent_response(request_with(user), scope="s", handler=failing).status_code == 502
    assert not IdempotencyRecord.objects.exists()
    succeeding = Handler(Response({"id": 2}, status=201))
    assert idempotent_response(request_with(user), scope="s", handler=succeeding).status_code == 201


def test_a_crashed_attempt_blocks_retries_only_until_its_lock_lapses():
    user = make_user()
    IdempotencyRecord.objects.create(
        user=user,
        scope="s",
        key="key-1",
        request_hash=_hash({"a": 1}),
        locked_until=timezone.now() + timedelta(seconds=30),
    )
    handler = Handler(Response({"id": 3}, status=201))
    with pytest.raises(ApplicationError) as raised:
        idempotent_response(request_with(user), scope="s", handler=handler)
    assert raised.value.code == "request_in_progress" and raised.value.headers["Retry-After"] == "1"
    IdempotencyRecord.objects.update(locked_until=timezone.now() - timedelta(seconds=1))
    assert idempotent_response(request_with(user), scope="s", handler=handler).status_code == 201


def test_without_the_header_the_handler_just_runs():
    handler = Handler(Response({}, status=201))
    request = SimpleNamespace(headers={}, user=make_user(), data={})
    idempotent_response(request, scope="s", handler=handler)
    idempotent_response(request, scope="s", handler=handler)
    assert handler.runs == 2 and not IdempotencyRecord.objects.exists()


def _hash(data):
    from backend.core.idempotency import _request_hash

    return _request_hash(data)


@pytest.mark.django_db(transaction=True)
def test_a_connection_dropped_mid_request_frees_the_key_at_once():
    """The database drops the request's connection inside the handler's transaction: the key is freed on
    a fresh connection, so the client's retry runs instead of waiting out the in-progress lock."""
    user = make_user()

    def dropped_mid_transaction():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]
        with database.connect(autocommit=True) as other:
            other.execute("SELECT pg_terminate_backend(%s)", [pid])
        IdempotencyRecord.objects.count()  # the next statement finds the connection gone
        return Response({"id": 1}, status=201)

    with pytest.raises(OperationalError):
        idempotent_response(request_with(user), scope="test", handler=dropped_mid_transaction)
    assert not IdempotencyRecord.objects.filter(user=user).exists()
    retry = Handler(Response({"id": 2}, status=201))
    assert idempotent_response(request_with(user), scope="test", handler=retry).data == {"id": 2}


def test_a_key_that_cannot_be_freed_is_left_to_its_lock(monkeypatch, caplog):
    """The database is still unreachable when the key is to be freed: the original error propagates and
    the in-progress lock lapses on its own."""
    from django.db import DatabaseError

    user = make_user()

    class Unreachable:
        def filter(self, **lookups):
            raise DatabaseError("connection refused")

    def failing_handler():
        monkeypatch.setattr(IdempotencyRecord, "objects", Unreachable())
        raise RuntimeError("the request failed")

    with pytest.raises(RuntimeError, match="the request failed"):
        idempotent_response(
            request_with(user), scope="test", handler=failing_handler, atomic_with_handler=False
        )
    assert "frees itself when its lock lapses" in caplog.text
