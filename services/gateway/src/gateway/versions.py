"""Calling the newest version of an RPC method during a rolling deploy.

An instance of an older release on the same queue answers a method it predates
with nameko's ``MethodNotFound``. ``call_newest`` then makes the older call,
which every release serves, and converts its answer into the newer result, so
the route answers the same either way. The fallback (and with it the gateway's
use of the older method) goes once no such release runs anywhere:
contracts/README.md.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from nameko.exceptions import MethodNotFound

from contracts.interface import RpcMethod
from service_runtime.rpc import TimedServiceProxy

log = logging.getLogger(__name__)

ResultT = TypeVar("ResultT")


def call_newest(
    proxy: TimedServiceProxy,
    newer: RpcMethod,
    older: RpcMethod,
    args: tuple[Any, ...],
    upgrade: Callable[[Any], ResultT],
) -> ResultT:
    """``newer(*args)``, or ``upgrade(older(*args))`` when an instance without ``newer`` answers."""
    try:
        return getattr(proxy, newer.name)(*args)
    except MethodNotFound:
        log.info(
            "%s: an instance without %s answered; using v%d %s",
            newer.service,
            newer.name,
            older.version,
            older.name,
        )
        return upgrade(getattr(proxy, older.name)(*args))
