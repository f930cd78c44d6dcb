"""Name lookups off the eventlet hub: a name that stops resolving never freezes a process.

Without eventlet's green resolver (``EVENTLET_NO_GREENDNS=yes``: services/base.Dockerfile)
``socket.getaddrinfo`` blocks the whole process; the system resolver (``/etc/hosts``,
``nsswitch.conf`` and search domains kept) runs in eventlet's thread pool instead.
"""

from __future__ import annotations

import functools
import socket
from collections.abc import Callable
from types import ModuleType
from typing import Any

import eventlet
from eventlet import patcher, tpool
from eventlet.green import socket as green_socket

LOOKUPS = ("getaddrinfo", "gethostbyname", "gethostbyname_ex", "getnameinfo")
# A lost node's names took 20 s to fail, past an RPC's bound. Well above a healthy lookup
# (Docker's DNS answers at once), below the connect bounds of the clients looking (5 s).
LOOKUP_TIMEOUT_SECONDS = 3.0


def bounded_lookup(lookup: Callable[..., Any], timeout: float, *args: Any, **kwargs: Any) -> Any:
    """``lookup(*args, **kwargs)`` in the thread pool, given up after ``timeout`` seconds
    (the pool's thread finishes it in the background)."""
    gave_up = socket.gaierror(socket.EAI_AGAIN, f"name lookup gave up after {timeout:g} s")
    with eventlet.Timeout(timeout, gave_up):
        return tpool.execute(lookup, *args, **kwargs)


def resolve_names_off_the_hub(
    system_socket: ModuleType | None = None, timeout: float = LOOKUP_TIMEOUT_SECONDS
) -> None:
    """After ``eventlet.monkey_patch()``: every name lookup through ``socket`` (and
    eventlet's green ``create_connection``) runs ``system_socket``'s blocking lookup
    (default: the unpatched socket module's) in eventlet's thread pool, bounded by
    ``timeout``."""
    system_socket = system_socket or patcher.original("socket")
    for name in LOOKUPS:
        lookup = functools.partial(bounded_lookup, getattr(system_socket, name), timeout)
        setattr(socket, name, lookup)
        # eventlet's create_connection (socket.create_connection once patched) calls
        # its own module's getaddrinfo.
        setattr(green_socket, name, lookup)
