"""``rpc``: nameko's RPC entrypoint with the project's error policy built in.

* The typed errors of ``contracts.errors`` are expected: nameko logs them as
  warnings, not as crashes.
* A storage outage (Redis refusing or timing out) reaches the caller as the typed
  ``ServiceUnavailable`` (503 at the gateway) instead of an opaque remote
  ``ConnectionError`` that the gateway could only report as a 500.
* A call whose broker connection was lost while it ran ends quietly: the broker
  has already requeued its message for another delivery, so failing to reply or
  acknowledge on the dead connection is expected. (Nameko 2.14 ignores only
  amqp's own ``ConnectionError`` there; a socket error escaped and killed the
  whole container, leaving a process that consumed nothing after a broker restart.)
"""

from __future__ import annotations

import logging
from types import TracebackType
from typing import Any

import redis
from nameko.rpc import Rpc

from contracts.errors import EXPECTED_ERRORS, ServiceUnavailable
from service_runtime.rpc import BROKER_UNREACHABLE

log = logging.getLogger(__name__)

STORAGE_OUTAGES = (redis.ConnectionError, redis.TimeoutError)
ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


class ServiceRpc(Rpc):
    def __init__(
        self, expected_exceptions: tuple[type[Exception], ...] = (), **kwargs: Any
    ) -> None:
        super().__init__(expected_exceptions=EXPECTED_ERRORS + tuple(expected_exceptions), **kwargs)

    def handle_result(
        self, message: Any, worker_ctx: Any, result: Any, exc_info: ExcInfo | None
    ) -> tuple[Any, ExcInfo | None]:
        if exc_info is not None and isinstance(exc_info[1], STORAGE_OUTAGES):
            error = ServiceUnavailable(f"{self.container.service_name}: storage unavailable")
            exc_info = (ServiceUnavailable, error, exc_info[2])
        try:
            return super().handle_result(message, worker_ctx, result, exc_info)
        except BROKER_UNREACHABLE as lost:
            log.warning("%s: connection lost before the reply (%s); redelivered", worker_ctx, lost)
            return result, exc_info


rpc = ServiceRpc.decorator
