"""What the access log may say about a client: its address, and text made safe to print.

``X-Forwarded-For`` is whatever the client wrote unless a proxy we run appended to
it, so it is read only when the connection comes from a ``TRUSTED_PROXIES`` address,
and then from the right: the first address that is not one of our proxies is the
client. Every string from the request is logged with control characters escaped,
so a path or header cannot forge log lines or drive an operator's terminal.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from service_runtime.settings import Setting, string_list

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def networks(raw: Any) -> tuple[Network, ...]:
    """``10.0.0.0/8, 127.0.0.1``: networks or single addresses."""
    return tuple(ipaddress.ip_network(item, strict=False) for item in string_list(raw))


TRUSTED_PROXIES = Setting(
    "TRUSTED_PROXIES",
    networks,
    (),
    "addresses of reverse proxies whose X-Forwarded-For is believed (comma-separated "
    "addresses or networks); by default nobody's",
)

# C0 controls, DEL and C1 controls as \xNN; a backslash is doubled so an escape
# in the log always means the client sent that byte.
ESCAPES = {code: f"\\x{code:02x}" for code in (*range(0x20), *range(0x7F, 0xA0))}
ESCAPES[ord("\\")] = "\\\\"


def escape(text: str) -> str:
    return text.translate(ESCAPES)


def is_trusted(address: str, trusted: tuple[Network, ...]) -> bool:
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(parsed in network for network in trusted)


def client_address(peer: str, forwarded_for: str, trusted: tuple[Network, ...]) -> str:
    """The client's address: the peer, or what trusted proxies say the peer was forwarding."""
    if not forwarded_for or not is_trusted(peer, trusted):
        return peer
    client = peer
    for hop in reversed(forwarded_for.split(",")):
        try:
            client = str(ipaddress.ip_address(hop.strip()))
        except ValueError:
            break  # written by someone we do not trust; keep the last good hop
        if not is_trusted(client, trusted):
            break
    return client
