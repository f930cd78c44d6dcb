"""``GET /metrics``: everything this gateway process measures, in Prometheus text format."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from werkzeug.wrappers import Request, Response

from gateway.http import http
from gateway.live_feed import MessageHub
from gateway.metrics import LIVE_FEED_SUBSCRIBERS


class MetricsRoutes:
    live_feed: MessageHub

    @http("GET", "/metrics")
    def prometheus_metrics(self, request: Request) -> Response:
        LIVE_FEED_SUBSCRIBERS.set(len(self.live_feed.subscriptions))
        return Response(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)
