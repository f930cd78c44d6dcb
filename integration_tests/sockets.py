"""A process's TCP sockets as the kernel sees them (``/proc``, Linux): the ports it
listens on, and the bytes its peers sent that it has not read yet.

What a process does on the network, seen from outside it: the metrics listener a
setting should (not) open, or a request RabbitMQ delivered to a frozen instance.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

LISTEN = "0A"  # the kernel's TCP state code (include/net/tcp_states.h)


@dataclass(frozen=True)
class TcpSocket:
    local_port: int
    remote_port: int
    listening: bool
    unread_bytes: int  # received, not yet read by the process (rx_queue)


def socket_inodes(pid: int) -> set[str]:
    """The inodes of the sockets among ``pid``'s open files."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except FileNotFoundError:  # closed while listed
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    return inodes


def tcp_sockets(pid: int) -> list[TcpSocket]:
    """Every TCP socket (IPv4 and IPv6) process ``pid`` holds open."""
    inodes = socket_inodes(pid)
    found = []
    for table in ("tcp", "tcp6"):
        lines = Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]
        for line in lines:
            # sl local_address rem_address st tx_queue:rx_queue tr:when retrnsmt uid timeout inode
            fields = line.split()
            if fields[9] not in inodes:
                continue
            found.append(
                TcpSocket(
                    local_port=int(fields[1].rsplit(":", 1)[1], 16),
                    remote_port=int(fields[2].rsplit(":", 1)[1], 16),
                    listening=fields[3] == LISTEN,
                    unread_bytes=int(fields[4].split(":")[1], 16),
                )
            )
    return found


def listening_ports(pid: int) -> set[int]:
    return {s.local_port for s in tcp_sockets(pid) if s.listening}


def unread_bytes_from(pid: int, remote_port: int) -> int:
    """What peers on ``remote_port`` sent ``pid`` that it has not read yet."""
    return sum(s.unread_bytes for s in tcp_sockets(pid) if s.remote_port == remote_port)
