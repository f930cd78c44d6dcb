"""``rpc``: nameko's RPC entrypoint with the project's error policy built in.

* Every ``contracts.errors.ServiceError`` is expected: nameko logs it as a
  warning, not as a crash.
* A storage outage (Redis refusing or timing out) reaches the caller as the typed
  ``ServiceUnavailable`` (503 at the gateway) instead of an opaque remote
  ``ConnectionError`` that the gateway could only report as a 500.
* Replies are transient and published without a broker confirm unless
  ``RPC_PERSISTENT_MESSAGES`` is on (``service_runtime.rpc`` says what that
  changes); the reply's settings are read once at start, not on every call, and
  its producer comes from a pool found once (``service_runtime.publishing``).
* A call whose broker connection was lost while it ran ends quietly: the broker
  has already requeued its message for another delivery, so failing to reply or
  acknowledge on the dead connection is expected. (Nameko 2.14 ignores only
  amqp's own ``ConnectionError`` there; a socket error escaped and killed the
  whole container, leaving a process that consumed nothing after a broker restart.)
* A call's arguments are checked against a signature computed once
  (``service_runtime.signature_check``).
* A request is handed to its entrypoint on the consumer's own green thread
  (``InlineQueueConsumer``), which spawns its worker at once; nameko first spawned
  a green thread per message only to make that hand-over (about 80 us of a request).
"""

from __future__ import annotations

import logging
from types import TracebackType
from typing import Any

import eventlet
import redis
from nameko.constants import (
    AMQP_SSL_CONFIG_KEY,
    AMQP_URI_CONFIG_KEY,
    DEFAULT_SERIALIZER,
    LOGIN_METHOD_CONFIG_KEY,
    SERIALIZER_CONFIG_KEY,
)
from nameko.messaging import QueueConsumer
from nameko.rpc import Responder, Rpc, RpcConsumer, get_rpc_exchange

from contracts.errors import ServiceError, ServiceUnavailable
from service_runtime.publishing import PooledPublisher
from service_runtime.rpc import BROKER_UNREACHABLE, RPC_PERSISTENT_MESSAGES, publish_options
from service_runtime.signature_check import SignatureCheckedOnce

log = logging.getLogger(__name__)

STORAGE_OUTAGES = (redis.ConnectionError, redis.TimeoutError)
ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


class InlineQueueConsumer(QueueConsumer):
    """nameko's ``QueueConsumer``, handing each message over on its own green thread.

    The hand-over only looks the entrypoint up and spawns the worker. Spawning waits
    for a free worker only in the moment between a worker acknowledging its message
    (which lets the broker deliver the next, prefetch being ``max_workers``) and its
    thread ending; the worker's end never waits for this thread, so neither can block.
    """

    def handle_message(self, provider: Any, body: Any, message: Any) -> None:
        provider.handle_message(body, message)
        eventlet.sleep(0)  # the worker starts before this thread reads on


class ServiceRpcConsumer(RpcConsumer):
    """nameko's ``RpcConsumer`` whose replies carry the project's publish options,
    fed by the ``InlineQueueConsumer``."""

    queue_consumer = InlineQueueConsumer()

    def setup(self) -> None:
        super().setup()
        config = self.container.config
        options = publish_options(RPC_PERSISTENT_MESSAGES.read(config))
        self.publisher_cls = type("ReplyPublisher", (PooledPublisher,), options)
        self.reply_args = {
            "amqp_uri": config[AMQP_URI_CONFIG_KEY],
            "exchange": get_rpc_exchange(config),
            "serializer": config.get(SERIALIZER_CONFIG_KEY, DEFAULT_SERIALIZER),
            "ssl": config.get(AMQP_SSL_CONFIG_KEY),
            "login_method": config.get(LOGIN_METHOD_CONFIG_KEY),
        }

    def handle_result(
        self, message: Any, result: Any, exc_info: ExcInfo | None
    ) -> tuple[Any, ExcInfo | None]:
        # nameko's, with the reply publisher above and the settings read at setup.
        responder = Responder(message=message, **self.reply_args)
        responder.publisher_cls = self.publisher_cls
        result, exc_info = responder.send_response(result, exc_info)
        self.queue_consumer.ack_message(message)
        return result, exc_info


class ServiceRpc(SignatureCheckedOnce, Rpc):
    rpc_consumer = ServiceRpcConsumer()

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
        try:
            return super().handle_result(message, worker_ctx, result, exc_info)
        except BROKER_UNREACHABLE as lost:
            log.warning("%s: connection lost before the reply (%s); redelivered", worker_ctx, lost)
            return result, exc_info


rpc = ServiceRpc.decorator
