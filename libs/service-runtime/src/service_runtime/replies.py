"""RPC replies: published transient and unconfirmed, received without acknowledgement.

nameko publishes every RPC reply as a persistent message with a publisher confirm. A
reply is only worth anything while its caller waits (at most ``RPC_TIMEOUT_SECONDS``),
so by default (``RPC_PERSISTENT_MESSAGES`` off) replies are transient and unconfirmed,
and requests transient (``service_runtime.rpc``). What that changes: a RabbitMQ
*restart* drops the calls in flight (their callers get 504 within the timeout, as they
would if the broker were down) instead of replaying requests after their callers gave
up. What it does not: the RPC queues stay durable, a request whose consumer dies
before acknowledging it is still redelivered to another instance (acks, not
persistence, decide that), and requests keep their confirm, which is how "no instance
of that service" becomes a fast 503. Events keep nameko's persistent, confirmed
publishing.

A reply queue has exactly one consumer, the process waiting for its replies: an
acknowledgement could only ever hand a reply back to that same process, so replies are
taken without one, and handed to their waiting caller on the consumer's own green
thread (nameko acknowledged each, from a green thread spawned for it).

Deviations from nameko's public API (A/B: benchmarks/README.md, our stack against our
stack without the one override, cold reads; CPU is the services' per request):

| override | replaces | why | bought |
|---|---|---|---|
| `ServiceRpcConsumer.handle_result` | nameko's, re-written | reply publisher | (measuring) |
| `ReplyConsumer.get_consumers` | nameko's, copied: no ack, no qos | unacked replies | (measuring) |
| `ReplyConsumer.handle_message` | nameko's thread per message | inline hand-over | (measuring) |
| `UnacknowledgedReplies.handle_message` | no ack; `_reply_events` | likewise | (tbd) |
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial
from types import TracebackType
from typing import Any

from nameko.constants import (
    AMQP_SSL_CONFIG_KEY,
    AMQP_URI_CONFIG_KEY,
    DEFAULT_SERIALIZER,
    LOGIN_METHOD_CONFIG_KEY,
    NON_PERSISTENT,
    PERSISTENT,
    SERIALIZER_CONFIG_KEY,
)
from nameko.messaging import QueueConsumer
from nameko.rpc import ReplyListener, Responder, RpcConsumer, get_rpc_exchange

from service_runtime.publishing import PooledPublisher
from service_runtime.settings import Setting, boolean

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]

RPC_PERSISTENT_MESSAGES = Setting(
    "RPC_PERSISTENT_MESSAGES",
    boolean,
    False,
    "persistent RPC requests and confirmed replies (nameko's defaults); off: transient",
)


def publish_options(persistent: bool) -> dict[str, Any]:
    """Publisher options of an RPC reply; a request takes its ``delivery_mode``."""
    if persistent:
        return {"delivery_mode": PERSISTENT, "use_confirms": True}
    return {"delivery_mode": NON_PERSISTENT, "use_confirms": False}


class ServiceRpcConsumer(RpcConsumer):
    """nameko's ``RpcConsumer`` whose replies carry the options above, settings read once."""

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
        responder = Responder(message=message, **self.reply_args)
        responder.publisher_cls = self.publisher_cls
        result, exc_info = responder.send_response(result, exc_info)
        self.queue_consumer.ack_message(message)
        return result, exc_info


class ReplyConsumer(QueueConsumer):
    """nameko's consumer, taking messages without acknowledgement, each handled as it
    arrives (replies only)."""

    def get_consumers(self, consumer_cls: Callable[..., Any], channel: Any) -> Iterable[Any]:
        for provider in self._providers:
            self._consumers[provider] = consumer_cls(
                queues=[provider.queue],
                callbacks=[partial(self.handle_message, provider)],
                accept=self.accept,
                no_ack=True,
            )
        return self._consumers.values()

    def handle_message(self, provider: Any, body: Any, message: Any) -> None:
        # Handing a reply over never blocks: no green thread of its own needed.
        provider.handle_message(body, message)


class UnacknowledgedReplies(ReplyListener):
    """nameko's ``ReplyListener`` on a ``ReplyConsumer``."""

    queue_consumer = ReplyConsumer()

    def handle_message(self, body: Any, message: Any) -> None:
        waiting = self._reply_events.pop(message.properties.get("correlation_id"), None)
        if waiting is not None:  # None: its caller gave up (timed out) already
            waiting.send(body)
