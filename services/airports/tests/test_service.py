"""The airports service in a real container, over real RabbitMQ and Redis."""

import pytest
import redis
from nameko.standalone.rpc import ServiceRpcProxy

from airports.service import AirportsService
from contracts.errors import InvalidArgument, NotFound, ServiceUnavailable


@pytest.fixture
def airports(container_factory, service_config):
    container_factory(AirportsService, service_config).start()
    with ServiceRpcProxy("airports", service_config, timeout=10) as proxy:
        yield proxy


def test_created_airport_reads_back(airports):
    airport_id = airports.create("Lisbon")

    assert airports.get(airport_id) == {"id": airport_id, "name": "Lisbon"}


def test_airport_is_stored_under_the_configured_prefix(airports, redis_url, redis_key_prefix):
    airport_id = airports.create("Porto")

    client = redis.Redis.from_url(redis_url, decode_responses=True)
    assert client.hgetall(f"{redis_key_prefix}airport:{airport_id}") == {"name": "Porto"}


def test_unknown_airport_raises_typed_not_found_across_rpc(airports):
    with pytest.raises(NotFound) as raised:
        airports.get("does-not-exist")

    assert raised.value.field == "id"


def test_invalid_name_raises_typed_invalid_argument_across_rpc(airports):
    with pytest.raises(InvalidArgument) as raised:
        airports.create("")

    assert raised.value.field == "name"


def test_ping_answers_when_redis_does(airports):
    assert airports.ping() == {"service": "airports", "status": "ok"}


def test_redis_outage_is_a_typed_service_unavailable(container_factory, service_config):
    # Nothing listens on port 1: every Redis command is refused at once.
    config = {**service_config, "REDIS_URIS": {"airports": "redis://127.0.0.1:1/0"}}
    container_factory(AirportsService, config).start()

    with (
        ServiceRpcProxy("airports", config, timeout=10) as airports,
        pytest.raises(ServiceUnavailable),
    ):
        airports.get("any")


def test_create_v2_answers_with_the_stored_record_and_v1_reads_it(airports):
    airport = airports.create_v2("  Faro ")

    assert airport == {"id": airport["id"], "name": "Faro"}
    assert airports.get(airport["id"]) == airport
