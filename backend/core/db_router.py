"""Which database a query goes to: the primary, unless a view opted its reads into a replica.

The default is the primary, for everything: writes, reads inside a transaction, tasks, the admin, and every
view that did not say otherwise. A view that only reads what may be a moment old (the catalog, availability,
lists) mixes in `ReplicaReadsMixin`; its GET, HEAD and OPTIONS requests then read from one replica, chosen
for the whole request so that it sees one state, unless:

- no replica is configured (`DATABASE_REPLICA_URLS` empty), or
- the query runs inside `transaction.atomic()` on the primary (it must read what it is about to write), or
- the caller wrote within `REPLICA_PIN_SECONDS` ("pinned": a cookie for any client, and a cache key per
  logged-in user for clients that keep no cookies), so they read their own writes.

A stale answer from a replica can never let a write through: every write re-checks on the primary (a booking
under its row locks and exclusion constraint). Why this router and not django-multidb-router: docs/adr/0019.
"""

from __future__ import annotations

import logging
import random
from contextvars import ContextVar, Token

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections
from django.http import HttpRequest, HttpResponse
from rest_framework.permissions import SAFE_METHODS

logger = logging.getLogger(__name__)

PIN_COOKIE = "db_pin"
_read_alias: ContextVar[str | None] = ContextVar("replica_read_alias", default=None)


def read_alias() -> str:
    """The alias a read goes to now."""
    alias = _read_alias.get()
    if alias is None or connections[DEFAULT_DB_ALIAS].in_atomic_block:
        return DEFAULT_DB_ALIAS
    return alias


class ReplicaRouter:
    """Django's router API over `read_alias()`; writes and migrations only ever touch the primary."""

    def db_for_read(self, model, **hints) -> str:
        return read_alias()

    def db_for_write(self, model, **hints) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints) -> bool:
        return True  # every alias holds the same data

    def allow_migrate(self, db: str, app_label: str, **hints) -> bool:
        return db not in settings.DATABASE_REPLICAS


def _pin_key(user_id: object) -> str:
    return f"db-pin:{user_id}"


def is_pinned(request: HttpRequest) -> bool:
    """True when the caller wrote within REPLICA_PIN_SECONDS; when the cache cannot say, True (safe)."""
    if PIN_COOKIE in request.COOKIES:
        return True
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    try:
        return cache.get(_pin_key(user.pk)) is not None
    except Exception:
        logger.warning("db router: pin unknown, reading from the primary", exc_info=True)
        return True


def pin(request: HttpRequest, response: HttpResponse) -> None:
    """Keep the caller on the primary for REPLICA_PIN_SECONDS."""
    seconds = settings.REPLICA_PIN_SECONDS
    response.set_cookie(
        PIN_COOKIE, "1", max_age=seconds, httponly=True, samesite="Lax", secure=settings.SESSION_COOKIE_SECURE
    )
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        try:
            cache.set(_pin_key(user.pk), 1, timeout=seconds)
        except Exception:  # the write is done: answer it; the cookie still pins browsers
            logger.warning("db router: could not pin user %s to the primary", user.pk, exc_info=True)


class ReplicaPinMiddleware:
    """Pins the caller of every unsafe request (their next reads see their write); a no-op without
    replicas. After AuthenticationMiddleware; DRF sets the request's user on the way, so JWT users count."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if settings.DATABASE_REPLICAS and request.method not in SAFE_METHODS:
            pin(request, response)
        return response


class ReplicaReadsMixin:
    """For views whose safe requests may read from a replica (see the module's docstring)."""

    _replica_token: Token | None = None

    def initial(self, request, *args, **kwargs) -> None:
        replicas = settings.DATABASE_REPLICAS
        if replicas and request.method in SAFE_METHODS and not is_pinned(request):
            self._replica_token = _read_alias.set(random.choice(replicas))  # noqa: S311 (load spreading)
        super().initial(request, *args, **kwargs)

    def finalize_response(self, request, response, *args, **kwargs):
        if self._replica_token is not None:
            _read_alias.reset(self._replica_token)
            self._replica_token = None
        return super().finalize_response(request, response, *args, **kwargs)
