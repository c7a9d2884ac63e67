"""The suite reaches its database from outside Django's connection (a second connection, a child process's
DATABASE_URL) with Django's own parameters, so it works on the embedded server (a socket directory in the
URL's query string) as well as on a TCP server. Built by hand, it once missed the socket directory and
reached whatever PostgreSQL listened on /var/run/postgresql."""

import environ
import pytest
from django.db import connection

from tests.support.database import connect, database_url


@pytest.mark.django_db(transaction=True)
def test_a_second_connection_reaches_the_server_and_database_django_uses():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_backend_pid(), backend_start, current_database() FROM pg_stat_activity "
            "WHERE pid = pg_backend_pid()"
        )
        pid, started, name = cursor.fetchone()
    with connect(autocommit=True) as other:
        seen = other.execute(
            "SELECT backend_start, current_database() FROM pg_stat_activity WHERE pid = %s", [pid]
        ).fetchone()
    assert seen == (started, name)  # Django's very backend, seen from the same server
    assert name == connection.settings_dict["NAME"]


def _where(config: dict) -> dict:
    options = dict(config.get("OPTIONS") or {})
    host = config.get("HOST") or options.pop("host", "")
    return {
        "name": config["NAME"],
        "user": config.get("USER") or "",
        "password": config.get("PASSWORD") or "",
        "host": host,
        "port": str(config.get("PORT") or ""),
        "options": options,
    }


@pytest.mark.parametrize(
    "url",
    [
        "postgres://postgres@/test_salon?host=/work/x/.dev/postgres",  # the embedded server
        "postgres://postgres@127.0.0.1:5432/test_salon",
        "postgres://app:p%40ss%3Aw%2Frd@db.internal:6432/test_salon?sslmode=require",
        "postgres://postgres@/test_salon?host=/tmp/pg&sslmode=disable&application_name=web",
    ],
)
def test_a_child_process_url_names_the_same_server_database_and_options(url):
    config = environ.Env.db_url_config(url)
    assert _where(environ.Env.db_url_config(database_url(config))) == _where(config)


def test_a_socket_directory_given_as_host_travels_in_the_query_string():
    config = {"NAME": "test_salon", "USER": "postgres", "HOST": "/var/run/postgresql", "PORT": ""}
    url = database_url(config)
    assert url == "postgres://postgres@/test_salon?host=%2Fvar%2Frun%2Fpostgresql"
    assert _where(environ.Env.db_url_config(url)) == _where(config)


def test_the_suite_builds_no_dsn_by_hand():
    """Every other connection and URL goes through tests/support/database.py."""
    from pathlib import Path

    tests = Path(__file__).resolve().parent
    offenders = [
        str(path.relative_to(tests))
        for path in tests.rglob("*.py")
        if path.name not in {"database.py", Path(__file__).name}
        and any(needle in path.read_text() for needle in ('DATABASES["default"]', "psycopg.connect("))
    ]
    assert offenders == []
