"""The gateway Nameko service: every HTTP route, and the RPC proxies they call."""

from __future__ import annotations

from contracts.airports import SERVICE_NAME as AIRPORTS
from contracts.messages import SERVICE_NAME as MESSAGES
from contracts.trips import SERVICE_NAME as TRIPS
from gateway.idempotency import Idempotency
from gateway.live_feed import LiveFeed
from gateway.metrics import GatewayMetrics
from gateway.rate_limit import MessageRateLimit
from gateway.routes.messages import MessageRoutes
from gateway.routes.ops import OpsRoutes
from gateway.routes.pages import PageRoutes
from gateway.routes.travel import TravelRoutes
from service_runtime.chassis import ObservedService
from service_runtime.record_cache import RecordCache
from service_runtime.rpc import TimedRpcProxy


class GatewayService(ObservedService, TravelRoutes, MessageRoutes, PageRoutes, OpsRoutes):
    name = "gateway"
    calls = GatewayMetrics()  # the chassis' call observer, plus the HTTP metrics

    airports = TimedRpcProxy(AIRPORTS)
    trips = TimedRpcProxy(TRIPS)
    messages = TimedRpcProxy(MESSAGES)
    live_feed = LiveFeed()
    airport_records = RecordCache()
    trip_records = RecordCache()
    idempotency = Idempotency()
    rate_limit = MessageRateLimit()
