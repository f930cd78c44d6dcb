"""An RPC proxy whose calls never hang.

Nameko 2's ``RpcProxy`` waits forever for a reply. ``TimedRpcProxy`` bounds the
wait with ``RPC_TIMEOUT_SECONDS`` (config, default 10 s) and turns the two ways a
dependency can be missing into typed errors that cross RPC and map to HTTP:

* no consumer bound to the service's queue -> ``ServiceUnavailable`` (503);
* the broker unreachable (down; the connection refused, lost, or closed by the broker)
  -> ``ServiceUnavailable`` within ``RPC_PUBLISH_TIMEOUT_SECONDS`` (503), well before
  the RPC timeout;
* bound but no reply in time (slow, or every instance died) -> ``ServiceTimeout`` (504).

A call already handed to the broker when the connection drops gets 504 at the timeout,
not 503: the service may have done the work, so "not done" would be a lie. Publishing
retries once after a reconnect, so the first call after the broker's return finds a
fresh connection instead of failing on the dead one.

A message whose consumer dies before acknowledging it is redelivered by the
broker to another instance, so the timeout must leave room for that failover.

Publish options (``RPC_PERSISTENT_MESSAGES``, default off). nameko publishes every
RPC request and reply as a persistent message with a publisher confirm. A call
is only worth its reply while its caller waits (at most ``RPC_TIMEOUT_SECONDS``),
so by default requests and replies are transient, and replies go without a
confirm (benchmarks/README.md: about 1.5x the cold reads and creates per second
in an A/B). What that changes: a RabbitMQ *restart* drops the calls in flight
(their callers get 504 within the timeout, as they would if the broker were
down) instead of replaying requests, possibly long after their callers gave up.
What it does not change: the RPC queues stay durable, a message whose consumer
dies before acknowledging it is still redelivered to another instance (acks, not
persistence, decide that), and requests keep their confirm, which is how "no
instance of that service" (``mandatory`` + confirm) becomes a fast 503. Events
(``EventDispatcher``) keep nameko's persistent, confirmed publishing.

Replies are consumed without acknowledgement, on a connection of their own, and
handed to the waiting caller at once (``ReplyConsumer``). nameko acknowledged each
reply and spawned a green thread to do so: one more frame to the broker and one
more thread per call. An acknowledgement only matters if a message can go to
another consumer, and a reply queue has exactly one, the process that waits for
it; if that process dies, the reply has nobody to go to either way.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

import eventlet
from amqp.exceptions import ConnectionError as AmqpConnectionError
from kombu.exceptions import OperationalError
from nameko.constants import NON_PERSISTENT, PERSISTENT
from nameko.exceptions import UnknownService
from nameko.messaging import QueueConsumer
from nameko.rpc import MethodProxy, ReplyListener, RpcProxy, ServiceProxy

from contracts.errors import ServiceTimeout, ServiceUnavailable
from service_runtime.metrics import RPC_CLIENT_SECONDS, outcome
from service_runtime.publishing import PooledPublisher
from service_runtime.settings import Setting, boolean

RPC_TIMEOUT = Setting(
    "RPC_TIMEOUT_SECONDS",
    float,
    10.0,
    "upper bound on any RPC call a service makes; past it the caller gets 504",
    minimum=0.001,
)
RPC_PUBLISH_TIMEOUT = Setting(
    "RPC_PUBLISH_TIMEOUT_SECONDS",
    float,
    1.0,
    "a call the broker has not accepted within this long (broker unreachable) gets 503",
    minimum=0.001,
)
# One quick retry (after kombu reconnects) replaces a connection the broker dropped;
# nameko's default (3 retries, 2 s apart) held a request 3 s before a 500.
PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.1,
    "interval_max": 0.1,
}
# What kombu and the socket raise when the broker is down or the connection is lost,
# and what py-amqp raises when the broker closes or refuses the connection (its vhost
# deleted, the user's access revoked, a forced close).
BROKER_UNREACHABLE = (OperationalError, OSError, AmqpConnectionError)
RPC_PERSISTENT_MESSAGES = Setting(
    "RPC_PERSISTENT_MESSAGES",
    boolean,
    False,
    "persistent RPC requests and confirmed replies (nameko's defaults); off: transient",
)


def publish_options(persistent: bool) -> dict[str, Any]:
    """Publisher options of an RPC reply (module doc); a request always keeps its confirm."""
    if persistent:
        return {"delivery_mode": PERSISTENT, "use_confirms": True}
    return {"delivery_mode": NON_PERSISTENT, "use_confirms": False}


class ReplyConsumer(QueueConsumer):
    """nameko's consumer, taking messages without acknowledgement and handling each
    as it arrives (for replies only: module doc)."""

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


class PooledMethodProxy(MethodProxy):
    publisher_cls = PooledPublisher


class PooledServiceProxy(ServiceProxy):
    """nameko's ``ServiceProxy``, publishing its calls with ``PooledPublisher``."""

    def __getattr__(self, name: str) -> PooledMethodProxy:
        return PooledMethodProxy(
            self.worker_ctx, self.service_name, name, self.reply_listener, **self.options
        )


class TimedRpcProxy(RpcProxy):
    """``RpcProxy`` whose method calls raise ``ServiceTimeout`` after a bounded wait."""

    rpc_reply_listener = UnacknowledgedReplies()

    def __init__(self, target_service: str, timeout: float | None = None, **options: Any) -> None:
        options.setdefault("retry_policy", PUBLISH_RETRY_POLICY)
        super().__init__(target_service, **options)
        self.timeout = timeout

    def setup(self) -> None:
        super().setup()
        config = self.container.config
        if self.timeout is None:
            self.timeout = RPC_TIMEOUT.read(config)
        self.publish_timeout = RPC_PUBLISH_TIMEOUT.read(config)
        # Requests keep the confirm: it is how a call to a service with no running
        # instance is told apart from a slow one (UnknownService -> 503).
        delivery_mode = publish_options(RPC_PERSISTENT_MESSAGES.read(config))["delivery_mode"]
        self.options.setdefault("delivery_mode", delivery_mode)

    def get_dependency(self, worker_ctx: Any) -> TimedServiceProxy:
        return TimedServiceProxy(
            PooledServiceProxy(
                worker_ctx, self.target_service, self.rpc_reply_listener, **self.options
            ),
            self.timeout,
            self.publish_timeout,
            self.wait_until_replies_consumed,
        )

    def wait_until_replies_consumed(self) -> None:
        """Block until this service consumes its reply queue.

        The web server answers as soon as the process starts, possibly before the
        reply queue is declared; a reply sent before then is dropped by the broker,
        and the call would wait for nothing until its timeout.
        """
        # nameko has no public "consumers ready"; this is the event its start waits on.
        self.rpc_reply_listener.queue_consumer._consumers_ready.wait()


class TimedServiceProxy:
    """Calls ``proxy.<method>(...)`` with the bounded wait; ``with_timeout`` narrows it."""

    def __init__(
        self,
        proxy: Any,
        timeout: float,
        publish_timeout: float = RPC_PUBLISH_TIMEOUT.default,
        before_publish: Callable[[], None] = lambda: None,
    ) -> None:
        self._proxy = proxy
        self.timeout = timeout
        self.publish_timeout = publish_timeout
        self._before_publish = before_publish

    @property
    def service_name(self) -> str:
        return self._proxy.service_name

    def with_timeout(self, timeout: float) -> TimedServiceProxy:
        """The same proxy with a different bound (readiness probes use a short one)."""
        return TimedServiceProxy(
            self._proxy, timeout, min(timeout, self.publish_timeout), self._before_publish
        )

    def __getattr__(self, method_name: str) -> Any:
        method = getattr(self._proxy, method_name)

        def call(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            error = None
            try:
                reply = self._publish(method, args, kwargs)
                # The whole call, publishing included, stays within the timeout.
                left = self.timeout - (time.perf_counter() - started)
                return self._wait(reply, method_name, left)
            except Exception as failed:
                error = failed
                raise
            finally:
                RPC_CLIENT_SECONDS.labels(self.service_name, method_name, outcome(error)).observe(
                    time.perf_counter() - started
                )

        return call

    def _wait(self, reply: Any, method_name: str, seconds_left: float) -> Any:
        """The reply's result; ``ServiceTimeout`` once the call's whole bound has passed."""
        timer = eventlet.Timeout(max(0.0, seconds_left))
        try:
            return reply.result()
        except eventlet.Timeout as expired:
            if expired is not timer:  # an outer deadline, not ours
                raise
            raise ServiceTimeout(
                f"service {self.service_name!r} did not answer "
                f"{method_name} within {self.timeout:g} s"
            ) from None
        finally:
            timer.cancel()

    def _publish(self, method: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """Hand the call to the broker within ``publish_timeout``; the reply to wait for."""
        timer = eventlet.Timeout(min(self.timeout, self.publish_timeout))
        try:
            self._before_publish()
            return method.call_async(*args, **kwargs)
        except UnknownService:
            raise ServiceUnavailable(f"service {self.service_name!r} is not running") from None
        except BROKER_UNREACHABLE as exc:
            raise ServiceUnavailable(f"message broker unreachable: {exc}") from None
        except eventlet.Timeout as expired:
            if expired is not timer:
                raise
            raise ServiceUnavailable(
                f"message broker did not accept the call within {self.publish_timeout:g} s"
            ) from None
        finally:
            timer.cancel()
