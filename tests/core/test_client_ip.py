"""The client address: the socket's by default, X-Forwarded-For only behind configured proxies."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory

from backend.core.client_ip import UNKNOWN, client_address, client_ip, network_of, parse_address

factory = RequestFactory()


def request(remote: str = "198.51.100.7", forwarded: str | None = None):
    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    return factory.get("/", REMOTE_ADDR=remote, **extra)


def test_without_proxy_settings_the_header_is_ignored(settings):
    settings.API_NUM_PROXIES = None
    settings.API_TRUSTED_PROXIES = []
    assert client_ip(request(forwarded="203.0.113.9")) == "198.51.100.7"
    assert client_ip(request(forwarded="203.0.113.9, 10.0.0.1")) == "198.51.100.7"


def test_num_proxies_takes_the_nth_hop_from_the_right(settings):
    settings.API_NUM_PROXIES = 1
    assert client_ip(request("10.0.0.1", "1.1.1.1, 203.0.113.9")) == "203.0.113.9"  # 1.1.1.1: client-written
    assert client_ip(request("10.0.0.1")) == "10.0.0.1"  # reached directly: the socket
    settings.API_NUM_PROXIES = 2
    assert client_ip(request("10.0.0.1", "1.1.1.1, 203.0.113.9, 10.0.0.2")) == "203.0.113.9"
    assert client_ip(request("10.0.0.1", "203.0.113.9")) == "203.0.113.9"  # fewer hops: the leftmost


def test_trusted_networks_walk_from_the_right_past_trusted_hops(settings):
    settings.API_TRUSTED_PROXIES = ["10.0.0.0/8", "2001:db8:ffff::/48"]
    assert client_ip(request("10.0.0.1", "1.1.1.1, 203.0.113.9, 10.1.2.3")) == "203.0.113.9"
    assert client_ip(request("2001:db8:ffff::1", "203.0.113.9")) == "203.0.113.9"
    # An untrusted peer's header is its own words.
    assert client_ip(request("198.51.100.7", "203.0.113.9")) == "198.51.100.7"
    # Every hop trusted: the leftmost one.
    assert client_ip(request("10.0.0.1", "10.0.0.2, 10.0.0.3")) == "10.0.0.2"
    # A malformed hop stops the walk at the last address we could trust.
    assert client_ip(request("10.0.0.1", "203.0.113.9, garbage, 10.0.0.3")) == "10.0.0.3"


def test_garbage_and_huge_values_never_become_an_address(settings):
    settings.API_NUM_PROXIES = 1
    assert client_address(request("10.0.0.1", "x" * 8192)) is None
    assert client_ip(request("10.0.0.1", "9" * 8192)) == UNKNOWN
    assert client_ip(request("10.0.0.1", "1.2.3.4" * 2000)) == UNKNOWN
    assert client_ip(request("not an address")) == UNKNOWN
    many = ", ".join(["10.0.0.9"] * 10_000 + ["203.0.113.9"])
    assert client_ip(request("10.0.0.1", many)) == "203.0.113.9"


@pytest.mark.parametrize(
    ("written", "parsed"),
    [
        ("203.0.113.9:5678", "203.0.113.9"),
        ("[2001:db8::1]:443", "2001:db8::1"),
        ("[2001:db8::1]", "2001:db8::1"),
        (" 2001:DB8::1 ", "2001:db8::1"),
        ("::ffff:203.0.113.9", "203.0.113.9"),
        ("203.0.113.256", None),
        ("", None),
    ],
)
def test_parse_address(written, parsed):
    address = parse_address(written)
    assert (str(address) if address else None) == parsed


def test_networks_are_24s_and_64s():
    assert network_of("203.0.113.77") == "203.0.113.0/24"
    assert network_of("2001:db8:1:2:3:4:5:6") == "2001:db8:1:2::/64"
    assert network_of(UNKNOWN) == UNKNOWN


def test_settings_refuse_both_proxy_settings_and_bad_networks(monkeypatch):
    import importlib

    import config.settings

    monkeypatch.setenv("API_NUM_PROXIES", "1")
    monkeypatch.setenv("API_TRUSTED_PROXIES", "10.0.0.0/8")
    with pytest.raises(ImproperlyConfigured, match="not both"):
        importlib.reload(config.settings)
    monkeypatch.delenv("API_NUM_PROXIES")
    monkeypatch.setenv("API_TRUSTED_PROXIES", "10.0.0.0/8,nonsense")
    with pytest.raises(ImproperlyConfigured, match="nonsense"):
        importlib.reload(config.settings)
    monkeypatch.setenv("API_TRUSTED_PROXIES", " 10.0.0.0/8, 2001:db8::/32 ,")
    assert importlib.reload(config.settings).API_TRUSTED_PROXIES == ["10.0.0.0/8", "2001:db8::/32"]
    monkeypatch.delenv("API_TRUSTED_PROXIES")
    monkeypatch.setenv("API_NUM_PROXIES", "-1")
    with pytest.raises(ImproperlyConfigured, match="0 or more"):
        importlib.reload(config.settings)
    monkeypatch.delenv("API_NUM_PROXIES")
    importlib.reload(config.settings)
