"""The gateway Nameko service: every HTTP route, and the RPC proxies they call."""

from __future__ import annotations

from contracts.airports import SERVICE_NAME as AIRPORTS
from contracts.messages import SERVICE_NAME as MESSAGES
from contracts.trips import SERVICE_NAME as TRIPS
from gateway.idempotency import Idempotency
from gateway.live_feed import LiveFeed
from gateway.rate_limit import MessageRateLimit
from gateway.routes.airports import AirportRoutes
from gateway.routes.health import HealthRoutes
from gateway.routes.messages import MessageRoutes
from gateway.routes.page import MessengerPage
from gateway.routes.trips import TripRoutes
from service_runtime.calllog import CallLog
from service_runtime.rpc import TimedRpcProxy


class GatewayService(AirportRoutes, TripRoutes, MessageRoutes, MessengerPage, HealthRoutes):
    name = "gateway"
    call_log = CallLog()

    airports = TimedRpcProxy(AIRPORTS)
    trips = TimedRpcProxy(TRIPS)
    messages = TimedRpcProxy(MESSAGES)
    live_feed = LiveFeed()
    idempotency = Idempotency()
    rate_limit = MessageRateLimit()

    required_services = ("airports", "trips", "messages")
