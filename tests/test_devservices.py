"""scripts/devservices.py (`make run`): the dev stack listens where PORT, WEB_HOST, FLOWER_PORT and
FLOWER_ADDRESS say and its start-up line prints those URLs. scripts/smoke_run.sh runs it for real on other
ports than the defaults."""

import importlib.util
import sys
from collections import OrderedDict
from pathlib import Path

import pytest
from honcho.environ import expand_processes, parse_procfile

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("devservices", ROOT / "scripts" / "devservices.py")
devservices = importlib.util.module_from_spec(spec)
sys.modules["devservices"] = devservices
spec.loader.exec_module(devservices)


def test_the_defaults_are_the_readmes():
    env = dict(devservices.DEV_DEFAULTS)
    assert devservices.urls(env) == ("http://127.0.0.1:8000", "http://127.0.0.1:5555")
    assert env["FLOWER_BASIC_AUTH"] == "ops:ops"


def test_the_printed_urls_follow_the_variables():
    env = {**devservices.DEV_DEFAULTS, "PORT": "9100", "FLOWER_PORT": "9555", "FLOWER_ADDRESS": "0.0.0.0"}  # noqa: S104
    assert devservices.urls(env) == ("http://127.0.0.1:9100", "http://127.0.0.1:9555")
    env["WEB_HOST"] = "192.168.1.5"
    assert devservices.urls(env)[0] == "http://192.168.1.5:9100"


def test_gunicorn_gets_port_and_flower_gets_flower_port():
    """honcho hands each process type a PORT counted from its -p; the web process must get PORT itself."""
    command = devservices.honcho_command({"PORT": "9100"})
    assert command[command.index("-p") + 1] == "9100"
    processes = command[command.index("-p") + 2 :]
    assert processes[0] == "web"
    procfile = parse_procfile((ROOT / "Procfile").read_text())
    ordered = OrderedDict((name, procfile.processes[name]) for name in processes)
    started = {params.name: params for params in expand_processes(ordered, port=9100)}
    assert started["web.1"].env["PORT"] == "9100"
    assert ":${PORT:-8000}" in started["web.1"].cmd
    assert "--port=${FLOWER_PORT:-5555}" in started["flower.1"].cmd


def test_a_port_that_is_no_number_stops_at_once():
    with pytest.raises(SystemExit, match="PORT must be a port number"):
        devservices.honcho_command({"PORT": "eighty"})
