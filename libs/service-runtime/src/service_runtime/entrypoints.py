"""``rpc``: nameko's RPC entrypoint with the project's error policy built in.

* Every ``contracts.errors.ServiceError`` is expected: nameko logs it as a
  warning, not as a crash.
* A storage failure reaches the caller as its typed error (``store.storage_error``:
  ``ServiceUnavailable`` or ``StorageFull``, 503 at the gateway) instead of an opaque
  remote ``ConnectionError`` that the gateway could only report as a 500.
* A call whose broker connection was lost while it ran ends quietly: the broker
  has already requeued its message for another delivery, so failing to reply or
  acknowledge on the dead connection is expected. (Nameko 2.14 ignores only
  amqp's own ``ConnectionError`` there; a socket error escaped and killed the
  whole container, leaving a process that consumed nothing after a broker restart.)
* A call's arguments are checked against a signature computed once
  (``service_runtime.signature_check``); its reply is published as
  ``service_runtime.publishing`` says (transient, unconfirmed, pooled).
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
