"""The DATABASES setting from the environment: the primary (or the PgBouncer in front of it), the read
replicas, and what a transaction-mode pooler needs (README "Scaling the database", docs/adr/0019).

- `DATABASE_URL`: the primary, or PgBouncer in front of it. Everything that writes goes there.
- `DATABASE_REPLICA_URLS`: optional comma list of streaming replicas (or their PgBouncers), aliases
  `replica_1`, `replica_2`, … Only the reads `backend.core.db_router` lets through go there.
- `DATABASE_POOLER`: `none` (default) or `pgbouncer`, i.e. the URLs name a PgBouncer in transaction mode.
  Then server-side cursors are off (a `QuerySet.iterator()` cursor would outlive its transaction and its
  server connection) and psycopg's server-side binding may not be turned on (it prepares statements
  PgBouncer 1.18 cannot track). Django's default, client-side binding, never prepares.
"""

from __future__ import annotations

from typing import Any

import environ
from django.core.exceptions import ImproperlyConfigured

POOLERS = ("none", "pgbouncer")
REPLICA_ALIAS_PREFIX = "replica_"


def _connection(env: environ.Env, url: str, *, pooled: bool) -> dict[str, Any]:
    config = env.db_url_config(url)
    config["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    config["CONN_HEALTH_CHECKS"] = True
    config["DISABLE_SERVER_SIDE_CURSORS"] = pooled
    if pooled and str(config.get("OPTIONS", {}).get("server_side_binding", "")).lower() in ("1", "true"):
        raise ImproperlyConfigured(
            "server_side_binding prepares statements, which PgBouncer in transaction mode cannot follow: "
            "leave it off with DATABASE_POOLER=pgbouncer (README 'Scaling the database')."
        )
    return config


def database_settings(env: environ.Env) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """DATABASES and the aliases of the read replicas (empty: every query goes to the primary)."""
    pooler = env.str("DATABASE_POOLER", default="none").strip().lower() or "none"
    if pooler not in POOLERS:
        raise ImproperlyConfigured(f"DATABASE_POOLER must be one of {', '.join(POOLERS)}, not {pooler!r}.")
    pooled = pooler == "pgbouncer"
    databases = {"default": _connection(env, env.str("DATABASE_URL"), pooled=pooled)}
    replicas = []
    urls = [url.strip() for url in env.str("DATABASE_REPLICA_URLS", default="").split(",") if url.strip()]
    for number, url in enumerate(urls, start=1):
        alias = f"{REPLICA_ALIAS_PREFIX}{number}"
        databases[alias] = _connection(env, url, pooled=pooled)
        # Under test, a replica is the primary's test database seen through the replica's server (a
        # streaming replica has it as soon as the primary creates it): never created, flushed or migrated.
        databases[alias]["TEST"] = {"MIRROR": "default"}
        replicas.append(alias)
    return databases, replicas
