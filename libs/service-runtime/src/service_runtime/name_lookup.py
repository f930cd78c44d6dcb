"""Name lookups off the eventlet hub: a name that stops resolving never freezes a process.

The images and the devstack run without eventlet's green resolver
(``EVENTLET_NO_GREENDNS=yes``, which saves dnspython's 7 MB per process; see
services/base.Dockerfile), so ``socket.getaddrinfo`` is the C library's: it blocks the
calling OS thread, and under eventlet that is the whole process. After a machine
loss, each lookup of a vanished name (``rabbitmq``, a Redis) waited ~10 s for a DNS
server that no longer answered, and no request, ``/health`` included, was served
meanwhile (issue 24 item 7).

``resolve_names_off_the_hub`` makes the socket module's lookups run the system
resolver in eventlet's native thread pool (``eventlet.tpool``, its public API for
blocking calls): a slow lookup only waits its own green thread, and lookups keep
the system resolver's behaviour (``/etc/hosts``, ``nsswitch.conf``, search domains).
"""

from __future__ import annotations

import functools
import socket
from types import ModuleType

from eventlet import patcher, tpool
from eventlet.green import socket as green_socket

LOOKUPS = ("getaddrinfo", "gethostbyname", "gethostbyname_ex", "getnameinfo")


def resolve_names_off_the_hub(system_socket: ModuleType | None = None) -> None:
    """After ``eventlet.monkey_patch()``: every name lookup through ``socket`` (and
    eventlet's green ``create_connection``) runs ``system_socket``'s blocking lookup
    (default: the unpatched socket module's) in eventlet's thread pool."""
    system_socket = system_socket or patcher.original("socket")
    for name in LOOKUPS:
        lookup = functools.partial(tpool.execute, getattr(system_socket, name))
        setattr(socket, name, lookup)
        # eventlet's create_connection (socket.create_connection once patched) calls
        # its own module's getaddrinfo.
        setattr(green_socket, name, lookup)
