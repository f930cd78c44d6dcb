"""How RPC requests and replies are published. ``PooledPublisher`` keeps its producers per
broker and option set: for every message nameko's ``Publisher.publish`` parses the broker
URL, looks its producer pool up, binds a channel and wraps the publish in kombu's retrying
``ensure``, more CPU than the message itself; only a publish that meets a connection error
takes kombu's retry. Replies are transient and unconfirmed (``RPC_PERSISTENT_MESSAGES`` off;
requests likewise, ``service_runtime.rpc``): docs/scaling.md, "What scales how" (RabbitMQ).

What each deviation bought (``nox -s bench --only cold --against-ours``, 3 interleaved runs
of 3 rounds on a loaded machine; ours over without: req/s at 50 connections, services' CPU
per cold read at 1/50 connections; an A/A run: 0.95x; 0.99x/1.07x, rounds spread ~0.1):

| override | deviation | bought |
|---|---|---|
| `ServiceRpcConsumer.handle_result` | nameko's + reply publisher | 1.22x; CPU 0.87x/0.82x |
| `PooledPublisher.publish` | nameko's on pooled producers | replies 1.14x; 0.90x/0.91x |
| `PooledServiceProxy.__getattr__` | nameko's + `PooledMethodProxy` | requests 1.06x; 0.86x/0.91x |
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any

from kombu import Connection, Producer
from kombu.exceptions import ChannelError
from nameko.amqp.publish import Publisher, UndeliverableMessage
from nameko.constants import (
    AMQP_SSL_CONFIG_KEY,
    AMQP_URI_CONFIG_KEY,
    DEFAULT_SERIALIZER,
    LOGIN_METHOD_CONFIG_KEY,
    NON_PERSISTENT,
    PERSISTENT,
    SERIALIZER_CONFIG_KEY,
)
from nameko.rpc import MethodProxy, Responder, RpcConsumer, ServiceProxy, get_rpc_exchange

from service_runtime.connection_queues import RenamingQueueConsumer
from service_runtime.settings import Setting, boolean, one_of

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


class Producers:
    """Idle producers for one broker and option set, each on its own connection and
    channel; as many as were ever publishing at once (a worker publishes one at a time)."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection  # the template: each producer gets its own clone
        self.idle: list[Producer] = []

    @contextmanager
    def acquire(self) -> Iterator[Producer]:
        producer = self.idle.pop() if self.idle else Producer(self.connection.clone())
        try:
            yield producer
        except BaseException:
            # Its connection's state is unknown (a frame half-read): dropped without I/O, with
            # the idle ones on the same node, which may be lost. The next publish starts on the
            # next node: one cut off by its time bound never reaches kombu's own failover.
            node = producer.connection.hostname
            for dropped in [producer, *(p for p in self.idle if p.connection.hostname == node)]:
                dropped.connection.collect()
            self.idle = [p for p in self.idle if p.connection.hostname != node]
            if self.connection.hostname == node:
                self.connection.maybe_switch_next()
            raise
        self.idle.append(producer)


PoolKey = tuple[str, bool, Any, Any, str]
_pools: dict[PoolKey, Producers] = {}


def producer_pool(
    amqp_uri: str, confirms: bool, ssl: Any, login_method: Any, transport_options: dict
) -> Producers:
    """The producers for these connection options (those nameko's pool would be keyed by)."""
    key = (amqp_uri, confirms, repr(ssl), login_method, repr(sorted(transport_options.items())))
    pool = _pools.get(key)
    if pool is None:
        options = {**transport_options, "confirm_publish": confirms}
        connection = Connection(
            amqp_uri, transport_options=options, ssl=ssl, login_method=login_method
        )
        pool = _pools[key] = Producers(connection)
    return pool


# What a publish call may override of the publisher's own (nameko's keywords).
MESSAGE_OPTIONS = (
    "delivery_mode", "mandatory", "priority", "expiration", "serializer", "compression"
)  # fmt: skip


class PooledPublisher(Publisher):
    def publish(self, payload: Any, **kwargs: Any) -> None:
        # nameko's merge: headers given at construction, then at publish, "extra" last.
        publish_kwargs = dict(self.publish_kwargs)
        headers = {
            **publish_kwargs.pop("headers", {}),
            **kwargs.pop("headers", {}),
            **kwargs.pop("extra_headers", {}),
        }
        use_confirms = kwargs.pop("use_confirms", self.use_confirms)
        transport_options = kwargs.pop("transport_options", self.transport_options)
        pool = producer_pool(
            self.amqp_uri, use_confirms, self.ssl, self.login_method, transport_options
        )
        retry_policy = kwargs.pop("retry_policy", self.retry_policy)
        retry = kwargs.pop("retry", self.retry)
        options = {
            "headers": headers,
            **{option: kwargs.pop(option, getattr(self, option)) for option in MESSAGE_OPTIONS},
            "declare": [*self.declare, *kwargs.pop("declare", ())],
            **publish_kwargs,
            **kwargs,  # the remaining publish-time options win, as in nameko
        }
        with pool.acquire() as producer:
            try:
                try:
                    producer.publish(payload, **options)
                except producer.connection.recoverable_connection_errors:
                    if not retry:
                        raise
                    producer.publish(payload, retry=True, retry_policy=retry_policy, **options)
            except ChannelError as exc:
                if "NO_ROUTE" in str(exc):
                    raise UndeliverableMessage() from None
                raise


class PooledMethodProxy(MethodProxy):
    publisher_cls = PooledPublisher


class PooledServiceProxy(ServiceProxy):
    """nameko's ``ServiceProxy``, publishing its calls with ``PooledPublisher``."""

    def __getattr__(self, name: str) -> PooledMethodProxy:
        return PooledMethodProxy(
            self.worker_ctx, self.service_name, name, self.reply_listener, **self.options
        )


RPC_PERSISTENT_MESSAGES = Setting(
    "RPC_PERSISTENT_MESSAGES",
    boolean,
    False,
    "persistent RPC requests and confirmed replies (nameko's defaults); off: transient",
)
RPC_QUEUE_TYPE = Setting(
    "RPC_QUEUE_TYPE",
    one_of("classic", "quorum"),
    "classic",
    "the service's RPC request queue: classic (one node) or quorum (replicated by a cluster)",
)


def publish_options(persistent: bool) -> dict[str, Any]:
    """Publisher options of an RPC reply; a request takes its ``delivery_mode``."""
    if persistent:
        return {"delivery_mode": PERSISTENT, "use_confirms": True}
    return {"delivery_mode": NON_PERSISTENT, "use_confirms": False}


class ServiceRpcConsumer(RpcConsumer):
    """nameko's ``RpcConsumer`` whose replies carry the options above, settings read once,
    and whose request queue is of ``RPC_QUEUE_TYPE`` (docs/scaling.md, "Replicated storage")."""

    queue_consumer = RenamingQueueConsumer()  # one consumer connection with the reply queue's

    def setup(self) -> None:
        super().setup()
        config = self.container.config
        if RPC_QUEUE_TYPE.read(config) == "quorum":
            # Classic stays undeclared: the queue of a deployment (or an older release
            # beside this one) declared without the argument stays equivalent.
            self.queue.queue_arguments = {
                **(self.queue.queue_arguments or {}),
                "x-queue-type": "quorum",
            }
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
