"""``rpc``: nameko's RPC entrypoint with the project's error policy built in.

* Every ``contracts.errors.ServiceError`` is expected: logged as a warning, not a crash.
* A storage failure reaches the caller as its typed error (``store.storage_error``, 503
  at the gateway), not an opaque remote ``ConnectionError`` (a 500).
* A call whose broker connection was lost while it ran ends quietly: the broker requeues
  its message. (Nameko 2.14 ignores only amqp's ``ConnectionError`` there; a socket error
  killed the container, which then consumed nothing after a broker restart.)

Arguments are checked by ``signature_check``; replies published as ``publishing`` says.
"""

from __future__ import annotations

import logging
from typing import Any

from nameko.rpc import Rpc

from contracts.errors import ServiceError
from service_runtime.publishing import ExcInfo, ServiceRpcConsumer
from service_runtime.rpc import BROKER_UNREACHABLE
from service_runtime.signature_check import SignatureCheckedOnce
from service_runtime.store import storage_error

log = logging.getLogger(__name__)


class ServiceRpc(SignatureCheckedOnce, Rpc):
    rpc_consumer = ServiceRpcConsumer()

    def __init__(
        self, expected_exceptions: tuple[type[Exception], ...] = (), **kwargs: Any
    ) -> None:
        super().__init__(expected_exceptions=(ServiceError, *expected_exceptions), **kwargs)

    def handle_result(
        self, message: Any, worker_ctx: Any, result: Any, exc_info: ExcInfo | None
    ) -> tuple[Any, ExcInfo | None]:
        if exc_info is not None:
            storage = f"{self.container.service_name}: storage"
            if (typed := storage_error(exc_info[1], storage)) is not None:
                exc_info = (type(typed), typed, exc_info[2])
        try:
            return super().handle_result(message, worker_ctx, result, exc_info)
        except BROKER_UNREACHABLE as lost:
            log.warning("%s: connection lost before the reply (%s); redelivered", worker_ctx, lost)
            return result, exc_info


rpc = ServiceRpc.decorator
