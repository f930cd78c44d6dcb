"""gateway -> airports: the calls the gateway's /airport routes make, and what they rely on."""

import pytest
from airport_interactions import existing_airport, unknown_airport
from gateway_client import gateway, request, respond
from pact import match

from contract_testing.pact.consumer import ReleaseWithout, rpc_stub
from contract_testing.pact.wire import raises, returns, rpc_request
from contracts.airports import v1, v2
from contracts.errors import InvalidArgument


@pytest.fixture(scope="module")
def pact(consumer_pact):
    return consumer_pact("gateway", "airports")


def post_airport(airports, name):
    return respond(
        gateway(airports=airports).create_airport, request("POST", "/airport", {"airport": name})
    )


def test_create_airport_answers_201_with_the_stored_record(pact):
    description = "a request to create an airport, answered with the record"
    interaction = rpc_request(pact.upon_receiving(description, "Sync"), v2.CREATE_V2, "Lisbon")
    returns(interaction, {"id": match.str("3f2a9c"), "name": "Lisbon"})

    with rpc_stub(pact, "airports", description) as airports:
        response = post_airport(airports, "Lisbon")

    assert response.status_code == 201
    assert response.json == {"id": "3f2a9c", "name": "Lisbon"}
    assert response.headers["Location"] == "/airport/3f2a9c"


def test_create_airport_on_an_airports_before_1_1_falls_back_to_v1(pact):
    # Rolling deploy: an airports 1.0.0 instance takes the create_v2 call.
    description = "a request to create an airport"
    interaction = rpc_request(pact.upon_receiving(description, "Sync"), v1.CREATE, "Lisbon")
    returns(interaction, match.str("3f2a9c"))

    with rpc_stub(pact, "airports", description) as airports:
        old_release = ReleaseWithout(airports, "create_v2")
        response = post_airport(old_release, "Lisbon")

    assert old_release.missing_calls == 1
    assert response.status_code == 201
    assert response.json == {"id": "3f2a9c", "name": "Lisbon"}
    assert response.headers["Location"] == "/airport/3f2a9c"


def test_existing_airport_is_200_with_the_record(pact):
    description = "a request for an existing airport"
    existing_airport(pact, description)

    with rpc_stub(pact, "airports", description) as airports:
        response = respond(gateway(airports=airports).get_airport, request("GET", "/"), "a1")

    assert response.status_code == 200
    assert response.json == {"id": "a1", "name": "Lisbon"}


def test_unknown_airport_is_404_naming_the_id(pact):
    description = "a request for an unknown airport"
    unknown_airport(pact, description)

    with rpc_stub(pact, "airports", description) as airports:
        response = respond(gateway(airports=airports).get_airport, request("GET", "/"), "nowhere")

    assert response.status_code == 404
    assert response.json["error"] == "NOT_FOUND"
    assert response.json["field"] == "id"


def test_malformed_airport_id_is_400_naming_the_id(pact):
    # The gateway passes path ids through unchecked: airports' validation is the check.
    description = "a request for an airport with an over-long id"
    interaction = rpc_request(pact.upon_receiving(description, "Sync"), v1.GET, "x" * 65)
    raises(interaction, InvalidArgument, "id")

    with rpc_stub(pact, "airports", description) as airports:
        response = respond(gateway(airports=airports).get_airport, request("GET", "/"), "x" * 65)

    assert response.status_code == 400
    assert response.json["error"] == "INVALID_ARGUMENT"
    assert response.json["field"] == "id"
