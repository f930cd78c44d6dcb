"""The travel API over real HTTP, with the real airports and trips services."""

import json
import logging
import re

import pytest
from http_assertions import assert_error
from nameko.standalone.rpc import ServiceRpcProxy

from contracts.airports.v1 import AIRPORT_NAME_MAX_LENGTH
from service_runtime.logformat import ServiceJsonFormatter
from service_testing.waiting import wait_until

# What the services mint (uuid4().hex): an id echoed from elsewhere would not match.
MINTED_ID = re.compile("[0-9a-f]{32}")


@pytest.fixture
def stored(rabbit_config):
    """``stored(service, id)``: the record as its service reads it from its Redis, by RPC
    (the gateway's own read could answer from its record cache)."""

    def read(service, record_id):
        with ServiceRpcProxy(service, rabbit_config, timeout=10) as proxy:
            return proxy.get(record_id)

    return read


def create_airport(api, name):
    response = api.post("/airport", json={"airport": name})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def test_create_airport_is_201_with_location_and_reads_back(api, stored):
    response = api.post("/airport", json={"airport": "Lisbon"})

    assert response.status_code == 201
    body = response.json()
    assert MINTED_ID.fullmatch(body["id"])
    assert body == {"id": body["id"], "name": "Lisbon"}
    assert response.headers["Location"] == f"/airport/{body['id']}"
    assert api.get(response.headers["Location"]).json() == body
    assert stored("airports", body["id"]) == body


def test_unknown_airport_is_404(api):
    assert_error(api.get("/airport/nope"), 404, "NOT_FOUND", "id")


def test_trip_between_two_airports_is_201_and_reads_back(api, stored):
    lisbon, porto = create_airport(api, "Lisbon"), create_airport(api, "Porto")

    response = api.post("/trip", json={"airport_from": lisbon, "airport_to": porto})

    assert response.status_code == 201
    body = response.json()
    assert MINTED_ID.fullmatch(body["id"])
    assert body == {"id": body["id"], "airport_from": lisbon, "airport_to": porto}
    assert response.headers["Location"] == f"/trip/{body['id']}"
    assert api.get(f"/trip/{body['id']}").json() == body
    assert stored("trips", body["id"]) == body


def test_trip_to_unknown_airport_is_422_naming_the_field(api):
    lisbon = create_airport(api, "Lisbon")

    response = api.post("/trip", json={"airport_from": lisbon, "airport_to": "nowhere"})

    assert_error(response, 422, "UNKNOWN_AIRPORT", "airport_to")


def test_trip_to_the_same_airport_is_422(api):
    lisbon = create_airport(api, "Lisbon")

    response = api.post("/trip", json={"airport_from": lisbon, "airport_to": lisbon})

    assert_error(response, 422, "SAME_AIRPORT", "airport_to")


def test_unknown_trip_is_404(api):
    assert_error(api.get("/trip/nope"), 404, "NOT_FOUND", "id")


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/airport", {}, "airport"),
        ("/airport", {"airport": 42}, "airport"),
        ("/airport", {"airport": None}, "airport"),
        ("/airport", {"airport": ""}, "airport"),
        ("/airport", {"airport": "   "}, "airport"),
        ("/airport", {"airport": "x" * (AIRPORT_NAME_MAX_LENGTH + 1)}, "airport"),
        # Over the limit as sent, within it once trimmed: the schema's maxLength is as sent.
        ("/airport", {"airport": " " + "x" * AIRPORT_NAME_MAX_LENGTH}, "airport"),
        ("/airport", {"airport": "Lisbon", "city": "Lisbon"}, "city"),
        ("/trip", {"airport_from": "a1"}, "airport_to"),
        ("/trip", {"airport_from": 1, "airport_to": "a2"}, "airport_from"),
        ("/trip", {"airport_from": "a1", "airport_to": ""}, "airport_to"),
    ],
)
def test_bad_fields_are_400_naming_the_field(api, path, body, field):
    assert_error(api.post(path, json=body), 400, "INVALID_ARGUMENT", field)


@pytest.mark.parametrize("raw", [b"{not json", b"", b"\xff\xfe", b'["Lisbon"]', b'"Lisbon"'])
@pytest.mark.parametrize("path", ["/airport", "/trip"])
def test_malformed_json_is_400(api, path, raw):
    response = api.post(path, data=raw, headers={"Content-Type": "application/json"})

    assert_error(response, 400, "MALFORMED_JSON")


def chunks(*parts):
    """A body requests sends with Transfer-Encoding: chunked (no Content-Length)."""
    yield from parts


def test_chunked_body_is_read_in_full(api):
    response = api.post(
        "/airport",
        data=chunks(b'{"airport": ', b'"Lisbon"}'),
        headers={"Content-Type": "application/json"},
    )

    assert response.status_code == 201, response.text
    assert response.json()["name"] == "Lisbon"


def test_unknown_route_is_json_404(api):
    assert_error(api.get("/airports/everything"), 404, "ROUTE_NOT_FOUND")


def test_wrong_method_is_json_405_with_allow(api):
    response = api.delete("/airport/some-id")

    assert_error(response, 405, "METHOD_NOT_ALLOWED")
    assert "GET" in response.headers["Allow"]


def test_request_id_is_echoed_and_tags_every_service_call(api, caplog):
    lisbon = create_airport(api, "Lisbon")
    caplog.set_level("INFO", logger="calls")

    response = api.post(
        "/trip",
        json={"airport_from": lisbon, "airport_to": "nowhere"},
        headers={"X-Request-Id": "req-42"},
    )

    assert response.headers["X-Request-Id"] == "req-42"
    assert_every_hop_logged(
        caplog,
        "req-42",
        {
            ("gateway.create_trip ", " UNKNOWN_AIRPORT "),
            ("trips.create_v2 ", " UNKNOWN_AIRPORT "),
            ("airports.get ", " NOT_FOUND "),
        },
    )


def test_request_id_travels_with_the_event_a_call_dispatches(api, caplog):
    caplog.set_level("INFO", logger="calls")

    response = api.post("/messages", json={"message": "hi"}, headers={"X-Request-Id": "req-43"})

    assert response.status_code == 201, response.text
    # messages.save_message dispatches message_created; the gateway's handler of that
    # event runs in a worker of its own, which only the event's headers can tag.
    assert_every_hop_logged(
        caplog,
        "req-43",
        {
            ("gateway.create_message ", " ok "),
            ("messages.save_message ", " ok "),
            ("gateway.relay_message_created ", " ok "),
        },
    )


def assert_every_hop_logged(caplog, request_id, expected):
    """Each ``(line start, outcome)`` in ``expected`` is logged, tagged with ``request_id``."""

    def logged():
        tag = f"request_id={request_id} "
        tagged = [r.getMessage() for r in caplog.records if tag in r.getMessage()]
        return {
            (start, outcome)
            for start, outcome in expected
            for line in tagged
            if line.startswith(start) and outcome in line
        }

    # A worker logs after it has replied, so the last lines may trail the response.
    wait_until(lambda: logged() == expected, 5, "every hop's log line")
    assert logged() == expected


def test_a_missing_or_unacceptable_request_id_is_replaced(api):
    generated = api.get("/airport/x").headers["X-Request-Id"]
    replaced = api.get("/airport/x", headers={"X-Request-Id": "bad id\twith spaces"})

    assert MINTED_ID.fullmatch(generated)
    assert replaced.headers["X-Request-Id"] not in ("", "bad id\twith spaces")


def test_an_http_call_line_carries_its_calls_fields_as_json(api, caplog):
    """The gateway logs a route's call line once the client has the response, in the web
    server's thread: the JSON fields still come from that call (``CallObserver.observe``)."""
    caplog.set_level("INFO", logger="calls")
    lines = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(json.loads(ServiceJsonFormatter().format(record)))
    calls_log = logging.getLogger("calls")
    calls_log.addHandler(handler)
    try:
        response = api.get("/airport/nowhere", headers={"X-Request-Id": "req-json-1"})
        assert response.status_code == 404

        def gateway_line():
            return [line for line in lines if line.get("method") == "get_airport"]

        wait_until(gateway_line, 5, "the gateway's call line")
    finally:
        calls_log.removeHandler(handler)
    [line] = gateway_line()
    assert line["service"] == "gateway"
    assert line["request_id"] == "req-json-1"
    assert line["outcome"] == "NOT_FOUND"
    assert line["status"] == 404
    assert line["duration_ms"] > 0
