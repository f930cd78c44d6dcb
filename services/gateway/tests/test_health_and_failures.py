"""Health, readiness, and what clients see when a service is absent or slow."""

import eventlet
from nameko.rpc import rpc

from airports.service import AirportsService
from gateway.service import GatewayService
from messages.service import MessagesService
from trips.service import TripsService


class StalledAirports:
    """Bound to the airports queue, but slower than the gateway's RPC timeout."""

    name = "airports"

    @rpc
    def get(self, id):  # noqa: A002
        eventlet.sleep(30)

    @rpc
    def ping(self):
        eventlet.sleep(30)


def test_health_is_200_while_the_process_serves(start, http_session):
    start(GatewayService)

    assert http_session.get("/health").json() == {"status": "ok"}


def test_ready_is_200_when_every_service_answers(api):
    response = api.get("/ready")

    assert response.status_code == 200
    assert response.json()["status"] == "ready"


def test_ready_is_503_naming_the_missing_services(start, http_session):
    start(AirportsService, GatewayService)

    response = http_session.get("/ready")

    assert response.status_code == 503
    assert response.json()["error"] == "NOT_READY"
    assert response.json()["missing"] == ["trips", "messages"]


def test_ready_is_503_when_a_service_is_bound_but_stalled(start, http_session):
    start(
        StalledAirports,
        TripsService,
        MessagesService,
        GatewayService,
        READINESS_TIMEOUT_SECONDS=0.5,
    )

    response = http_session.get("/ready")

    assert response.status_code == 503
    assert response.json()["missing"] == ["airports"]


def test_absent_service_is_503(start, http_session):
    start(GatewayService)

    response = http_session.get("/airport/some-id")

    assert response.status_code == 503
    assert response.json()["error"] == "SERVICE_UNAVAILABLE"


def test_slow_service_is_504_within_the_timeout(start, http_session):
    start(StalledAirports, GatewayService, RPC_TIMEOUT_SECONDS=0.5)

    response = http_session.get("/airport/some-id", timeout=10)

    assert response.status_code == 504
    assert response.json()["error"] == "SERVICE_TIMEOUT"


def test_absent_airports_behind_trips_is_503_through_two_hops(start, http_session):
    start(TripsService, GatewayService)

    response = http_session.post("/trip", json={"airport_from": "a1", "airport_to": "a2"})

    assert response.status_code == 503
    assert response.json()["error"] == "SERVICE_UNAVAILABLE"
