"""Every worker observed once: one timer and one outcome feed its call line in the log,
its metrics and the context of the log lines it writes.

The call line is ``<service>.<method> request_id=... <outcome> <ms>``. The gateway puts
``request_id`` into the worker's context data; nameko copies context data into the
headers of every RPC call and event the worker makes, so the same id shows up in the
call line of every service the request touched. The outcome is ``ok`` or the error's
code (``service_runtime.metrics.outcome``), the same in the line, in its JSON fields
(``service_runtime.logformat``) and in the metrics.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from nameko.extensions import DependencyProvider

from service_runtime.logformat import CallContext, enter_call, serving
from service_runtime.metrics import (
    ENTRYPOINT_ERRORS,
    ENTRYPOINT_SECONDS,
    MetricsListener,
    error_code,
    outcome,
)

log = logging.getLogger("calls")

REQUEST_ID_KEY = "request_id"


class CallObserver(DependencyProvider):
    """Times each worker, logs its call line, records its metrics (``record``, which a
    subclass extends) and sets its log context; serves the metrics on ``METRICS_PORT``."""

    def __init__(self) -> None:
        self.calls: dict[Any, CallContext] = {}  # by worker context

    def setup(self) -> None:
        serving(self.container.service_name)
        self.listener = MetricsListener(self.container)

    def start(self) -> None:
        self.listener.start()

    def stop(self) -> None:
        self.listener.stop()

    kill = stop

    def worker_setup(self, worker_ctx: Any) -> None:
        call = self.calls[worker_ctx] = CallContext(
            worker_ctx.service_name,
            worker_ctx.entrypoint.method_name,
            worker_ctx.context_data.get(REQUEST_ID_KEY),
            time.perf_counter(),
        )
        enter_call(call)

    def worker_result(self, worker_ctx: Any, result: Any = None, exc_info: Any = None) -> None:
        call = self.calls[worker_ctx]
        error = None if exc_info is None else exc_info[1]
        call.elapsed = time.perf_counter() - call.started
        call.outcome = outcome(error)
        call.status = getattr(result, "status_code", None)  # an HTTP route's response
        log.info(
            "%s.%s request_id=%s %s %.1fms",
            call.service,
            call.method,
            call.request_id or "-",
            call.outcome,
            call.elapsed * 1000,
        )
        self.record(worker_ctx, call.elapsed, result, error)

    def record(
        self, worker_ctx: Any, elapsed: float, result: Any, error: BaseException | None
    ) -> None:
        """Count one finished worker (a subclass adds its own metrics here)."""
        method = worker_ctx.entrypoint.method_name
        ENTRYPOINT_SECONDS.labels(worker_ctx.service_name, method).observe(elapsed)
        if error is not None:
            ENTRYPOINT_ERRORS.labels(worker_ctx.service_name, method, error_code(error)).inc()

    def worker_teardown(self, worker_ctx: Any) -> None:
        self.calls.pop(worker_ctx, None)
