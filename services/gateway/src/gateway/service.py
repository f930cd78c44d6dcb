"""The gateway Nameko service: every HTTP route, and the RPC proxies they call."""

from __future__ import annotations

from contracts.airports import SERVICE_NAME as AIRPORTS
from contracts.trips import SERVICE_NAME as TRIPS
from gateway.routes.airports import AirportRoutes
from gateway.routes.health import HealthRoutes
from gateway.routes.trips import TripRoutes
from service_runtime.calllog import CallLog
from service_runtime.rpc import TimedRpcProxy


class GatewayService(AirportRoutes, TripRoutes, HealthRoutes):
    name = "gateway"
    call_log = CallLog()

    airports = TimedRpcProxy(AIRPORTS)
    trips = TimedRpcProxy(TRIPS)

    required_services = ("airports", "trips")
