"""Who the client is: the address and scheme the edge saw, believed from ``TRUSTED_PROXIES``
alone (README, "Rate limit of the message board"). A host name among them is looked up
again for an unknown peer, at most every ``RESOLVE_INTERVAL_SECONDS``.
"""

from __future__ import annotations

import ipaddress
import math
import socket
import time
from collections.abc import Callable
from typing import Any

from werkzeug.middleware.proxy_fix import ProxyFix

from service_runtime.settings import Setting, string_list

TRUSTED_PROXIES = Setting(
    "TRUSTED_PROXIES",
    string_list,
    (),
    "proxies whose X-Forwarded-For and X-Forwarded-Proto are believed (comma-separated "
    "addresses, networks or host names, e.g. the edge's service name); by default nobody's",
)
RESOLVE_INTERVAL_SECONDS = 1.0

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def addresses_of(name: str) -> set[Address]:
    """Every address ``name`` resolves to now (none when it does not resolve)."""
    try:
        found = socket.getaddrinfo(name, None, proto=socket.IPPROTO_TCP)
    except OSError:
        return set()
    return {ipaddress.ip_address(info[4][0]) for info in found}


class TrustedProxies:
    def __init__(
        self,
        entries: tuple[str, ...],
        resolve: Callable[[str], set[Address]] = addresses_of,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.networks: list[Network] = []
        self.names: list[str] = []  # looked up
        for entry in entries:
            try:
                self.networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                self.names.append(entry)
        self.resolve, self.clock = resolve, clock
        self.resolved: set[Address] = set()
        self.next_lookup = -math.inf

    def trust(self, peer: str) -> bool:
        try:
            address = ipaddress.ip_address(peer)
        except ValueError:
            return False
        if self.names and address not in self.resolved and self.clock() >= self.next_lookup:
            self.resolved = set().union(*map(self.resolve, self.names))
            self.next_lookup = self.clock() + RESOLVE_INTERVAL_SECONDS
        return address in self.resolved or any(address in net for net in self.networks)


class BehindTrustedProxies:
    """WSGI middleware: ``ProxyFix`` for a request from a trusted proxy, else nothing."""

    def __init__(self, app: Any, proxies: TrustedProxies) -> None:
        self.app = app
        self.forwarded = ProxyFix(app, x_for=1, x_proto=1)
        self.proxies = proxies

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        forwarded = "HTTP_X_FORWARDED_FOR" in environ and self.proxies.trust(
            environ.get("REMOTE_ADDR", "")
        )
        return (self.forwarded if forwarded else self.app)(environ, start_response)
