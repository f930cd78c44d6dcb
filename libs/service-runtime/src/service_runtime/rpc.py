"""An RPC proxy whose calls never hang (nameko 2's ``RpcProxy`` waits forever for a
reply), and are timed; what a caller gets instead: README, "Faults: what a client sees".

| override | deviation | needed for |
|---|---|---|
| `TimedRpcProxy.replies_consumed` | calls `QueueConsumer.start` again, to wait | first calls |

(Without it, a web service's first requests lose their replies and answer at the
timeout: ``services/airports/tests/test_rpc_client.py``, 27 of 50 in a run.)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import eventlet
from kombu.exceptions import OperationalError
from nameko.exceptions import UnknownService
from nameko.rpc import RpcProxy

from contracts.errors import ServiceTimeout, ServiceUnavailable
from service_runtime.connection_queues import CONNECTION_LOST, TransientReplyListener
from service_runtime.metrics import RPC_CLIENT_SECONDS, outcome
from service_runtime.publishing import RPC_PERSISTENT_MESSAGES, PooledServiceProxy, publish_options
from service_runtime.settings import Setting

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
# One quick retry after kombu reconnects; nameko's default held a request 3 s before a 500.
PUBLISH_RETRY_POLICY = dict(max_retries=1, interval_start=0, interval_step=0.1, interval_max=0.1)
# The broker down or the connection lost (kombu, the socket), closed or refused (py-amqp).
BROKER_UNREACHABLE = (OperationalError, *CONNECTION_LOST)


class TimedRpcProxy(RpcProxy):
    """``RpcProxy`` whose calls raise ``ServiceTimeout`` after a bounded wait."""

    rpc_reply_listener = TransientReplyListener()

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
        delivery_mode = publish_options(RPC_PERSISTENT_MESSAGES.read(config))["delivery_mode"]
        self.options.setdefault("delivery_mode", delivery_mode)

    def get_dependency(self, worker_ctx: Any) -> TimedServiceProxy:
        proxy = PooledServiceProxy(
            worker_ctx, self.target_service, self.rpc_reply_listener, **self.options
        )
        return TimedServiceProxy(proxy, self.timeout, self.publish_timeout, self.replies_consumed)

    def replies_consumed(self) -> None:
        """Return once this service consumes its reply queue: the web server answers
        before the queue may be declared, and the broker drops a reply sent before then.
        On a consumer already started, ``QueueConsumer.start`` only waits for it."""
        self.rpc_reply_listener.queue_consumer.start()


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
        self.service_name: str = proxy.service_name
        self.timeout = timeout
        self.publish_timeout = publish_timeout
        self._before_publish = before_publish

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
                return self._call(method, method_name, started, args, kwargs)
            except Exception as failed:
                error = failed
                raise
            finally:
                RPC_CLIENT_SECONDS.labels(self.service_name, method_name, outcome(error)).observe(
                    time.perf_counter() - started
                )

        return call

    def _call(
        self, method: Any, method_name: str, started: float, args: tuple, kwargs: dict[str, Any]
    ) -> Any:
        with bounded(
            min(self.timeout, self.publish_timeout),
            ServiceUnavailable(
                f"message broker did not accept the call within {self.publish_timeout:g} s"
            ),
        ):
            try:
                self._before_publish()
                reply = method.call_async(*args, **kwargs)
            except UnknownService:
                raise ServiceUnavailable(f"service {self.service_name!r} is not running") from None
            except BROKER_UNREACHABLE as exc:
                raise ServiceUnavailable(f"message broker unreachable: {exc}") from None
        with bounded(
            self.timeout - (time.perf_counter() - started),
            ServiceTimeout(
                f"service {self.service_name!r} did not answer {method_name} "
                f"within {self.timeout:g} s"
            ),
        ):
            return reply.result()


@contextmanager
def bounded(seconds: float, error: Exception) -> Iterator[None]:
    """Run the block for at most ``seconds``, then raise ``error`` instead."""
    timer = eventlet.Timeout(max(0.0, seconds))
    try:
        yield
    except eventlet.Timeout as expired:
        if expired is not timer:
            raise
        raise error from None
    finally:
        timer.cancel()
