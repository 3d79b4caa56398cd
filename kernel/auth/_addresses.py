"""The client address of a request, as login throttling counts it.

It is the TCP peer, unless the peer is a proxy listed in ``WEBOS_TRUSTED_PROXIES``: then it is the
last address in ``X-Forwarded-For`` that is not itself a trusted proxy (each proxy appends the
address it received from, so entries to the left of the trusted ones are whatever the client
wrote). With no trusted proxies (the default), ``X-Forwarded-For`` counts for nothing: any client
can write it, and one that could would get a fresh throttling budget per request.

The gateway's HTTP server does not rewrite the peer from these headers itself (uvicorn runs with
``proxy_headers=False``), so this is the only place they are read.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

FORWARDED_FOR = b"x-forwarded-for"


def parse_networks(values: Iterable[str]) -> tuple[Network, ...]:
    """``10.0.0.5``, ``10.0.0.0/8``, ``::1`` as networks; raise ValueError naming a bad one."""
    networks = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            raise ValueError(f"{value!r} is not an IP address or network") from None
    return tuple(networks)


def _address(text: str) -> Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _trusted(address: Address | None, proxies: tuple[Network, ...]) -> bool:
    return address is not None and any(address in network for network in proxies)


def client_address(scope: Any, proxies: tuple[Network, ...]) -> str | None:
    """The address throttling counts for this request's ``scope`` (see the module docstring)."""
    client = scope.get("client")
    peer = client[0] if client else None
    if not proxies or not _trusted(_address(peer or ""), proxies):
        return peer
    hops = [
        hop
        for key, value in scope.get("headers", ())
        if key == FORWARDED_FOR
        for hop in value.decode("latin-1").split(",")
        if hop.strip()
    ]
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            # A trusted proxy wrote garbage: no address to believe, so count the proxy itself.
            return peer
        if not _trusted(address, proxies):
            return str(address)
    return peer
