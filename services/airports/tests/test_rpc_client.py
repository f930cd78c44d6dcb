"""service_runtime's ``TimedRpcProxy`` in a web service that starts while requests
arrive. nameko's web server accepts them at once, maybe before the reply queue has a
consumer; a call published then must still get its reply, not lose it to a queue nobody
consumes yet and answer 504 at the timeout. Airports answers, for real."""

import json
import socket
import time

import eventlet
from nameko.web.handlers import http

from airports.service import AirportsService
from airports.store import AirportStore
from service_runtime.rpc import TimedRpcProxy

TIMEOUT_SECONDS = 2.0  # far from the default (10 s): an answer this late lost its reply
STARTS = 5
CLIENTS = 10


class Front:
    name = "front"
    airports = TimedRpcProxy("airports", timeout=TIMEOUT_SECONDS)

    @http("GET", "/airport/<airport_id>")
    def get(self, request, airport_id):
        return json.dumps(self.airports.get(airport_id))


def first_answer(port: int, airport_id: str) -> tuple[str, float]:
    """The status line of the first request the port accepts, and how long it took."""
    while True:
        try:
            sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT_SECONDS * 3)
        except OSError:
            eventlet.sleep(0.001)  # not listening yet
            continue
        started = time.monotonic()
        with sock:
            sock.sendall(f"GET /airport/{airport_id} HTTP/1.0\r\n\r\n".encode())
            status = sock.recv(64).split(b"\r\n")[0].decode()
        return status, time.monotonic() - started


def test_requests_arriving_as_a_web_service_starts_get_their_replies(
    container_factory, service_config, web_config, redis_client, redis_key_prefix
):
    lisbon = AirportStore(redis_client, redis_key_prefix, {}).create(name="Lisbon").record
    container_factory(AirportsService, service_config).start()
    port = int(web_config["WEB_SERVER_ADDRESS"].rsplit(":", 1)[1])
    answers = []
    for _ in range(STARTS):
        front = container_factory(Front, {**service_config, **web_config})
        clients = [eventlet.spawn(first_answer, port, lisbon.id) for _ in range(CLIENTS)]
        front.start()
        answers += [client.wait() for client in clients]
        front.stop()

    assert len(answers) == STARTS * CLIENTS
    failed = [(status, seconds) for status, seconds in answers if status != "HTTP/1.1 200 OK"]
    assert failed == []
    assert max(seconds for _, seconds in answers) < TIMEOUT_SECONDS
