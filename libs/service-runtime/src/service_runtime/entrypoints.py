"""nameko's entrypoints with the project's policies: ``rpc``, and the signature check
every entrypoint here (``rpc``, the gateway's ``@http``) makes.

* Every ``contracts.errors.ServiceError`` is expected: logged as a warning, not a crash.
* A storage failure reaches the caller as its typed error (``store.storage_error``, 503
  at the gateway), not an opaque remote ``ConnectionError`` (a 500).
* A call whose broker connection was lost while it ran ends quietly: the broker requeues
  its message. (Nameko 2.14 ignores only amqp's ``ConnectionError`` there; a socket error
  killed the container, which then consumed nothing after a broker restart.)
* A call's arguments are checked against the method's signature worked out once: nameko
  rebuilds it on every call (``inspect.getcallargs``), 7 % of the gateway's CPU under load.

Replies are published as ``service_runtime.publishing`` says.
"""

from __future__ import annotations

import inspect
import logging
from functools import cached_property
from typing import Any

from nameko.exceptions import IncorrectSignature
from nameko.rpc import Rpc

from contracts.errors import ServiceError
from service_runtime.publishing import ExcInfo, ServiceRpcConsumer
from service_runtime.rpc import BROKER_UNREACHABLE
from service_runtime.store import storage_error

log = logging.getLogger(__name__)


class SignatureCheckedOnce:
    """Mixin for a nameko ``Entrypoint``: ``check_signature`` against a cached signature."""

    container: Any
    method_name: str

    @cached_property
    def method_signature(self) -> inspect.Signature:
        # nameko checks against the unbound function, ``self`` included.
        return inspect.signature(getattr(self.container.service_cls, self.method_name))

    def check_signature(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        try:
            self.method_signature.bind(None, *args, **kwargs)
        except TypeError as exc:
            raise IncorrectSignature(str(exc)) from None


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
