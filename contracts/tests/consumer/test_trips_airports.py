"""trips -> airports: trips checks that a trip's airports exist before storing it."""

import pytest
from nameko.testing.services import worker_factory

from contracts.airports import v1
from contracts.errors import NotFound, UnknownAirport
from contracts.pact.consumer import rpc_stub
from contracts.pact.wire import raises, returns, rpc_request
from service_runtime.rpc import TimedServiceProxy
from trips.service import TripsService

RPC_TIMEOUT_SECONDS = 5


@pytest.fixture(scope="module")
def pact(consumer_pact):
    return consumer_pact("trips", "airports")


def trips_with(airports):
    return worker_factory(TripsService, airports=TimedServiceProxy(airports, RPC_TIMEOUT_SECONDS))


def test_existing_airport_is_accepted(pact):
    description = "a request for an existing airport"
    interaction = rpc_request(
        pact.upon_receiving(description, "Sync").given("an airport exists", id="a1", name="Lisbon"),
        v1.GET,
        "a1",
    )
    returns(interaction, {"id": "a1", "name": "Lisbon"})

    with rpc_stub(pact, "airports", description) as airports:
        trips_with(airports)._require_airport("airport_from", "a1")


def test_unknown_airport_becomes_unknown_airport_naming_the_trip_field(pact):
    description = "a request for an unknown airport"
    raises(rpc_request(pact.upon_receiving(description, "Sync"), v1.GET, "nowhere"), NotFound, "id")

    with (
        rpc_stub(pact, "airports", description) as airports,
        pytest.raises(UnknownAirport) as raised,
    ):
        trips_with(airports)._require_airport("airport_to", "nowhere")

    assert raised.value.field == "airport_to"
