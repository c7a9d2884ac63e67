"""The pure helpers of scripts/scale.py (`make scale`): HAProxy's log, the fault windows' 5xx share and the
configurations it writes. Not a run of the rehearsal (that needs root, apt and minutes: docs/scaling.md)."""

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _load_script():
    if str(ROOT / "scripts") not in sys.path:
        sys.path.insert(0, str(ROOT / "scripts"))
    spec = importlib.util.spec_from_file_location("scale", ROOT / "scripts" / "scale.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["scale"] = module
    spec.loader.exec_module(module)
    return module


scale = _load_script()


def test_haproxys_lines_are_read_and_anything_else_skipped():
    lines = [
        "[NOTICE]   (1) : New worker (7) forked",
        "1764691200.123 201 45 45 POST /api/v1/bookings/",
        "1764691201.5 503 2001 5001 GET /api/v1/salons/1/",
        "1764691202.000 -1 12 12 GET /health/",
    ]
    hits = scale.parse_haproxy_log(lines)
    assert hits[:2] == [
        scale.Hit(1764691200.123, 201, 45.0, 45.0),
        scale.Hit(1764691201.5, 503, 2001.0, 5001.0),
    ]
    assert hits[1].answered == 1764691206.501  # a kept-alive connection: 3 s idle before the request
    assert hits[2].status == -1 and len(hits) == 3


def test_a_windows_5xx_share_counts_only_the_requests_inside_it():
    hits = [
        scale.Hit(at, status, 0.0) for at, status in [(9, 500), (10, 200), (11, 502), (12, 200), (20, 500)]
    ]
    assert scale.Window("web", 10, 12).share_5xx(hits) == "33.3% (1 of 3)"
    assert scale.Window("beat", 13, 19).share_5xx(hits) == "no requests"
    slow = [scale.Hit(8.5, 503, 1000.0, 2000.0)]  # accepted before the window, answered inside it
    assert scale.Window("redis", 10, 12).share_5xx(slow) == "100.0% (1 of 1)"


def test_the_configurations_name_every_process_and_port():
    haproxy = scale.haproxy_config(port=8100, web_ports=[8101, 8102])
    assert "bind 127.0.0.1:8100" in haproxy and "retry-on conn-failure" in haproxy
    assert "http-check expect rstatus ^(200|503)$" in haproxy
    assert "server web1 127.0.0.1:8101 check" in haproxy and "server web2 127.0.0.1:8102 check" in haproxy
    assert scale.HAPROXY_LOG_FORMAT in haproxy
    bouncer = scale.pgbouncer_config(port=6500, primary_port=5500, auth_file=Path("/x/users.txt"))
    assert "pool_mode = transaction" in bouncer and "* = host=127.0.0.1 port=5500" in bouncer
    assert (
        scale.sentinel_url([1, 2, 3])
        == "sentinel://127.0.0.1:1;sentinel://127.0.0.1:2;sentinel://127.0.0.1:3/0"
    )
