"""The trips service with the real airports service, over real RabbitMQ and Redis."""

import re
import time

import eventlet
import pytest
from nameko.rpc import rpc
from nameko.standalone.rpc import ServiceRpcProxy

from airports.service import AirportsService
from airports.store import AirportStore
from contracts.airports.v1 import Airport
from contracts.errors import NotFound, SameAirport, ServiceUnavailable, UnknownAirport
from trips.service import TripsService


@pytest.fixture
def trips_only(container_factory, service_config):
    container_factory(TripsService, service_config).start()
    with ServiceRpcProxy("trips", service_config, timeout=10) as proxy:
        yield proxy


@pytest.fixture
def airports(container_factory, service_config):
    container_factory(AirportsService, service_config).start()
    with ServiceRpcProxy("airports", service_config, timeout=10) as proxy:
        yield proxy


@pytest.fixture
def trips(airports, trips_only):
    return trips_only


def test_trip_between_existing_airports_reads_back(airports, trips):
    lisbon, porto = airports.create("Lisbon"), airports.create("Porto")

    trip_id = trips.create(lisbon, porto)

    assert trips.get(trip_id) == {"id": trip_id, "airport_from": lisbon, "airport_to": porto}


def test_create_v2_answers_with_the_stored_trip(airports, trips):
    lisbon, porto = airports.create("Lisbon"), airports.create("Porto")

    trip = trips.create_v2(lisbon, porto)

    assert re.fullmatch("[0-9a-f]{32}", trip["id"])
    assert trip == {"id": trip["id"], "airport_from": lisbon, "airport_to": porto}
    assert trips.get(trip["id"]) == trip


def test_unknown_airport_is_refused_with_its_field(airports, trips):
    lisbon = airports.create("Lisbon")

    with pytest.raises(UnknownAirport) as raised:
        trips.create("nowhere", lisbon)

    assert raised.value.field == "airport_from"


def test_same_airport_is_refused(airports, trips):
    lisbon = airports.create("Lisbon")

    with pytest.raises(SameAirport):
        trips.create(lisbon, lisbon)


def test_unknown_trip_raises_not_found(trips):
    with pytest.raises(NotFound):
        trips.get("nope")


def test_absent_airports_service_is_a_typed_unavailable_error(trips_only):
    with pytest.raises(ServiceUnavailable):
        trips_only.create("a1", "a2")


class SlowAirports:
    """Knows every airport, but takes LOOKUP_SECONDS to say so."""

    name = "airports"

    @rpc
    def get(self, id):  # noqa: A002 - the contract's argument name
        eventlet.sleep(LOOKUP_SECONDS)
        return {"id": id, "name": id}


LOOKUP_SECONDS = 0.5
SAMPLES = 3


def timed(call, *args):
    started = time.perf_counter()
    call(*args)
    return time.perf_counter() - started


def test_both_airports_are_checked_concurrently(container_factory, service_config):
    container_factory(SlowAirports, service_config).start()
    container_factory(TripsService, service_config).start()

    # Best of SAMPLES each: one slow moment of a shared machine cannot fail the test,
    # and a sequential check can never be fast, so its best still fails it.
    with ServiceRpcProxy("airports", service_config, timeout=10) as airports:
        one_lookup = min(timed(airports.get, "lisbon") for _ in range(SAMPLES))
    with ServiceRpcProxy("trips", service_config, timeout=10) as trips:
        # New ids each time: trips keeps airports it has found (never changing), and a
        # remembered airport would need no lookup at all.
        create = min(timed(trips.create, f"from-{n}", f"to-{n}") for n in range(SAMPLES))

    # Two lookups one after the other would take at least twice one lookup.
    assert create / one_lookup < 1.6, (create, one_lookup)


@pytest.fixture
def airport_store(redis_url, redis_key_prefix):
    """The airports service's store, to change airports behind the services' back."""
    import redis

    client = redis.Redis.from_url(redis_url, decode_responses=True)
    yield AirportStore(client, redis_key_prefix, {})
    client.close()


def test_an_airport_found_once_is_not_asked_for_again(airports, trips, airport_store):
    lisbon, porto = airports.create("Lisbon"), airports.create("Porto")
    trips.create(lisbon, porto)

    airport_store.client.delete(airport_store.key("airport", lisbon))  # only trips remembers it

    assert trips.get(trips.create(lisbon, porto))["airport_from"] == lisbon


def test_an_unknown_airport_is_asked_for_again(airports, trips, airport_store):
    lisbon = airports.create("Lisbon")
    with pytest.raises(UnknownAirport):
        trips.create(lisbon, "later")

    airport_store.write(Airport(id="later", name="Later"), only_if_new=False)

    assert trips.get(trips.create(lisbon, "later"))["airport_to"] == "later"
