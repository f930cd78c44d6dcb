"""The gateway's own HTTP metrics (README, "API description, metrics and logs")."""

from __future__ import annotations

from typing import Any

from nameko.web.handlers import HttpRequestHandler
from prometheus_client import Counter, Gauge, Histogram

from service_runtime.calls import CallObserver
from service_runtime.logformat import CallContext
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
    "Error responses by the body's error code (an unexpected exception: INTERNAL_ERROR)",
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


class GatewayMetrics(CallObserver):
    """``CallObserver`` plus, for HTTP routes, the request by route and status."""

    def observe(
        self, worker_ctx: Any, call: CallContext, result: Any, error: BaseException | None
    ) -> None:
        super().observe(worker_ctx, call, result, error)
        entrypoint = worker_ctx.entrypoint
        if not isinstance(entrypoint, HttpRequestHandler):
            return  # the live feed's event handler
        # ``result`` is the response the client got (``JsonHttpEntrypoint.handle_result``).
        HTTP_REQUEST_SECONDS.labels(entrypoint.method, entrypoint.url, result.status_code).observe(
            call.elapsed
        )
        if error is not None:
            HTTP_ERRORS.labels(result.json["error"]).inc()
