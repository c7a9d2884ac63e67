"""The database Django uses, reached from outside Django's own connection: a second psycopg connection in
this process, or a DATABASE_URL for a child process. Both are built from Django's connection settings, never
by hand, so they reach the same server whatever DATABASE_URL named: a TCP host and port, or the embedded
server's socket directory (`postgres://postgres@/salon?host=/…/.dev/postgres`, which django-environ puts in
OPTIONS, not HOST)."""

from __future__ import annotations

from urllib.parse import quote, urlencode

import psycopg
from django.db import connection


def connect(**kwargs) -> psycopg.Connection:
    """A new connection with exactly the parameters Django connects with (database, user, password, host,
    port and every OPTION), e.g. to terminate Django's own backend from outside."""
    return psycopg.connect(**connection.get_connection_params(), **kwargs)


def database_url(db: dict | None = None) -> str:
    """DATABASE_URL naming the database Django uses now (under pytest, the test database), so child
    processes share it. OPTIONS (the socket directory, sslmode, …) travel in the query string, where
    django-environ reads them back."""
    db = connection.settings_dict if db is None else db
    user = quote(db.get("USER") or "", safe="")
    password = f":{quote(str(db['PASSWORD']), safe='')}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or ""
    options = {key: str(value) for key, value in (db.get("OPTIONS") or {}).items()}
    if host.startswith("/"):  # a socket directory given as HOST: a URL carries it in the query string
        options.setdefault("host", host)
        host = ""
    port = f":{db['PORT']}" if db.get("PORT") else ""
    url = f"postgres://{user}{password}@{host}{port}/{quote(db['NAME'], safe='')}"
    return f"{url}?{urlencode(options)}" if options else url
