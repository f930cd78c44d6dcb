"""One log line per worker, tagged with the request id that started the chain.

The gateway puts ``request_id`` into the worker's context data; nameko copies
context data into the headers of every RPC call and event the worker makes, so
the same id shows up in the log line of every service the request touched.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from nameko.extensions import DependencyProvider

log = logging.getLogger("calls")

REQUEST_ID_KEY = "request_id"


class CallLog(DependencyProvider):
    """Logs ``<service>.<method> request_id=... <outcome> <ms>`` when a worker ends."""

    def __init__(self) -> None:
        self.started: dict[Any, float] = {}

    def worker_setup(self, worker_ctx: Any) -> None:
        self.started[worker_ctx] = time.perf_counter()

    def worker_result(self, worker_ctx: Any, result: Any = None, exc_info: Any = None) -> None:
        elapsed_ms = (time.perf_counter() - self.started[worker_ctx]) * 1000
        outcome = "ok" if exc_info is None else exc_info[0].__name__
        log.info(
            "%s.%s request_id=%s %s %.1fms",
            worker_ctx.service_name,
            worker_ctx.entrypoint.method_name,
            worker_ctx.context_data.get(REQUEST_ID_KEY, "-"),
            outcome,
            elapsed_ms,
        )

    def worker_teardown(self, worker_ctx: Any) -> None:
        self.started.pop(worker_ctx, None)

    def get_dependency(self, worker_ctx: Any) -> None:
        return None
