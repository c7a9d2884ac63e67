"""`Idempotency-Key` for the POST endpoints that create things (bookings, payments).

The same key from the same user within IDEMPOTENCY_TTL_HOURS returns the first answer and creates nothing
new; the same key with a different body is refused; a retry arriving while the first attempt still runs
is told to wait. Answers below 500 are kept; a 5xx frees the key so the client may try again."""

import contextlib
import hashlib
import json
import logging
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework.response import Response

from backend.core.errors import ApplicationError
from backend.core.exceptions import error_body
from backend.core.models import IdempotencyRecord

logger = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
# How long a claimed key blocks its retries if the attempt that claimed it died without answering.
IN_PROGRESS_LOCK = timedelta(seconds=60)


def _request_hash(data: object) -> str:
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _valid_key(raw: str) -> str:
    key = raw.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise ApplicationError(
            "invalid_idempotency_key", _("The Idempotency-Key header must be 1 to 255 printable characters.")
        )
    return key


def _replay(record: IdempotencyRecord) -> Response:
    response = Response(record.response_body, status=record.response_status)
    response["Idempotent-Replayed"] = "true"
    return response


def _claim(*, user, scope: str, key: str, request_hash: str) -> IdempotencyRecord | Response:
    """Takes the key for this attempt, or returns the stored answer to replay."""
    now = timezone.now()
    fresh_since = now - timedelta(hours=settings.IDEMPOTENCY_TTL_HOURS)
    with transaction.atomic():
        # A concurrent first attempt makes our insert wait on the unique index, then get_or_create reads
        # its committed row (and, with select_for_update, waits for any attempt holding it).
        record, created = IdempotencyRecord.objects.select_for_update().get_or_create(
            user=user, scope=scope, key=key, defaults={"request_hash": request_hash, "locked_until": now}
        )
        if not created and record.created_at < fresh_since:
            record.delete()  # an expired key is a new key
            record = IdempotencyRecord.objects.create(
                user=user, scope=scope, key=key, request_hash=request_hash
            )
            created = True
        if not created:
            if record.request_hash != request_hash:
                raise ApplicationError(
                    "idempotency_key_reused",
                    _("This Idempotency-Key was already used with a different request."),
                    status=409,
                )
            if record.response_status is not None:
                return _replay(record)
            if record.locked_until and record.locked_until > now:
                raise ApplicationError(
                    "request_in_progress",
                    _("The first request with this Idempotency-Key is still being processed."),
                    status=409,
                    extra={"retry_after": 1},
                    headers={"Retry-After": "1"},
                )
        record.locked_until = now + IN_PROGRESS_LOCK
        record.save(update_fields=["locked_until"])
    return record


def _store(record: IdempotencyRecord, response: Response) -> None:
    if response.status_code >= 500:
        record.delete()
        return
    record.response_status = response.status_code
    record.response_body = response.data
    record.locked_until = None
    record.save(update_fields=["response_status", "response_body", "locked_until"])


def idempotent_response(
    request, *, scope: str, handler: Callable[[], Response], atomic_with_handler: bool = True
) -> Response:
    """Runs `handler` at most once per (user, scope, key) and returns its answer, or the stored one.

    With `atomic_with_handler` the handler's writes and the stored answer commit together, so a crash can
    never leave a created object without its answer (use it for pure database work). Handlers that must
    commit before calling a provider (payments) pass False and must themselves be safe to run again once
    the in-progress lock has lapsed."""
    raw_key = request.headers.get(HEADER)
    if raw_key is None:
        return handler()
    key = _valid_key(raw_key)
    claimed = _claim(user=request.user, scope=scope, key=key, request_hash=_request_hash(request.data))
    if isinstance(claimed, Response):
        return claimed
    try:
        if not atomic_with_handler:
            response = _answer(handler, atomic=False)
            _store(claimed, response)
            return response
        with transaction.atomic():
            response = _answer(handler, atomic=True)
            _store(claimed, response)
        return response
    except Exception:
        # Freed outside the transaction: after a dropped database connection the delete runs on a fresh
        # one, so the client's retry is not told `request_in_progress` until the lock lapses.
        _free(claimed)
        raise


def _answer(handler: Callable[[], Response], *, atomic: bool) -> Response:
    """The handler's answer; a refusal (4xx ApplicationError) is an answer too, remembered like a success.
    An atomic handler runs in a savepoint, so a refusal never leaves half its writes behind; a non-atomic
    one commits its own steps (a payment row must be committed before the gateway is called). Anything
    else (a 5xx, a crash) propagates, and the caller frees the key."""
    try:
        with transaction.atomic() if atomic else contextlib.nullcontext():
            return handler()
    except ApplicationError as error:
        if error.status >= 500:
            raise
        body = error_body(error.code, error.message, **error.extra)
        return Response(body, status=error.status, headers=error.headers)


def _free(record: IdempotencyRecord) -> None:
    """Lets the key be used again at once. If the database is still unreachable the in-progress lock
    lapses on its own (IN_PROGRESS_LOCK)."""
    try:
        IdempotencyRecord.objects.filter(pk=record.pk).delete()
    except DatabaseError:
        logger.warning("idempotency: could not free key %s; it frees itself when its lock lapses", record.pk)
