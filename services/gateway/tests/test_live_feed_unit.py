"""The live feed's fan-out alone (pure unit tests, no server)."""

import json
import socket

import eventlet
import pytest

from gateway.errors import StreamFull
from gateway.live_feed import SUBSCRIBER_BACKLOG, MessageHub, encode_event


@pytest.fixture(autouse=True)
def peers():
    """Both ends of the sockets the subscriptions stream to (client end first); closed after."""
    opened = []
    yield opened
    for sock in opened:
        sock.close()


@pytest.fixture
def subscribe(peers):
    def subscribe_(hub, client="198.51.100.1"):
        server_end, client_end = socket.socketpair()
        peers.extend((client_end, server_end))
        return hub.subscribe(client, server_end)

    return subscribe_


def started(subscription):
    """The subscription's body, past its greeting."""
    body = subscription.stream()
    assert next(body).startswith("retry:")
    return body


def test_an_event_is_one_sse_block_with_json_data():
    block = encode_event("message_created", {"id": "m1", "text": "two\nlines"})

    name_line, data_line, end = block.split("\n", 2)
    assert name_line == "event: message_created"
    assert json.loads(data_line.removeprefix("data: ")) == {"id": "m1", "text": "two\nlines"}
    assert end == "\n"


def test_publish_reaches_every_subscriber(subscribe):
    hub = MessageHub(max_subscribers=10, heartbeat_seconds=5)
    bodies = [started(subscribe(hub)) for _ in range(3)]

    hub.publish("message_created", {"id": "m1"})

    assert {next(body) for body in bodies} == {encode_event("message_created", {"id": "m1"})}


def test_subscribing_beyond_the_maximum_raises_stream_full(subscribe):
    hub = MessageHub(max_subscribers=1, heartbeat_seconds=5)
    subscribe(hub)

    with pytest.raises(StreamFull):
        subscribe(hub)


def test_closing_a_body_releases_its_slot(subscribe):
    hub = MessageHub(max_subscribers=1, heartbeat_seconds=5)
    body = started(subscribe(hub))

    body.close()  # what the web server does when the client goes away

    assert hub.subscriptions == set()
    subscribe(hub)


def test_a_subscriber_too_far_behind_is_dropped(subscribe):
    hub = MessageHub(max_subscribers=2, heartbeat_seconds=5)
    slow = subscribe(hub)

    for number in range(SUBSCRIBER_BACKLOG + 1):
        hub.publish("message_created", {"id": str(number)})

    assert slow not in hub.subscriptions
    assert slow.closed


def test_close_all_ends_every_body(subscribe):
    hub = MessageHub(max_subscribers=10, heartbeat_seconds=5)
    bodies = [started(subscribe(hub)) for _ in range(2)]

    hub.close_all()

    for body in bodies:
        assert list(body) == []
    assert hub.subscriptions == set()


def test_a_client_hanging_up_frees_its_slot_without_a_write(subscribe, peers):
    hub = MessageHub(max_subscribers=1, heartbeat_seconds=60)
    body = started(subscribe(hub))

    peers[0].close()

    with eventlet.Timeout(5):
        assert list(body) == []  # ended by the hang-up, long before any heartbeat
    assert hub.subscriptions == set()
