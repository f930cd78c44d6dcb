"""gateway -> messages: the /messages routes' calls, and the ``message_created`` event
the gateway's live feed consumes (broadcast handler -> every open stream)."""

import json

import pytest
from gateway_client import gateway, request, respond
from nameko.testing.services import worker_factory
from pact import match

from contract_testing.pact.consumer import rpc_stub
from contract_testing.pact.wire import event_message, raises, returns, rpc_request
from contracts.errors import InvalidArgument, NotFound
from contracts.messages import v1
from gateway.live_feed import MessageHub, encode_event
from gateway.service import GatewayService

MESSAGE = {
    "id": match.str("5b0e7f"),
    "text": "hello",
    "created": match.int(1700000000000),
    "expires": match.int(1700000060000),
    "expires_in": match.int(60000),
}
MESSAGE_EXAMPLE = {
    "id": "5b0e7f",
    "text": "hello",
    "created": 1700000000000,
    "expires": 1700000060000,
    "expires_in": 60000,
}


@pytest.fixture(scope="module")
def pact(consumer_pact):
    return consumer_pact("gateway", "messages")


def test_post_message_is_201_with_the_saved_message(pact):
    description = "a request to save a message"
    returns(
        rpc_request(pact.upon_receiving(description, "Sync"), v1.SAVE_MESSAGE, "hello"), MESSAGE
    )

    with rpc_stub(pact, "messages", description) as messages:
        response = respond(
            gateway(messages=messages).create_message,
            request("POST", "/messages", {"message": "hello"}),
        )

    assert response.status_code == 201
    assert response.json == MESSAGE_EXAMPLE
    assert response.headers["Location"] == "/messages/5b0e7f"


def test_list_is_200_with_the_live_messages(pact):
    description = "a request for the newest live messages"
    interaction = rpc_request(
        pact.upon_receiving(description, "Sync").given("a message exists", text="hello"),
        v1.GET_ALL_MESSAGES,
        limit=10,
    )
    returns(interaction, match.each_like(MESSAGE, min=1))

    with rpc_stub(pact, "messages", description) as messages:
        response = respond(
            gateway(messages=messages).list_messages, request("GET", "/messages?limit=10")
        )

    assert response.status_code == 200
    assert response.json == [MESSAGE_EXAMPLE]


def test_out_of_range_limit_is_400_naming_the_limit(pact):
    # The gateway checks only that limit is an integer; messages owns the range.
    description = "a request for messages with a limit of zero"
    interaction = rpc_request(
        pact.upon_receiving(description, "Sync"), v1.GET_ALL_MESSAGES, limit=0
    )
    raises(interaction, InvalidArgument, "limit")

    with rpc_stub(pact, "messages", description) as messages:
        response = respond(
            gateway(messages=messages).list_messages, request("GET", "/messages?limit=0")
        )

    assert response.status_code == 400
    assert response.json["field"] == "limit"


def test_expired_or_unknown_message_is_404(pact):
    description = "a request for an expired or unknown message"
    interaction = rpc_request(pact.upon_receiving(description, "Sync"), v1.GET_MESSAGE, "gone")
    raises(interaction, NotFound, "id")

    with rpc_stub(pact, "messages", description) as messages:
        response = respond(gateway(messages=messages).get_message, request("GET", "/"), "gone")

    assert response.status_code == 404
    assert response.json["error"] == "NOT_FOUND"


def test_message_created_event_reaches_every_open_stream(pact):
    event = {key: value for key, value in MESSAGE.items() if key != "expires_in"}
    event_message(
        pact.upon_receiving("a message_created event", "Async"), v1.MESSAGE_CREATED_EVENT, event
    )
    hub = MessageHub(max_subscribers=2, heartbeat_seconds=15)
    # No socket: the test reads the queues and never iterates (streams) a body.
    streams = [hub.subscribe("198.51.100.1", None), hub.subscribe("198.51.100.2", None)]
    handler = worker_factory(GatewayService, live_feed=hub).relay_message_created

    pact.verify(lambda body, metadata: handler(json.loads(body)), "Async")

    expected = {key: value for key, value in MESSAGE_EXAMPLE.items() if key != "expires_in"}
    for stream in streams:
        assert stream.queue.get_nowait() == encode_event(v1.MESSAGE_CREATED, expected)
