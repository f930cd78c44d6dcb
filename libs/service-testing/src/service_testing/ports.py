"""Loopback ports for the test web servers and containers: never a fixed one, other runs
share the machine."""

from __future__ import annotations

import random
import socket
from pathlib import Path

# Below the kernel's ephemeral range, where it picks the local port of every outgoing
# connection: a port chosen there could be taken by some connection between this check
# and its use (a container's published port once failed so: "address already in use").
LOWEST = 10_000
ATTEMPTS = 100


def ephemeral_start() -> int:
    """The first port of the kernel's ephemeral range (Linux; its default elsewhere)."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now, and that no outgoing
    connection will be given meanwhile."""
    for port in random.sample(range(LOWEST, ephemeral_start()), ATTEMPTS):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port below {ephemeral_start()} after {ATTEMPTS} tries")
