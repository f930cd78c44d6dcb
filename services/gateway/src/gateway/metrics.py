"""The gateway's HTTP metrics: requests by route template and status, errors by code,
live-feed subscribers, whether its Redis answers. ``GET /metrics`` (``routes.metrics``)
serves them with the per-method worker and RPC-client metrics of ``service_runtime.metrics``."""

from __future__ import annotations

import json
from typing import Any

from nameko.web.handlers import HttpRequestHandler
from prometheus_client import Counter, Gauge, Histogram
from werkzeug.exceptions import HTTPException

from contracts.errors import ServiceError
from gateway.errors import response_from_exception
from service_runtime.calls import CallObserver
from service_runtime.metrics import LATENCY_BUCKETS

HTTP_REQUEST_SECONDS = Histogram(
    "gateway_http_request_duration_seconds",
    "Requests a route answered (its _count is the request count), by method, route "
    "template and status",
    ["method", "route", "status"],
    buckets=LATENCY_BUCKETS,
)
HTTP_ERRORS = Counter(
    "gateway_http_errors_total",
    "Error responses by the body's error code (an unexpected exception: its class name)",
    ["code"],
)
LIVE_FEED_SUBSCRIBERS = Gauge(
    "gateway_live_feed_subscribers", "Open GET /messages/stream connections"
)
REDIS_UP = Gauge(
    "gateway_redis_up",
    "1 when the gateway's Redis (rate limits, Idempotency-Key answers) answered a ping "
    "at this scrape, else 0",
)


def status_and_code(
    entrypoint: HttpRequestHandler, result: Any, error: BaseException | None
) -> tuple[int, str | None]:
    """What the client got for this worker: the status, and the error code if it failed."""
    if error is None:
        return entrypoint.response_from_result(result).status_code, None
    if isinstance(error, ServiceError | HTTPException):
        response = response_from_exception(error)  # the one table decides
        return response.status_code, json.loads(response.get_data())["error"]
    # Not in the table: the client gets a bare 500 (response_from_exception logs it once).
    return 500, type(error).__name__


class GatewayMetrics(CallObserver):
    """``CallObserver`` plus, for HTTP routes, the request by route and status."""

    def __init__(self) -> None:
        super().__init__()
        self.requests: dict[tuple[str, str, int], Any] = {}  # histogram children

    def record(
        self, worker_ctx: Any, elapsed: float, result: Any, error: BaseException | None
    ) -> None:
        super().record(worker_ctx, elapsed, result, error)
        entrypoint = worker_ctx.entrypoint
        if not isinstance(entrypoint, HttpRequestHandler):
            return  # the live feed's event handler
        status, code = status_and_code(entrypoint, result, error)
        series = (entrypoint.method, entrypoint.url, status)
        requests = self.requests.get(series)
        if requests is None:
            requests = self.requests[series] = HTTP_REQUEST_SECONDS.labels(*series)
        requests.observe(elapsed)
        if code is not None:
            HTTP_ERRORS.labels(code).inc()
