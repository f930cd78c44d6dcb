"""Prometheus metrics of a service's workers and RPC calls, and where they are scraped.

``EntrypointMetrics`` (a dependency provider, like ``CallLog``) times every worker and
counts the ones that end in an error, by the error's code; with ``METRICS_PORT`` set
it also serves the process's metrics at ``http://METRICS_HOST:METRICS_PORT/metrics``.
The same provider gives each worker its log context (``service_runtime.logformat``).
``MeteredRpcProxy`` is ``TimedRpcProxy`` that also times each call it makes.

Metrics live in prometheus-client's process-wide registry, labelled by service, so
several containers in one process (the tests) share them without clashing. Each
worker costs two ``perf_counter`` calls, one small object and one histogram observation
(a few microseconds in all); label children are looked up once per method and cached.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from typing import Any

import eventlet
import eventlet.wsgi
from nameko.extensions import DependencyProvider
from prometheus_client import Counter, Histogram, make_wsgi_app

from service_runtime.calllog import REQUEST_ID_KEY
from service_runtime.logformat import CallContext, enter_call, serving
from service_runtime.rpc import TimedRpcProxy, TimedServiceProxy
from service_runtime.settings import Setting

METRICS_PORT = Setting(
    "METRICS_PORT",
    int,
    0,
    "port of the service's Prometheus listener (GET /metrics); 0: no listener",
    minimum=0,
    maximum=65535,
)
METRICS_HOST = Setting(
    "METRICS_HOST", str, "127.0.0.1", "address the metrics listener binds (0.0.0.0 in a container)"
)

# Seconds; from a cache hit to the default RPC timeout.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

ENTRYPOINT_SECONDS = Histogram(
    "nameko_entrypoint_duration_seconds",
    "Time from worker start to result, per service and entrypoint method",
    ["service", "method"],
    buckets=LATENCY_BUCKETS,
)
ENTRYPOINT_ERRORS = Counter(
    "nameko_entrypoint_errors_total",
    "Workers that ended in an error, per service, entrypoint method and error code",
    ["service", "method", "error"],
)
RPC_CLIENT_SECONDS = Histogram(
    "nameko_rpc_client_duration_seconds",
    "RPC calls this process made, per target service, method and outcome (ok or error code)",
    ["service", "method", "outcome"],
    buckets=LATENCY_BUCKETS,
)


def error_code(error: BaseException) -> str:
    """The error's stable code (the services' typed errors have one), else its class name."""
    return getattr(error, "code", None) or type(error).__name__


class EntrypointMetrics(DependencyProvider):
    """Times every worker of the service, counts its errors, sets its log context, and
    serves the metrics on ``METRICS_PORT`` when that is set."""

    def __init__(self) -> None:
        self.calls: dict[Any, CallContext] = {}  # by worker context
        self.latency: dict[str, Any] = {}  # method -> its histogram child
        self.listener: Any = None
        self.server: Any = None

    def setup(self) -> None:
        config = self.container.config
        self.port = METRICS_PORT.read(config)
        self.host = METRICS_HOST.read(config)
        serving(self.container.service_name)

    def start(self) -> None:
        if not self.port:
            return
        # Bound at start, so a taken port stops the service with a clear error.
        self.listener = eventlet.listen((self.host, self.port))
        self.server = self.container.spawn_managed_thread(
            partial(eventlet.wsgi.server, self.listener, make_wsgi_app(), log_output=False),
            identifier="metrics listener",
        )

    def stop(self) -> None:
        if self.server is not None:
            self.server.kill()
            self.server = None
        if self.listener is not None:
            self.listener.close()
            self.listener = None

    def kill(self) -> None:
        self.stop()

    def worker_setup(self, worker_ctx: Any) -> None:
        method = worker_ctx.entrypoint.method_name
        call = self.calls[worker_ctx] = CallContext(
            worker_ctx.service_name,
            method,
            worker_ctx.context_data.get(REQUEST_ID_KEY),
            time.perf_counter(),
        )
        enter_call(call)
        # The outcome is recorded by the method itself, so every log line of the
        # worker's end (CallLog's included, whatever order the providers run in)
        # already carries it.
        service = worker_ctx.service
        setattr(service, method, recording_outcome(getattr(service, method), call))

    def worker_result(self, worker_ctx: Any, result: Any = None, exc_info: Any = None) -> None:
        elapsed = time.perf_counter() - self.calls[worker_ctx].started
        self.record(worker_ctx, elapsed, result, None if exc_info is None else exc_info[1])

    def record(
        self, worker_ctx: Any, elapsed: float, result: Any, error: BaseException | None
    ) -> None:
        """Count one finished worker (a subclass adds its own metrics here)."""
        method = worker_ctx.entrypoint.method_name
        latency = self.latency.get(method)
        if latency is None:
            latency = self.latency[method] = ENTRYPOINT_SECONDS.labels(
                worker_ctx.service_name, method
            )
        latency.observe(elapsed)
        if error is not None:
            ENTRYPOINT_ERRORS.labels(worker_ctx.service_name, method, error_code(error)).inc()

    def worker_teardown(self, worker_ctx: Any) -> None:
        self.calls.pop(worker_ctx, None)

    def get_dependency(self, worker_ctx: Any) -> None:
        return None


def recording_outcome(method: Callable[..., Any], call: CallContext) -> Callable[..., Any]:
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            result = method(*args, **kwargs)
        except Exception as error:
            call.outcome = error_code(error)
            raise
        call.outcome = "ok"
        call.status = getattr(result, "status_code", None)  # an HTTP route's response
        return result

    return run


class MeteredRpcProxy(TimedRpcProxy):
    """``TimedRpcProxy`` whose calls are also timed in ``nameko_rpc_client_duration_seconds``."""

    def get_dependency(self, worker_ctx: Any) -> MeteredServiceProxy:
        return MeteredServiceProxy(super().get_dependency(worker_ctx))


class MeteredServiceProxy:
    def __init__(self, proxy: TimedServiceProxy) -> None:
        self._proxy = proxy

    @property
    def service_name(self) -> str:
        return self._proxy.service_name

    def with_timeout(self, timeout: float) -> MeteredServiceProxy:
        return MeteredServiceProxy(self._proxy.with_timeout(timeout))

    def __getattr__(self, method_name: str) -> Callable[..., Any]:
        method = getattr(self._proxy, method_name)

        def call(*args: Any, **kwargs: Any) -> Any:
            outcome = "ok"
            started = time.perf_counter()
            try:
                return method(*args, **kwargs)
            except Exception as error:
                outcome = error_code(error)
                raise
            finally:
                RPC_CLIENT_SECONDS.labels(self.service_name, method_name, outcome).observe(
                    time.perf_counter() - started
                )

        return call
