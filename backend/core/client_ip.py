"""The one place that decides a request's client address: throttles, OTP send limits, the audit trail and
the log lines all ask `client_address` (README "Security").

By default the client is the socket's peer (REMOTE_ADDR): any `X-Forwarded-For` is the client's own words.
Behind proxies, one of two settings says which hop to believe:
- API_NUM_PROXIES=N: N proxies each append the address they saw, so the client is the N-th entry from the
  right (as DRF reads it); what the client wrote itself lies further left and is never read.
- API_TRUSTED_PROXIES (CIDRs): when the peer is a trusted proxy, walk the header from the right, skipping
  trusted hops; the first untrusted one is the client. A malformed hop stops the walk at the last hop we
  could trust, so garbage never becomes a client address.

Addresses are parsed with `ipaddress`: a value that is not an address never leaves this module (an 8 KB
header cannot become a key), IPv4-mapped IPv6 addresses become IPv4, and a port (`1.2.3.4:5678`,
`[2001:db8::1]:443`, as some load balancers write) is dropped. At most MAX_HOPS entries are examined."""

import functools
import ipaddress

from django.conf import settings
from django.http import HttpRequest

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

UNKNOWN = "unknown"  # the identifier of requests without a usable socket address (all share it)
MAX_HOPS = 20  # entries of X-Forwarded-For examined, from the right
IPV4_NETWORK_PREFIX = 24
IPV6_NETWORK_PREFIX = 64  # one subscriber's allocation: its 2**64 addresses are one client to the limits


def parse_address(value: str) -> IPAddress | None:
    """`value` as an address (port and brackets dropped, IPv4-mapped IPv6 unwrapped), or None."""
    value = value.strip()
    if len(value) > 64:  # the longest written IPv6 address with a port is well under this
        return None
    if value.startswith("["):  # [v6] or [v6]:port
        value = value[1:].partition("]")[0]
    elif value.count(":") == 1:  # v4:port (a bare IPv6 address has at least two colons)
        value = value.partition(":")[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


@functools.lru_cache(maxsize=8)
def _networks(cidrs: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(cidr, strict=False) for cidr in cidrs)


def _trusted(address: IPAddress, networks: tuple[Network, ...]) -> bool:
    return any(address in network for network in networks)


def _forwarded_hops(request: HttpRequest) -> list[str]:
    """The last MAX_HOPS entries of X-Forwarded-For, rightmost last."""
    header = request.META.get("HTTP_X_FORWARDED_FOR", "")
    return header.rsplit(",", MAX_HOPS)[-MAX_HOPS:] if header else []


def proxies_configured() -> bool:
    return bool(settings.API_NUM_PROXIES) or bool(settings.API_TRUSTED_PROXIES)


def client_address(request: HttpRequest) -> IPAddress | None:
    """The client's address after the proxy settings, or None when the socket address is unusable."""
    peer = parse_address(request.META.get("REMOTE_ADDR", ""))
    if peer is None:
        return None
    hops = _forwarded_hops(request)
    if not hops:
        return peer
    if settings.API_NUM_PROXIES:
        # DRF's reading: the N-th from the right, or the leftmost when fewer hops were written.
        return parse_address(hops[-min(settings.API_NUM_PROXIES, len(hops))])
    if settings.API_TRUSTED_PROXIES:
        networks = _networks(tuple(settings.API_TRUSTED_PROXIES))
        client = peer
        for hop in reversed(hops):
            if not _trusted(client, networks):
                break
            address = parse_address(hop)
            if address is None:
                break
            client = address
        return client
    return peer


def client_ip(request: HttpRequest) -> str:
    """`client_address` as text, UNKNOWN when there is none: the identifier of anonymous callers."""
    address = client_address(request)
    return str(address) if address is not None else UNKNOWN


def network_of(ip: str) -> str:
    """The /24 (IPv4) or /64 (IPv6) network holding `ip`, as text; UNKNOWN stays UNKNOWN."""
    address = parse_address(ip)
    if address is None:
        return UNKNOWN
    prefix = IPV4_NETWORK_PREFIX if address.version == 4 else IPV6_NETWORK_PREFIX
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def axes_client_ip(request: HttpRequest) -> str:
    """django-axes' AXES_CLIENT_IP_CALLABLE: `client_address`, or "" when there is none (a request made
    in-process, such as Django's test client's force_login), which axes' address field stores as null."""
    address = client_address(request)
    return str(address) if address is not None else ""
