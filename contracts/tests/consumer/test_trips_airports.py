"""trips -> airports: trips checks that a trip's airports exist before storing it."""

import pytest
from airport_interactions import existing_airport, unknown_airport
from nameko.testing.services import worker_factory

from contract_testing.pact.consumer import rpc_stub
from contracts.errors import UnknownAirport
from service_runtime.rpc import TimedServiceProxy
from service_testing.records import records_uncached
from trips.service import TripsService

RPC_TIMEOUT_SECONDS = 5


@pytest.fixture(scope="module")
def pact(consumer_pact):
    return consumer_pact("trips", "airports")


def trips_with(airports):
    return worker_factory(
        TripsService,
        airports=TimedServiceProxy(airports, RPC_TIMEOUT_SECONDS),
        **records_uncached(TripsService),
    )


def test_existing_airport_is_accepted(pact):
    description = "a request for an existing airport"
    existing_airport(pact, description)

    with rpc_stub(pact, "airports", description) as airports:
        assert trips_with(airports)._airport_error("airport_from", "a1") is None


def test_unknown_airport_becomes_unknown_airport_naming_the_trip_field(pact):
    description = "a request for an unknown airport"
    unknown_airport(pact, description)

    with rpc_stub(pact, "airports", description) as airports:
        error = trips_with(airports)._airport_error("airport_to", "nowhere")

    assert isinstance(error, UnknownAirport)
    assert error.field == "airport_to"
