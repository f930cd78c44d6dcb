"""Every worker observed once: one timer and one outcome feed its call line in the log
(README, "HTTP API": ``X-Request-Id``), its metrics and the context of its log lines.

After the answer, with no other call in flight, the answer's reader gets the CPU first
(``os.sched_yield``): Linux wakes it on the writer's CPU, expecting the writer to block, and
the broker's reply hop waited for this bookkeeping (262-282 us; with it 198-207, the
baseline's ~240). One cold read at a time: p50 0.96x; unconditional: hot GET 0.8x req/s.
"""

from __future__ import annotations

import logging
import os
import time
from functools import partial
from typing import Any
from weakref import proxy

import eventlet
import eventlet.wsgi
from nameko.extensions import DependencyProvider
from prometheus_client import make_wsgi_app

from service_runtime.logformat import CURRENT_CALL, CallContext, serving
from service_runtime.metrics import ENTRYPOINT_ERRORS, ENTRYPOINT_SECONDS, outcome
from service_runtime.settings import Setting

log = logging.getLogger("calls")

REQUEST_ID_KEY = "request_id"
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


class CallObserver(DependencyProvider):
    """Times each worker, logs its call line, records its metrics (``record``, which a
    subclass extends) and sets its log context; serves the metrics on ``METRICS_PORT``."""

    def __init__(self) -> None:
        self.calls: dict[Any, CallContext] = {}  # by worker context
        self.listener: Any = None
        self.server: Any = None

    def setup(self) -> None:
        serving(self.container.service_name)

    def start(self) -> None:
        port = METRICS_PORT.read(self.container.config)
        if not port:
            return
        # Bound at start, so a taken port stops the service with a clear error.
        self.listener = eventlet.listen((METRICS_HOST.read(self.container.config), port))
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

    kill = stop

    def worker_setup(self, worker_ctx: Any) -> None:
        call = self.calls[worker_ctx] = CallContext(
            worker_ctx.service_name,
            worker_ctx.entrypoint.method_name,
            worker_ctx.context_data.get(REQUEST_ID_KEY),
            time.perf_counter(),
        )
        CURRENT_CALL.set(call)

    def worker_result(self, worker_ctx: Any, result: Any = None, exc_info: Any = None) -> None:
        call = self.calls[worker_ctx]
        error = None if exc_info is None else exc_info[1]
        call.elapsed = time.perf_counter() - call.started
        call.outcome = outcome(error)
        call.status = getattr(result, "status_code", None)  # an HTTP route's response
        if call.status is not None and not result.is_streamed:
            # Once the client has its answer (werkzeug runs it when the body is written), with
            # a weak reference: a response holding itself waits for the cyclic collector.
            result.call_on_close(partial(self.observe, worker_ctx, call, proxy(result), error))
        else:
            self.observe(worker_ctx, call, result, error)

    def observe(
        self, worker_ctx: Any, call: CallContext, result: Any, error: BaseException | None
    ) -> None:
        """The call line and the metrics (a subclass adds its own), in the worker's context."""
        if len(self.calls) == (worker_ctx in self.calls):  # no other call in flight
            os.sched_yield()
        token = CURRENT_CALL.set(call)  # also when the web server's thread runs it
        log.info(
            "%s.%s request_id=%s %s %.1fms",
            call.service,
            call.method,
            call.request_id or "-",
            call.outcome,
            call.elapsed * 1000,
        )
        CURRENT_CALL.reset(token)
        ENTRYPOINT_SECONDS.labels(call.service, call.method).observe(call.elapsed)
        if error is not None:
            ENTRYPOINT_ERRORS.labels(call.service, call.method, call.outcome).inc()

    def worker_teardown(self, worker_ctx: Any) -> None:
        self.calls.pop(worker_ctx, None)
