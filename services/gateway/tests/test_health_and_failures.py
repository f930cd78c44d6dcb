"""Health, readiness, and what clients see when a service is absent or slow or the
broker unreachable (outages of real brokers: integration_tests/test_outages.py)."""

import time
from types import SimpleNamespace
from urllib.parse import urlsplit

import eventlet
import pytest
from http_assertions import assert_error
from kombu.exceptions import OperationalError
from nameko.rpc import rpc

from airports.service import AirportsService
from contracts.errors import ServiceUnavailable
from gateway.routes.ops import OWN_REDIS, READINESS_TIMEOUT
from gateway.service import GatewayService
from messages.service import MessagesService
from service_runtime.rpc import RPC_PUBLISH_TIMEOUT, RPC_TIMEOUT, TimedServiceProxy
from service_testing.ports import free_port
from trips.service import TripsService

# Bounds configured far from their defaults, so that an ignored setting shows whatever
# the machine's load: a short RPC timeout is answered well before the default's half,
# and a long readiness or publish timeout is waited for in full (its default, 1 s, would
# answer sooner). No elapsed time is compared with anything but those.
SHORT_RPC_TIMEOUT_SECONDS = 0.3
LONG_TIMEOUT_SECONDS = 3.0
WELL_BEFORE_THE_RPC_DEFAULT = RPC_TIMEOUT.default / 2


def timed(call):
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


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
        READINESS_TIMEOUT_SECONDS=LONG_TIMEOUT_SECONDS,
    )

    response, seconds = timed(lambda: http_session.get("/ready"))

    assert response.status_code == 503
    assert response.json()["missing"] == ["airports"]
    assert seconds >= LONG_TIMEOUT_SECONDS > READINESS_TIMEOUT.default


def test_absent_service_is_503_at_once(start, http_session):
    start(GatewayService)

    response, seconds = timed(lambda: http_session.get("/airport/some-id"))

    assert response.status_code == 503
    assert response.json()["error"] == "SERVICE_UNAVAILABLE"
    assert seconds < WELL_BEFORE_THE_RPC_DEFAULT


def test_slow_service_is_504_at_the_configured_timeout(start, http_session):
    start(StalledAirports, GatewayService, RPC_TIMEOUT_SECONDS=SHORT_RPC_TIMEOUT_SECONDS)

    response, seconds = timed(lambda: http_session.get("/airport/some-id", timeout=30))

    assert response.status_code == 504
    assert response.json()["error"] == "SERVICE_TIMEOUT"
    assert SHORT_RPC_TIMEOUT_SECONDS <= seconds < WELL_BEFORE_THE_RPC_DEFAULT


def test_absent_airports_behind_trips_is_503_through_two_hops(start, http_session):
    start(TripsService, GatewayService)

    response = http_session.post("/trip", json={"airport_from": "a1", "airport_to": "a2"})

    assert response.status_code == 503
    assert response.json()["error"] == "SERVICE_UNAVAILABLE"


class UnreachableBroker:
    """A nameko service proxy whose publish fails as kombu's does with the broker down."""

    service_name = "airports"

    def __init__(self, publish):
        self.publish = publish

    def __getattr__(self, method_name):
        return SimpleNamespace(call_async=self.publish)


def refused(*args, **kwargs):
    raise OperationalError("[Errno 111] ECONNREFUSED")


def silent(*args, **kwargs):
    eventlet.sleep(30)  # a broker that accepts the connection and never answers


@pytest.mark.parametrize("publish", [refused, silent], ids=["refused", "silent"])
def test_unreachable_broker_is_503_within_the_publish_timeout(publish):
    proxy = TimedServiceProxy(
        UnreachableBroker(publish),
        timeout=RPC_TIMEOUT.default,
        publish_timeout=LONG_TIMEOUT_SECONDS,
    )

    started = time.monotonic()
    with pytest.raises(ServiceUnavailable, match="broker"):
        proxy.get("some-id")
    elapsed = time.monotonic() - started

    # A refused publish fails at once; a silent broker is given the publish timeout
    # (the configured one, longer than the default), never the call's whole timeout.
    assert elapsed < WELL_BEFORE_THE_RPC_DEFAULT
    if publish is silent:
        assert elapsed >= LONG_TIMEOUT_SECONDS > RPC_PUBLISH_TIMEOUT.default


def test_a_broker_that_refuses_the_gateway_is_503(
    start, http_session, rabbit_manager, rabbit_config
):
    start(AirportsService, GatewayService)
    created = http_session.post("/airport", json={"airport": "Oslo"})
    assert created.status_code == 201
    vhost = rabbit_config["vhost"]
    rabbit_manager.delete_vhost(vhost)  # the broker closes its connections, refuses new ones
    try:
        response = http_session.get("/airport/0123456789abcdef0123456789abcdef")
    finally:  # the fixture deletes it again after the test
        rabbit_manager.create_vhost(vhost)
        user = urlsplit(rabbit_config["AMQP_URI"]).username
        rabbit_manager.set_vhost_permissions(vhost, user, ".*", ".*", ".*")

    assert_error(response, 503, "SERVICE_UNAVAILABLE")


def test_a_request_reaching_a_gateway_being_killed_is_503(
    container_factory, gateway_config, http_session
):
    container = container_factory(GatewayService, gateway_config)
    container.start()
    assert http_session.get("/health").status_code == 200
    # What nameko sets while it kills a container (a crashed managed thread, a forced
    # stop): no worker starts after it. There is no public way to hold a kill midway.
    container._being_killed = True
    try:
        response = http_session.get("/health")
    finally:
        container._being_killed = False  # the fixture stops it as usual

    assert_error(response, 503, "SERVICE_UNAVAILABLE")


def test_gateways_own_redis_down_is_503_where_it_is_needed(start, http_session):
    start(AirportsService, MessagesService)
    # nothing listens there
    start(GatewayService, REDIS_URIS={"gateway": f"redis://127.0.0.1:{free_port()}/0"})

    message = http_session.post("/messages", json={"message": "hi"})
    keyed = http_session.post(
        "/airport", json={"airport": "Oslo"}, headers={"Idempotency-Key": "k-1"}
    )
    unkeyed = http_session.post("/airport", json={"airport": "Oslo"})

    assert_error(message, 503, "SERVICE_UNAVAILABLE")  # the rate limit cannot be checked
    assert_error(keyed, 503, "SERVICE_UNAVAILABLE")
    assert unkeyed.status_code == 201  # what needs no gateway Redis still works


def test_ready_is_503_while_the_gateways_own_redis_is_down(start, http_session):
    start(AirportsService, TripsService, MessagesService)
    # nothing listens there
    start(GatewayService, REDIS_URIS={"gateway": f"redis://127.0.0.1:{free_port()}/0"})

    ready = http_session.get("/ready")

    assert_error(ready, 503, "NOT_READY")
    assert ready.json()["missing"] == [OWN_REDIS]
