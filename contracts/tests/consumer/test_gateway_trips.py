"""gateway -> trips: the calls the gateway's /trip routes make, and what they rely on."""

import pytest
from gateway_client import gateway, request, respond
from pact import match

from contract_testing.pact.consumer import ReleaseWithout, rpc_stub
from contract_testing.pact.wire import raises, returns, rpc_request
from contracts.errors import NotFound, SameAirport, UnknownAirport
from contracts.trips import v1, v2


@pytest.fixture(scope="module")
def pact(consumer_pact):
    return consumer_pact("gateway", "trips")


def post_trip(trips, airport_from, airport_to):
    body = {"airport_from": airport_from, "airport_to": airport_to}
    return respond(gateway(trips=trips).create_trip, request("POST", "/trip", body))


def create_request(pact, description, method):
    """``method("a1", "a2")`` while both airports exist."""
    return rpc_request(
        pact.upon_receiving(description, "Sync")
        .given("an airport exists", id="a1", name="Lisbon")
        .given("an airport exists", id="a2", name="Porto"),
        method,
        "a1",
        "a2",
    )


def test_create_trip_answers_201_with_the_stored_trip(pact):
    description = "a request to create a trip between two airports, answered with the trip"
    interaction = create_request(pact, description, v2.CREATE_V2)
    returns(interaction, {"id": match.str("7d1e0b"), "airport_from": "a1", "airport_to": "a2"})

    with rpc_stub(pact, "trips", description) as trips:
        response = post_trip(trips, "a1", "a2")

    assert response.status_code == 201
    assert response.json == {"id": "7d1e0b", "airport_from": "a1", "airport_to": "a2"}
    assert response.headers["Location"] == "/trip/7d1e0b"


def test_create_trip_on_a_trips_before_1_1_falls_back_to_v1(pact):
    # Rolling deploy: a trips 1.0.0 instance takes the create_v2 call.
    description = "a request to create a trip between two airports"
    returns(create_request(pact, description, v1.CREATE), match.str("7d1e0b"))

    with rpc_stub(pact, "trips", description) as trips:
        old_release = ReleaseWithout(trips, "create_v2")
        response = post_trip(old_release, "a1", "a2")

    assert old_release.missing_calls == 1
    assert response.status_code == 201
    assert response.json == {"id": "7d1e0b", "airport_from": "a1", "airport_to": "a2"}
    assert response.headers["Location"] == "/trip/7d1e0b"


@pytest.mark.parametrize(
    ("description", "airport_to", "error", "code"),
    [
        (
            "a request to create a trip to an unknown airport",
            "nowhere",
            UnknownAirport,
            "UNKNOWN_AIRPORT",
        ),
        ("a request to create a trip to the same airport", "a1", SameAirport, "SAME_AIRPORT"),
    ],
)
def test_rejected_trip_is_422_naming_the_destination(pact, description, airport_to, error, code):
    interaction = rpc_request(
        pact.upon_receiving(description, "Sync").given("an airport exists", id="a1", name="Lisbon"),
        v2.CREATE_V2,
        "a1",
        airport_to,
    )
    raises(interaction, error, "airport_to")

    with rpc_stub(pact, "trips", description) as trips:
        response = post_trip(trips, "a1", airport_to)

    assert response.status_code == 422
    assert response.json["error"] == code
    assert response.json["field"] == "airport_to"


def test_existing_trip_is_200_with_the_record(pact):
    description = "a request for an existing trip"
    trip = {"id": "t1", "airport_from": "a1", "airport_to": "a2"}
    interaction = rpc_request(
        pact.upon_receiving(description, "Sync").given("a trip exists", **trip), v1.GET, "t1"
    )
    returns(interaction, trip)

    with rpc_stub(pact, "trips", description) as trips:
        response = respond(gateway(trips=trips).get_trip, request("GET", "/"), "t1")

    assert response.status_code == 200
    assert response.json == trip


def test_unknown_trip_is_404_naming_the_id(pact):
    description = "a request for an unknown trip"
    raises(rpc_request(pact.upon_receiving(description, "Sync"), v1.GET, "nowhere"), NotFound, "id")

    with rpc_stub(pact, "trips", description) as trips:
        response = respond(gateway(trips=trips).get_trip, request("GET", "/"), "nowhere")

    assert response.status_code == 404
    assert response.json["error"] == "NOT_FOUND"
    assert response.json["field"] == "id"
