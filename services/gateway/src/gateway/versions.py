"""Calling the newest version of an RPC method during a rolling deploy.

An instance of an older release on the same queue answers a method it predates
with nameko's ``MethodNotFound``. ``call_newest`` then makes the older call,
which every release serves, and makes the newer result of its answer, so the
route answers the same either way. The fallback (and with it the gateway's
use of the older method) goes once no such release runs anywhere:
contracts/README.md.
"""

from __future__ import annotations

import logging
from typing import Any

from nameko.exceptions import MethodNotFound

from contracts.interface import RpcMethod
from service_runtime.rpc import TimedServiceProxy

log = logging.getLogger(__name__)


def call_newest(
    proxy: TimedServiceProxy, newer: RpcMethod, older: RpcMethod, fields: dict[str, Any]
) -> dict[str, Any]:
    """The record ``newer(*fields)`` answers with, or the one ``older(*fields)`` created
    when an instance without ``newer`` answers (``fields``: the arguments, by name)."""
    args = tuple(fields.values())
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
        # v1 answers with the id only; it stored the arguments it was given, which the
        # gateway validated (and trimmed) with the same contract types.
        return {"id": getattr(proxy, older.name)(*args), **fields}
