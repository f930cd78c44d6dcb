"""``GET /metrics``: everything this gateway process measures, in Prometheus text format."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from werkzeug.wrappers import Request, Response

from contracts.errors import ServiceUnavailable
from gateway.http import Route, http
from gateway.idempotency import IdempotentCreates
from gateway.live_feed import MessageHub
from gateway.metrics import LIVE_FEED_SUBSCRIBERS, REDIS_UP
from service_runtime.entrypoints import STORAGE_OUTAGES
from service_runtime.store import RedisStore


def redis_answers(store: RedisStore) -> bool:
    """Its Redis answers with its data loaded (``RedisStore.ping``)."""
    try:
        return store.ping()
    except (*STORAGE_OUTAGES, ServiceUnavailable):
        return False


class MetricsRoutes:
    live_feed: MessageHub
    idempotency: IdempotentCreates

    # Prometheus scrapes the gateway's own port; the edge answers it as an unknown path.
    @http(Route("GET", "/metrics", public=False))
    def prometheus_metrics(self, request: Request) -> Response:
        """Prometheus metrics."""
        LIVE_FEED_SUBSCRIBERS.set(len(self.live_feed.subscriptions))
        # Asked at each scrape: an outage shows without waiting for a request to hit it
        # (the RedisUnreachable alert, deploy/prometheus/alerts.yml).
        REDIS_UP.set(redis_answers(self.idempotency.store))
        return Response(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)
