"""``rpc``: nameko's RPC entrypoint with the project's error policy built in.

* Every ``contracts.errors.ServiceError`` is expected: nameko logs it as a
  warning, not as a crash.
* A storage outage (Redis refusing or timing out) reaches the caller as the typed
  ``ServiceUnavailable`` (503 at the gateway) instead of an opaque remote
  ``ConnectionError`` that the gateway could only report as a 500.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

import redis
from nameko.rpc import Rpc

from contracts.errors import ServiceError, ServiceUnavailable

STORAGE_OUTAGES = (redis.ConnectionError, redis.TimeoutError)
ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


class ServiceRpc(Rpc):
    def __init__(
        self, expected_exceptions: tuple[type[Exception], ...] = (), **kwargs: Any
    ) -> None:
        super().__init__(expected_exceptions=(ServiceError, *expected_exceptions), **kwargs)

    def handle_result(
        self, message: Any, worker_ctx: Any, result: Any, exc_info: ExcInfo | None
    ) -> tuple[Any, ExcInfo | None]:
        if exc_info is not None and isinstance(exc_info[1], STORAGE_OUTAGES):
            error = ServiceUnavailable(f"{self.container.service_name}: storage unavailable")
            exc_info = (ServiceUnavailable, error, exc_info[2])
        return super().handle_result(message, worker_ctx, result, exc_info)


rpc = ServiceRpc.decorator
