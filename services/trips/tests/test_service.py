"""The trips service with the real airports service, over real RabbitMQ and Redis."""

import re
import time

import eventlet
import pytest
from nameko.rpc import rpc
from nameko.standalone.rpc import ServiceRpcProxy

from airports.service import AirportsService
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


def test_both_airports_are_checked_concurrently(container_factory, service_config):
    container_factory(SlowAirports, service_config).start()
    container_factory(TripsService, service_config).start()

    with ServiceRpcProxy("airports", service_config, timeout=10) as airports:
        started = time.perf_counter()
        airports.get("lisbon")
        one_lookup = time.perf_counter() - started
    with ServiceRpcProxy("trips", service_config, timeout=10) as trips:
        started = time.perf_counter()
        trips.create("lisbon", "porto")
        create = time.perf_counter() - started

    # Two lookups one after the other would take at least twice one lookup.
    assert create / one_lookup < 1.6, (create, one_lookup)
