"""Input schemathesis does not generate (or not reliably), sent on purpose to the live
stack: Unicode at its edges, lone surrogates, huge numbers, deep nesting, wrong content
types, an oversized body written whole before the answer is read. Then the stack's own
output: every service logged JSON lines, every RPC service serves its metrics port."""

from __future__ import annotations

import json

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from gateway.strict_json import MAX_JSON_DEPTH
from service_testing.oversized_body import assert_413_json, post_whole_then_read
from service_testing.waiting import wait_until

JSON = {"Content-Type": "application/json"}


def post(stack, path, body: bytes, headers=JSON):
    return requests.post(f"{stack.url}{path}", data=body, headers=headers, timeout=15)


def assert_json_error(response, status, code=None):
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/json"
    body = response.json()
    assert body["message"]
    if code is not None:
        assert body["error"] == code


@pytest.mark.parametrize(
    "name",
    [
        "✈️ Lisboa 🇵🇹",  # emoji, a flag (two code points), variation selector
        "Lisboa \u200f(\u05dc\u05d9\u05e1\u05d1\u05d5\u05df)",  # a right-to-left mark inside
        "مطار القاهرة",  # Arabic, right to left
        "Zürich e\u0301",  # combining accent
        "\U0001d50f\U0001d526\U0001d530",  # astral plane (Fraktur) letters
    ],
)
def test_unicode_names_round_trip(stack, name):
    created = requests.post(f"{stack.url}/airport", json={"airport": name}, timeout=15)

    assert created.status_code == 201, created.text
    airport = created.json()
    assert airport["name"] == name
    # From the airports service's Redis, not from the gateway's record cache.
    assert stack.rpc("airports", "get", airport["id"]) == airport


def test_unicode_messages_round_trip(stack):
    text = "héllo 👋 \u202eolleh مرحبا"

    created = requests.post(f"{stack.url}/messages", json={"message": text}, timeout=15)

    assert created.status_code == 201, created.text
    assert created.json()["text"] == text
    assert stack.rpc("messages", "get_message", created.json()["id"])["text"] == text


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/airport", rb'{"airport": "\ud800"}'),  # a lone high surrogate
        ("/airport", rb'{"airport": "a\udfffb"}'),  # a lone low surrogate
        ("/messages", rb'{"message": "\udbff"}'),
    ],
)
def test_lone_surrogates_in_json_strings_are_400(stack, path, body):
    assert_json_error(post(stack, path, body), 400, "INVALID_ARGUMENT")


def test_a_body_that_is_not_utf8_is_400(stack):
    assert_json_error(post(stack, "/airport", b'{"airport": "\xff\xfe"}'), 400, "MALFORMED_JSON")


@pytest.mark.parametrize(
    "body",
    [
        b'{"airport": 1e400}',  # a float beyond double: infinity
        b'{"airport": -1e400}',
        b'{"airport": 1' + b"0" * 400 + b"}",
        b'{"airport": ' + b"9" * 5000 + b"}",  # past Python's int-from-text digit limit
    ],
)
def test_huge_numbers_are_400(stack, body):
    assert_json_error(post(stack, "/airport", body), 400)


def test_huge_number_errors_do_not_quote_python_internals(stack):
    response = post(stack, "/airport", b'{"airport": ' + b"9" * 5000 + b"}")

    assert "set_int_max_str_digits" not in response.json()["message"]


@pytest.mark.parametrize("limit", ["1" + "0" * 30, "9" * 5000, "-1", "0", "1.5", "1e3"])
def test_page_sizes_out_of_range_or_not_integers_are_400(stack, limit):
    response = requests.get(f"{stack.url}/messages", params={"limit": limit}, timeout=15)

    assert_json_error(response, 400, "INVALID_ARGUMENT")


@pytest.mark.parametrize("limit", ["\u0665", " 5", "+5"])  # Arabic-Indic five, space, sign
def test_page_sizes_take_plain_ascii_digits_only(stack, limit):
    response = requests.get(f"{stack.url}/messages", params={"limit": limit}, timeout=15)

    assert_json_error(response, 400, "INVALID_ARGUMENT")


def test_nesting_within_the_depth_bound_is_an_invalid_argument(stack):
    depth = MAX_JSON_DEPTH - 1  # the object around it is one level more
    body = b'{"airport": ' + b"[" * depth + b"]" * depth + b"}"

    assert_json_error(post(stack, "/airport", body), 400, "INVALID_ARGUMENT")


@pytest.mark.parametrize("depth", [1_000, 8_000])  # 8 000: just under MAX_BODY_BYTES
def test_deeply_nested_json_is_400_not_a_crash(stack, depth):
    body = b'{"airport": ' + b"[" * depth + b"]" * depth + b"}"

    assert_json_error(post(stack, "/airport", body), 400, "MALFORMED_JSON")


@pytest.mark.parametrize("name", ["a\x00b", "tab\there", "bell\x07"])
def test_nul_and_control_characters_in_names_are_400_naming_the_field(stack, name):
    response = requests.post(f"{stack.url}/airport", json={"airport": name}, timeout=15)

    assert_json_error(response, 400, "INVALID_ARGUMENT")
    assert response.json()["field"] == "airport"


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
)
def test_post_bodies_that_are_not_declared_json_are_415(stack, content_type):
    response = post(stack, "/messages", b'{"message": "hi"}', {"Content-Type": content_type})

    assert_json_error(response, 415)


def test_an_oversized_body_sent_whole_on_a_kept_alive_connection_gets_its_413_json(stack):
    assert_413_json(post_whole_then_read(stack.url, 1_000_000, "keep-alive"))


def test_an_oversized_body_sent_whole_then_connection_close_gets_its_413_json(stack):
    # The edge answers 413 before reading the body; closing with the body unread would
    # make the kernel reset the connection before the client reads the answer.
    for _ in range(3):
        assert_413_json(post_whole_then_read(stack.url, 4_000_000, "close"))


def test_every_service_writes_one_json_object_per_line(stack):
    requests.get(f"{stack.url}/airport/nope", timeout=15)  # a line of each kind, at least

    for name, process in stack.processes.items():
        output = process.output()
        # Before logging is configured, Python prints eventlet's deprecation warning;
        # a line still being written has no newline yet.
        lines = output[output.index('{"level"') : output.rindex("\n")].splitlines()
        assert lines, name
        for line in lines:
            try:
                record = json.loads(line)
            except ValueError:
                pytest.fail(f"{name} wrote a line that is not JSON: {line!r}")
            assert record["service"] == name
            assert {"time", "level", "logger", "message"} <= record.keys()


def call_lines(stack, request_id: str, *services: str) -> list[dict]:
    """The JSON call-log lines of ``services`` tagged with ``request_id``."""
    return [
        json.loads(line)
        for name in services
        for line in stack.processes[name].output().splitlines()
        if request_id in line and '"logger": "calls"' in line
    ]


def test_gateway_call_lines_carry_request_id_method_outcome_and_duration(stack):
    response = requests.get(
        f"{stack.url}/airport/nope", headers={"X-Request-Id": "fuzz-log-check"}, timeout=15
    )
    assert response.status_code == 404

    def logged() -> list[dict]:
        return call_lines(stack, "fuzz-log-check", "gateway", "airports")

    wait_until(lambda: len(logged()) == 2, 10, "the gateway's and airports' call lines")
    by_service = {line["service"]: line for line in logged()}
    assert by_service["gateway"]["method"] == "get_airport"
    assert by_service["gateway"]["outcome"] == "NOT_FOUND"
    assert by_service["airports"]["method"] == "get"
    assert by_service["airports"]["outcome"] == "NOT_FOUND"
    for line in by_service.values():
        assert line["request_id"] == "fuzz-log-check"
        assert line["duration_ms"] > 0


def test_a_gateway_call_line_carries_the_http_status(stack):
    response = requests.get(
        f"{stack.url}/messages?limit=1", headers={"X-Request-Id": "fuzz-status"}, timeout=15
    )
    assert response.status_code == 200

    def logged() -> list[dict]:
        return call_lines(stack, "fuzz-status", "gateway", "messages")

    wait_until(lambda: len(logged()) == 2, 10, "the gateway's and messages' call lines")
    by_service = {line["service"]: line for line in logged()}
    assert by_service["gateway"]["method"] == "list_messages"
    assert by_service["gateway"]["status"] == 200
    assert "status" not in by_service["messages"]  # an RPC call has no HTTP status


def test_each_rpc_service_serves_its_own_metrics(stack):
    requests.post(f"{stack.url}/messages", json={"message": "counted"}, timeout=15)
    requests.get(f"{stack.url}/trip/nope", timeout=15)
    called = {"messages": "save_message", "trips": "get", "airports": "ping"}

    for service, port in stack.metrics_ports.items():
        text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=15).text
        counts = {
            sample.labels["method"]: sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
            if sample.name == "nameko_entrypoint_duration_seconds_count"
            and sample.labels["service"] == service
        }
        assert counts.get(called[service], 0) >= 1, (service, counts)
