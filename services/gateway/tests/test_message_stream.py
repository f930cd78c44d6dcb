"""The live feed: Server-Sent Events over real HTTP, fed by the real ``message_created`` event."""

import json

import eventlet
import pytest
import requests
from http_assertions import assert_error
from nameko.testing.utils import find_free_port

from gateway.service import GatewayService
from messages.service import MessagesService

READ_TIMEOUT_SECONDS = 10


class EventStream:
    """Reads Server-Sent Events from a streaming ``requests`` response."""

    def __init__(self, response):
        assert response.status_code == 200, response.text
        assert response.headers["Content-Type"].startswith("text/event-stream")
        self.response = response
        self.lines = response.iter_lines(decode_unicode=True)

    def next_block(self):
        """The next block of lines up to a blank line; ``None`` once the server ends the stream."""
        block = []
        with eventlet.Timeout(READ_TIMEOUT_SECONDS):
            for line in self.lines:
                if line == "":
                    if block:
                        return block
                    continue
                block.append(line)
        return None

    def next_event(self):
        """The next event as ``(name, data)``, skipping comments (greeting, heartbeats)."""
        while (block := self.next_block()) is not None:
            fields = dict(line.split(": ", 1) for line in block if not line.startswith(":"))
            if "data" in fields:
                return fields.get("event"), json.loads(fields["data"])
        raise AssertionError("stream ended before an event arrived")

    def close(self):
        self.response.close()


@pytest.fixture
def open_stream(http_session):
    streams = []

    def open_(session=http_session, path="/messages/stream"):
        stream = EventStream(session.get(path, stream=True))
        streams.append(stream)
        return stream

    yield open_
    for stream in streams:
        stream.close()


def test_stream_delivers_a_message_posted_by_another_client(api, open_stream, web_config_port):
    stream = open_stream()

    with requests.Session() as other_client:
        posted = other_client.post(
            f"http://127.0.0.1:{web_config_port}/messages", json={"message": "hi all"}, timeout=10
        ).json()

    assert stream.next_event() == (
        "message_created",
        {k: posted[k] for k in ("id", "text", "created", "expires")},
    )


def test_open_streams_hold_no_worker(start, open_stream, http_session):
    # Two workers and four open pages: if a stream kept its worker, nothing else would run.
    start(MessagesService, GatewayService, max_workers=2)
    streams = [open_stream() for _ in range(4)]

    assert http_session.get("/health").status_code == 200
    posted = http_session.post("/messages", json={"message": "to everyone"})

    assert posted.status_code == 201
    for stream in streams:
        assert stream.next_event()[1]["id"] == posted.json()["id"]


def test_every_gateway_instance_gets_every_event(start, open_stream, http_session):
    second_gateway = f"http://127.0.0.1:{find_free_port()}"
    start(MessagesService, GatewayService)
    start(GatewayService, WEB_SERVER_ADDRESS=second_gateway.removeprefix("http://"))
    with requests.Session() as second_client:
        streams = [open_stream(), open_stream(second_client, f"{second_gateway}/messages/stream")]

        posted = http_session.post("/messages", json={"message": "broadcast"}).json()

        for stream in streams:
            assert stream.next_event()[1]["id"] == posted["id"]


def test_quiet_stream_gets_heartbeat_comments(start, open_stream):
    start(GatewayService, STREAM_HEARTBEAT_SECONDS=0.1)
    stream = open_stream()

    assert stream.next_block() == ["retry: 1000", ": connected"]
    assert stream.next_block() == [": heartbeat"]
    assert stream.next_block() == [": heartbeat"]


def test_stream_beyond_the_maximum_is_503(start, open_stream, http_session):
    start(GatewayService, MAX_STREAM_SUBSCRIBERS=2)
    open_stream(), open_stream()

    assert_error(http_session.get("/messages/stream"), 503, "STREAM_FULL")


def test_a_disconnected_client_frees_its_slot(start, open_stream, http_session):
    # Heartbeats make the server write, so it notices the closed socket.
    start(GatewayService, MAX_STREAM_SUBSCRIBERS=1, STREAM_HEARTBEAT_SECONDS=0.05)
    open_stream().close()

    with eventlet.Timeout(READ_TIMEOUT_SECONDS):
        while (response := http_session.get("/messages/stream", stream=True)).status_code == 503:
            response.close()
            eventlet.sleep(0.05)
    try:
        assert response.status_code == 200
    finally:
        response.close()


def test_stopping_the_gateway_ends_open_streams(container_factory, gateway_config, open_stream):
    gateway = container_factory(GatewayService, gateway_config)
    gateway.start()
    stream = open_stream()
    assert stream.next_block() == ["retry: 1000", ": connected"]

    stopping = eventlet.spawn(gateway.stop)

    assert stream.next_block() is None
    with eventlet.Timeout(READ_TIMEOUT_SECONDS):
        stopping.wait()
