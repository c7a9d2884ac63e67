"""DATABASES from the environment (backend/core/databases.py): the pooler's needs and the replica aliases."""

import subprocess
from pathlib import Path

import environ
import pytest
from django.core.exceptions import ImproperlyConfigured

from backend.core.databases import database_settings

PRIMARY = "postgres://app@db:5432/salon"


def _settings(monkeypatch, **variables):
    for name in ("DATABASE_POOLER", "DATABASE_REPLICA_URLS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", variables.pop("DATABASE_URL", PRIMARY))
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    return database_settings(environ.Env())


@pytest.mark.parametrize(
    ("pooler", "server_side_cursors_disabled"),
    [(None, False), ("none", False), ("", False), ("pgbouncer", True), ("PgBouncer", True)],
)
def test_pgbouncer_turns_server_side_cursors_off(monkeypatch, pooler, server_side_cursors_disabled):
    variables = {} if pooler is None else {"DATABASE_POOLER": pooler}
    databases, replicas = _settings(monkeypatch, **variables)
    assert databases["default"]["DISABLE_SERVER_SIDE_CURSORS"] is server_side_cursors_disabled
    assert databases["default"]["NAME"] == "salon" and replicas == []


def test_an_unknown_pooler_is_refused(monkeypatch):
    with pytest.raises(ImproperlyConfigured, match="DATABASE_POOLER"):
        _settings(monkeypatch, DATABASE_POOLER="pgpool")


def test_server_side_binding_is_refused_behind_pgbouncer_and_allowed_without(monkeypatch):
    url = f"{PRIMARY}?server_side_binding=true"
    with pytest.raises(ImproperlyConfigured, match="server_side_binding"):
        _settings(monkeypatch, DATABASE_URL=url, DATABASE_POOLER="pgbouncer")
    databases, _ = _settings(monkeypatch, DATABASE_URL=url)
    assert databases["default"]["OPTIONS"]["server_side_binding"] == "true"


def test_each_replica_url_is_an_alias_that_tests_see_as_a_mirror_of_the_primary(monkeypatch):
    databases, replicas = _settings(
        monkeypatch,
        DATABASE_REPLICA_URLS="postgres://app@replica-a:5432/salon, ,postgres://app@replica-b/salon",
        DATABASE_POOLER="pgbouncer",
    )
    assert replicas == ["replica_1", "replica_2"]
    assert [databases[alias]["HOST"] for alias in replicas] == ["replica-a", "replica-b"]
    for alias in replicas:
        assert databases[alias]["TEST"] == {"MIRROR": "default"}
        assert databases[alias]["DISABLE_SERVER_SIDE_CURSORS"] is True
        assert databases[alias]["CONN_HEALTH_CHECKS"] is True


def test_ci_runs_part_of_the_suite_through_pgbouncer_and_against_a_streaming_replica():
    root = Path(__file__).resolve().parents[2]
    steps = [line.strip() for line in (root / ".ci/run").read_text().splitlines()]
    assert any(step.startswith("make test-pgbouncer ARGS=") for step in steps)
    assert "make test-replica" in steps
    for script in ("scripts/pgbouncer_suite.sh", "scripts/replica_suite.sh"):
        subprocess.run(["bash", "-n", str(root / script)], check=True)  # parses
