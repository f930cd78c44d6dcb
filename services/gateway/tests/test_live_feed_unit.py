"""The live feed's fan-out alone (pure unit tests, no server)."""

import json

import pytest

from gateway.errors import StreamFull
from gateway.live_feed import SUBSCRIBER_BACKLOG, MessageHub, encode_event


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


def test_publish_reaches_every_subscriber():
    hub = MessageHub(max_subscribers=10, heartbeat_seconds=5)
    bodies = [started(hub.subscribe()) for _ in range(3)]

    hub.publish("message_created", {"id": "m1"})

    assert {next(body) for body in bodies} == {encode_event("message_created", {"id": "m1"})}


def test_subscribing_beyond_the_maximum_raises_stream_full():
    hub = MessageHub(max_subscribers=1, heartbeat_seconds=5)
    hub.subscribe()

    with pytest.raises(StreamFull):
        hub.subscribe()


def test_closing_a_body_releases_its_slot():
    hub = MessageHub(max_subscribers=1, heartbeat_seconds=5)
    body = started(hub.subscribe())

    body.close()  # what the web server does when the client goes away

    assert hub.subscriptions == set()
    hub.subscribe()


def test_a_subscriber_too_far_behind_is_dropped():
    hub = MessageHub(max_subscribers=2, heartbeat_seconds=5)
    slow = hub.subscribe()

    for number in range(SUBSCRIBER_BACKLOG + 1):
        hub.publish("message_created", {"id": str(number)})

    assert slow not in hub.subscriptions
    assert slow.closed


def test_close_all_ends_every_body():
    hub = MessageHub(max_subscribers=10, heartbeat_seconds=5)
    bodies = [started(hub.subscribe()) for _ in range(2)]

    hub.close_all()

    for body in bodies:
        assert list(body) == []
    assert hub.subscriptions == set()
