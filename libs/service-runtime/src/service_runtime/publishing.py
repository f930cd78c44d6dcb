"""nameko's ``Publisher`` without its per-message set-up: the RPC requests and replies.

For every message, nameko's ``Publisher.publish`` builds a kombu ``Connection``
(parsing the broker URL), looks up its producer pool by that connection's hash,
and wraps the publish in kombu's retrying ``Connection.ensure``. Profiled under
load, that set-up cost more CPU than building and writing the message itself
(about 100 us of a 170 us publish).

``PooledPublisher`` finds its producers once per broker and option set and
publishes straight through one. Each producer keeps its own connection and
channel while it waits in ``Producers`` for its next message (kombu's pool gives
the connection back and binds a channel again on every acquire). Only a publish
that meets a connection error goes again through kombu's retrying path with the
publisher's ``retry_policy`` (reconnect, then retry), so what a lost connection
does is unchanged: the message goes out on a fresh connection or the error is
raised.
Everything else is nameko's: the options and their defaults, ``mandatory`` with
confirms raising ``UndeliverableMessage`` for a message nobody could receive.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from kombu import Connection, Producer
from kombu.exceptions import ChannelError
from nameko.amqp.publish import Publisher, UndeliverableMessage
from nameko.rpc import MethodProxy, ServiceProxy


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
            # Its connection's state is unknown (a frame half-read, a confirm unread):
            # dropped without network I/O, and the next publish starts afresh.
            producer.connection.collect()
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
        pool = producer_pool(
            self.amqp_uri,
            use_confirms,
            self.ssl,
            self.login_method,
            kwargs.pop("transport_options", self.transport_options),
        )
        retry_policy = kwargs.pop("retry_policy", self.retry_policy)
        retry = kwargs.pop("retry", self.retry)
        options = {
            "headers": headers,
            "delivery_mode": kwargs.pop("delivery_mode", self.delivery_mode),
            "mandatory": kwargs.pop("mandatory", self.mandatory),
            "priority": kwargs.pop("priority", self.priority),
            "expiration": kwargs.pop("expiration", self.expiration),
            "serializer": kwargs.pop("serializer", self.serializer),
            "compression": kwargs.pop("compression", self.compression),
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
