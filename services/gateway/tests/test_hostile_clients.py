"""Hostile clients against the production path: the real edge (HAProxy running
deploy/edge/haproxy.cfg) in front of the real gateway and services.

Each test is an attack as a network client would send it, over raw sockets where a
library would fix the bytes up: slow bodies, idle and half-sent connections, request
smuggling, oversized requests, stream and connection hoarding, cross-site posts, forged
client addresses. Every refusal is asserted as the project's JSON error body with an
X-Request-Id, whichever layer answers it; what HAProxy's own HTTP/1 parser rejects
before a request exists is closed without a word (deploy/edge/haproxy.cfg, header).
Every socket operation is bounded (``raw_http.SOCKET_SECONDS``); every connection a test
opens is closed when it ends.
"""

from __future__ import annotations

import gzip
import logging
import socket
import struct
import subprocess
from contextlib import ExitStack

import pytest
import requests
from edge_client import EdgeClient
from prometheus_client.parser import text_string_to_metric_families
from raw_http import (
    assert_json_error,
    connect,
    exchange,
    parse_responses,
    read_until_closed,
    request_bytes,
)

from airports.service import AirportsService
from gateway.service import GatewayService
from gateway.strict_json import MAX_JSON_DEPTH
from messages.service import MessagesService
from service_testing.ports import free_port
from service_testing.waiting import wait_until

WORKERS = 2
# A deadline configured for a test, and what "well before the default (10 s)" means.
SHORT_DEADLINE = "500ms"
WELL_BEFORE_THE_DEFAULT_SECONDS = 5.0
SMUGGLED = b"GET /airport/SMUGGLED HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
JSON = "Content-Type: application/json"
EVERY_RESPONSE = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}


@pytest.fixture
def through_edge(edge):
    """``through_edge()``: a client of a new edge with its default settings, in front of
    the test's gateway (start the gateway first: the edge checks it at once)."""
    with ExitStack() as clients:
        yield lambda: clients.enter_context(EdgeClient(edge().url))


@pytest.fixture
def gateway_alone(start, through_edge):
    """Only the gateway behind the edge: enough for every refusal before an RPC call."""
    start(GatewayService)
    return through_edge()


@pytest.fixture
def api(start, through_edge):
    """Airports, messages and the gateway behind the edge."""
    start(AirportsService, MessagesService, GatewayService)
    return through_edge()


@pytest.fixture
def held():
    """Connections a test keeps open (referenced here, so never closed by the garbage
    collector); all closed at its end."""
    sockets = []

    def hold(sock: socket.socket) -> socket.socket:
        sockets.append(sock)
        return sock

    yield hold
    for sock in sockets:
        sock.close()


def assert_edge_headers(response) -> None:
    """What the edge puts on every response (``requests`` or raw)."""
    headers = {name.lower(): value for name, value in response.headers.items()}
    for name, value in EVERY_RESPONSE.items():
        assert headers.get(name) == value, (name, headers)
    assert headers.get("x-request-id")


def assert_refused(response, status: int, code: str) -> None:
    assert_json_error(response, status, code)
    assert_edge_headers(response)


def slow_body_connection(port: int) -> socket.socket:
    """``POST /messages`` announcing 100 bytes of body and sending 5."""
    sock = connect(port)
    sock.sendall(request_bytes("POST", "/messages", JSON, "Content-Length: 100") + b'{"mes')
    return sock


def edge_metrics(edge) -> dict:
    text = requests.get(f"{edge.internal_url}/metrics", timeout=10).text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def public_sessions(edge) -> float:
    return edge_metrics(edge)[("haproxy_frontend_current_sessions", (("proxy", "public"),))]


def gateway_saw(caplog, text: str) -> bool:
    """Whether the gateway's web server logged a request line holding ``text``."""
    return any(text in record.getMessage() for record in caplog.records)


# -- slow clients cost the edge a socket, never a gateway worker ---------------------------


def test_slow_bodies_hold_no_worker(start, edge, held, caplog):
    caplog.set_level(logging.INFO)
    start(AirportsService, MessagesService, GatewayService, max_workers=WORKERS)
    # Far above any wait below: a slow body that reached the gateway would hold its
    # worker all that time, and the reads below could not be answered.
    front = edge(EDGE_REQUEST_TIMEOUT="300s")
    with EdgeClient(front.url) as client:
        airport = client.post("/airport", json={"airport": "Lisbon"}).json()["id"]

        for _ in range(3 * WORKERS):
            held(slow_body_connection(front.port))
        wait_until(lambda: public_sessions(front) >= 3 * WORKERS, 10, "the edge to hold them")

        assert client.get("/health").status_code == 200
        assert client.get(f"/airport/{airport}").json() == {"id": airport, "name": "Lisbon"}
    assert not gateway_saw(caplog, "POST /messages")


def test_a_body_slower_than_the_deadline_is_408(start, edge, held):
    start(GatewayService)
    sock = held(slow_body_connection(edge(EDGE_REQUEST_TIMEOUT=SHORT_DEADLINE).port))

    closed = read_until_closed(sock)

    [response] = parse_responses(closed.data)
    assert_refused(response, 408, "REQUEST_TIMEOUT")
    assert closed.after_seconds < WELL_BEFORE_THE_DEFAULT_SECONDS


def test_idle_and_half_sent_heads_are_closed_without_a_word_at_the_deadline(start, edge, held):
    start(GatewayService)
    port = edge(EDGE_REQUEST_TIMEOUT=SHORT_DEADLINE).port
    idle = [held(connect(port)) for _ in range(10)]
    half_sent = [held(connect(port)) for _ in range(10)]
    for sock in half_sent:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0")

    for sock in idle + half_sent:
        closed = read_until_closed(sock)
        assert closed.data == b""
        assert closed.after_seconds < WELL_BEFORE_THE_DEFAULT_SECONDS


def test_one_client_address_cannot_take_every_connection(start, edge, held):
    start(GatewayService)
    front = edge(EDGE_MAX_CONNECTIONS_PER_CLIENT="3")
    port = front.port
    for _ in range(3):
        held(connect(port, source="127.0.0.2"))
    # Connected is not yet accepted: the edge counts a connection once it has taken it.
    wait_until(lambda: public_sessions(front) >= 3, 10, "the edge to hold them")

    [hoarder] = exchange(port, request_bytes("GET", "/health"), source="127.0.0.2")
    [other] = exchange(port, request_bytes("GET", "/health"), source="127.0.0.3")

    assert_refused(hoarder, 429, "TOO_MANY_CONNECTIONS")
    assert other.status == 200


# -- framing: nothing ambiguous is passed on ----------------------------------------------


@pytest.mark.parametrize(
    ("framing", "status"),
    [
        # HAProxy's parser answers this one with its own 422 page (no file replaces it).
        (["Transfer-Encoding: gzip, chunked"], 422),
        (["Transfer-Encoding: chunked, identity"], None),
        (["Transfer-Encoding: xchunked"], None),
        (["Transfer-Encoding: chunked", "Transfer-Encoding: chunked"], None),
        # Transfer-Encoding wins (RFC 9112); the body then is no valid chunked one.
        (["Content-Length: 5", "Transfer-Encoding: chunked"], None),
        (["Content-Length: 5", "Content-Length: 6"], None),
        (["Content-Length: -5"], None),
        (["Content-Length: +5"], None),
        (["Content-Length: 0x5"], None),
        (["Content-Length : 5"], None),
    ],
)
def test_ambiguous_framing_never_reaches_the_gateway(
    start, edge, caplog, redis_client, redis_key_prefix, framing, status
):
    caplog.set_level(logging.INFO)
    start(AirportsService, GatewayService)
    body = b'{"airport": "Lisbon"}' + SMUGGLED
    request = request_bytes("POST", "/airport", JSON, *framing)

    responses = exchange(edge().port, request + body)

    # Closed without a word (None), or one answer; never two.
    assert [response.status for response in responses] == ([] if status is None else [status])
    assert not gateway_saw(caplog, "/airport")
    assert redis_client.keys(f"{redis_key_prefix}*") == []


@pytest.mark.parametrize(
    "chunks",
    [
        b"zz\r\nabc\r\n0\r\n\r\n",
        b"-5\r\nabcde\r\n0\r\n\r\n",
        b"0x5\r\nabcde\r\n0\r\n\r\n",
        b"5\r\nabcdefgh\r\n0\r\n\r\n",  # chunk longer than its size
    ],
)
def test_a_malformed_chunked_body_is_closed_and_never_passed_on(start, edge, caplog, chunks):
    caplog.set_level(logging.INFO)
    start(GatewayService)
    request = request_bytes("POST", "/airport", JSON, "Transfer-Encoding: chunked")

    assert exchange(edge().port, request + chunks) == []
    assert not gateway_saw(caplog, "/airport")


@pytest.mark.parametrize(
    "chunks", [b"15\r\n" + b'{"airport": "Lisbon"}\r\n', b""], ids=["no-last-chunk", "no-chunk"]
)
def test_a_cut_off_chunked_body_is_408_at_the_deadline(start, edge, held, chunks):
    start(GatewayService)
    request = request_bytes("POST", "/airport", JSON, "Transfer-Encoding: chunked")
    # The sending side stays open: a client that closes it mid-body has left.
    sock = held(connect(edge(EDGE_REQUEST_TIMEOUT=SHORT_DEADLINE).port))
    sock.sendall(request + chunks)

    [response] = parse_responses(read_until_closed(sock).data)

    assert_refused(response, 408, "REQUEST_TIMEOUT")


def test_a_well_formed_chunked_body_with_extensions_and_trailers_is_read(start, edge):
    start(AirportsService, GatewayService)
    request = request_bytes("POST", "/airport", JSON, "Transfer-Encoding: Chunked")
    chunks = b'0b;ext=1\r\n{"airport":\r\n0A\r\n "Lisbon"}\r\n0\r\nX-Trailer: 1\r\n\r\n'

    [response] = exchange(edge().port, request + chunks)

    assert response.status == 201, response
    assert response.json()["name"] == "Lisbon"


# -- request lines, headers, versions, bodies -----------------------------------------------


@pytest.mark.parametrize(
    ("request_", "status", "code"),
    [
        (request_bytes("GET", "/" + "a" * 9000), 414, "URI_TOO_LONG"),
        (
            request_bytes("GET", "/health", *(f"X-{n}: {'c' * 1000}" for n in range(20))),
            431,
            "HEADERS_TOO_LARGE",
        ),
        (b"GET /health HTTP/9.9\r\nHost: 127.0.0.1\r\n\r\n", 505, "HTTP_VERSION_NOT_SUPPORTED"),
        (b"GET /health HTTP/3.0\r\nHost: 127.0.0.1\r\n\r\n", 505, "HTTP_VERSION_NOT_SUPPORTED"),
        # HTTP/2 is served, but as HTTP/2 (below), not as a version in a text line.
        (b"GET /health HTTP/2.0\r\nHost: 127.0.0.1\r\n\r\n", 505, "HTTP_VERSION_NOT_SUPPORTED"),
        (request_bytes("GET", "/health", "X-Log: a\x00b"), 400, "MALFORMED_REQUEST"),
        (request_bytes("GET", "/health", "X-Log: \x1b[31m"), 400, "MALFORMED_REQUEST"),
    ],
    ids=["uri", "headers", "http-9.9", "http-3.0", "http-2.0-text", "nul", "escape"],
)
def test_oversized_or_broken_requests_get_the_json_error(start, edge, request_, status, code):
    start(GatewayService)

    [response] = exchange(edge().port, request_)

    assert_refused(response, status, code)


@pytest.mark.parametrize(
    "request_",
    [
        request_bytes("GET", "/" + "a" * 70_000),  # past the edge's buffer: never parsed
        request_bytes("GET", "/health", "X-Big: " + "b" * 70_000),
        b"GET /health\r\n\r\n",  # HTTP/0.9
        b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nno colon here\r\n\r\n",
        b"GET /a\x1bb HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        b"CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    ],
    ids=["uri-70k", "header-70k", "http-0.9", "no-colon", "control-in-target", "connect"],
)
def test_what_the_parser_cannot_read_is_closed_without_a_word(start, edge, caplog, request_):
    caplog.set_level(logging.INFO)
    start(GatewayService)

    assert exchange(edge().port, request_) == []
    assert not gateway_saw(caplog, "HTTP/")


def test_an_http2_client_is_answered_in_http2(start, edge):
    start(GatewayService)
    preface = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
    with connect(edge().port) as sock:
        sock.sendall(preface + struct.pack(">I", 0)[1:] + b"\x04\x00" + struct.pack(">I", 0))
        frame = sock.recv(9)

    # A frame header: 24-bit length, type 4 (SETTINGS), flags, stream 0.
    assert frame[3] == 0x04, frame


def test_a_body_over_the_limit_is_413_before_it_is_read(start, edge):
    start(GatewayService)
    request = request_bytes("POST", "/messages", JSON, "Content-Length: 1000000")

    # Not a byte of the body sent, and the connection left open: the answer cannot have
    # waited for the body. (Body bytes the edge never reads turn its close into a reset
    # that can drop the answer unread; a half-close sent with the head can read as the
    # client giving up: each lost the answer once in CI.)
    with connect(edge().port) as sock:
        sock.sendall(request)
        [response] = parse_responses(read_until_closed(sock).data)

    assert_refused(response, 413, "BODY_TOO_LARGE")


def test_a_chunked_body_over_the_limit_is_413_and_nothing_is_stored(
    start, edge, redis_client, redis_key_prefix
):
    start(AirportsService, GatewayService)
    chunk = b'{"airport": "' + b"x" * 2000
    request = request_bytes("POST", "/airport", JSON, "Transfer-Encoding: chunked")
    body = b"%x\r\n%s\r\n0\r\n\r\n" % (len(chunk), chunk)

    [response] = exchange(edge(EDGE_MAX_BODY_BYTES="1024").port, request + body)

    assert_refused(response, 413, "BODY_TOO_LARGE")
    assert redis_client.keys(f"{redis_key_prefix}*") == []


def test_expect_100_continue_is_answered_before_the_body_is_read(start, edge):
    start(AirportsService, GatewayService)
    body = b'{"airport": "Lisbon"}'
    head = request_bytes(
        "POST", "/airport", JSON, f"Content-Length: {len(body)}", "Expect: 100-continue"
    )
    with connect(edge().port) as sock:
        sock.sendall(head)
        assert sock.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(body)
        sock.shutdown(socket.SHUT_WR)
        [response] = parse_responses(read_until_closed(sock).data)

    assert response.status == 201


def test_no_gateway_behind_the_edge_is_503_json(edge):
    # Nothing listens where the edge looks for the gateway.
    [response] = exchange(edge().port, request_bytes("GET", "/health"))

    assert_refused(response, 503, "SERVICE_UNAVAILABLE")


def test_requests_on_a_kept_alive_connection_still_work(api):
    for _ in range(3):
        assert api.post("/airport", json={"airport": "Lisbon"}).status_code == 201
        assert api.get("/health").status_code == 200


# -- JSON -----------------------------------------------------------------------------------


def nested(depth: int) -> bytes:
    """``{"airport": [[...]]}``: an object holding arrays, ``depth`` levels in all."""
    return b'{"airport": ' + b"[" * (depth - 1) + b"]" * (depth - 1) + b"}"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (nested(MAX_JSON_DEPTH - 1), "INVALID_ARGUMENT"),
        (nested(MAX_JSON_DEPTH), "INVALID_ARGUMENT"),
        (nested(MAX_JSON_DEPTH + 1), "MALFORMED_JSON"),
        (b"[" * 972 + b"]" * 972, "MALFORMED_JSON"),
        (b'{"airport": "[[[[{{{{' + b"[" * 2000 + b'"}', "INVALID_ARGUMENT"),  # in a string
        # The probe's body: an unclosed string full of escaped quotes, then brackets.
        (b'"' + b'\\"' * 8170 + b"[" * 33, "MALFORMED_JSON"),
    ],
    ids=["depth-31", "depth-32", "depth-33", "deep-array", "brackets-in-a-string", "probe"],
)
def test_nesting_is_bounded_before_the_parser_recurses(gateway_alone, body, code):
    response = gateway_alone.post(
        "/airport", data=body, headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 400, response.text
    assert response.json()["error"] == code


@pytest.mark.parametrize(
    "raw",
    [
        b'{"airport": "Lisbon", "airport": "Porto"}',
        '{"airport": "Lisbon"}'.encode("utf-16"),
        '{"airport": "Lisbon"}'.encode("utf-16-le"),
        '{"airport": "Lisbon"}'.encode("utf-32"),
        b'\xef\xbb\xbf{"airport": "Lisbon"}',
        b'{"airport": NaN}',
        b'{"airport": Infinity}',
    ],
)
def test_duplicate_keys_other_encodings_and_non_json_constants_are_400(gateway_alone, raw):
    response = gateway_alone.post(
        "/airport", data=raw, headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 400, response.text
    assert response.json()["error"] == "MALFORMED_JSON"


def test_a_huge_number_is_400_without_python_internals(gateway_alone):
    response = gateway_alone.post(
        "/airport",
        data=b'{"airport": ' + b"9" * 4301 + b"}",
        headers={"Content-Type": "application/json"},
    )

    assert response.status_code == 400
    assert response.json()["error"] == "MALFORMED_JSON"
    assert "sys." not in response.text
    assert "int_max_str_digits" not in response.text


@pytest.mark.parametrize(
    ("path", "field", "text"),
    [
        ("/messages", "message", "nul\x00byte"),
        ("/messages", "message", "bell\x07"),
        ("/messages", "message", "escape \x1b[31m red"),
        ("/messages", "message", "carriage\rreturn"),
        ("/messages", "message", "c1 \x85 control"),
        ("/messages", "message", "del\x7f"),
        ("/airport", "airport", "Lis\x00bon"),
        ("/airport", "airport", "Lis\nbon"),
        ("/airport", "airport", "Lis\tbon"),
        ("/airport", "airport", "Lis\u202ebon"),  # a right-to-left override inside a name
    ],
)
def test_control_characters_in_names_and_messages_are_400_naming_the_field(
    gateway_alone, path, field, text
):
    response = gateway_alone.post(path, json={field: text})

    assert response.status_code == 400, response.text
    assert response.json()["error"] == "INVALID_ARGUMENT"
    assert response.json()["field"] == field


@pytest.mark.parametrize("name", ["\u200b\u200b", "\ufeff", "\u3164", "\xa0", " \u2060 "])
def test_a_name_that_displays_as_nothing_is_blank(gateway_alone, name):
    response = gateway_alone.post("/airport", json={"airport": name})

    assert response.status_code == 400, response.text
    assert response.json() == {
        "error": "INVALID_ARGUMENT",
        "message": "airport: Value error, must not be blank",
        "field": "airport",
    }


def test_invisible_characters_around_a_name_are_trimmed_like_spaces(api):
    response = api.post("/airport", json={"airport": "\u202e\u200bLisboa\ufeff "})

    assert response.status_code == 201, response.text
    assert response.json()["name"] == "Lisboa"


def test_messages_may_hold_newlines_tabs_and_bidirectional_text(api):
    text = "two\nlines\tand a tab, \u202eolleh"
    response = api.post("/messages", json={"message": text})

    assert response.status_code == 201, response.text
    assert response.json()["text"] == text


# -- cross-site -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "content_type"),
    [
        ("POST", None),
        ("POST", "text/plain"),
        ("POST", "application/x-www-form-urlencoded"),
        ("POST", "multipart/form-data; boundary=x"),
        ("POST", "application/json; charset=utf-16"),
        ("POST", "application/jsonp"),
        # The method as routed: Werkzeug routes these as POST, so they are checked as POST.
        ("post", "text/plain"),
        ("Post", "application/x-www-form-urlencoded"),
    ],
)
def test_a_body_that_is_not_declared_json_is_415(gateway_alone, method, content_type):
    headers = {} if content_type is None else {"Content-Type": content_type}
    response = gateway_alone.request(
        method, "/messages", data=b'{"message": "hi"}', headers=headers
    )

    assert response.status_code == 415, response.text
    assert response.json()["error"] == "UNSUPPORTED_MEDIA_TYPE"


@pytest.mark.parametrize(
    "content_type", ["application/json; charset=UTF-8", "APPLICATION/JSON", "Application/Json"]
)
def test_json_media_types_ignore_letter_case(api, content_type):
    response = api.post(
        "/messages", data=b'{"message": "hi"}', headers={"Content-Type": content_type}
    )

    assert response.status_code == 201, response.text


def test_a_foreign_origin_is_403_and_the_own_origin_is_served(start, edge):
    start(MessagesService, GatewayService)
    with EdgeClient(edge().url) as api:
        own = api.url  # scheme://host:port of the site itself

        def post(origin):
            return api.post("/messages", json={"message": "hi"}, headers={"Origin": origin})

        evil, null = post("http://evil.example"), post("null")
        other_scheme = post(own.replace("http://", "https://"))
        same = post(own)

    for refused in (evil, null, other_scheme):
        assert refused.status_code == 403, refused.text
        assert refused.json()["error"] == "ORIGIN_NOT_ALLOWED"
    assert same.status_code == 201, same.text


def test_an_allowed_origin_from_the_setting_is_served(start, through_edge):
    start(MessagesService, GatewayService, ALLOWED_ORIGINS="https://app.example")

    response = through_edge().post(
        "/messages", json={"message": "hi"}, headers={"Origin": "https://app.example"}
    )

    assert response.status_code == 201, response.text


@pytest.mark.parametrize("host", ["evil.example", "evil.example:80", "127.0.0.1.evil.example", ""])
def test_a_host_not_allowed_is_400(start, edge, host):
    start(GatewayService)

    [response] = exchange(edge().port, f"GET /health HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())

    assert_refused(response, 400, "HOST_NOT_ALLOWED")


@pytest.mark.parametrize(
    "host", ["localhost", "LOCALHOST:8000", "127.0.0.1", "[::1]:9", "10.231.0.2:8000"]
)
def test_the_default_hosts_are_served(start, edge, host):
    start(GatewayService)

    [response] = exchange(edge().port, f"GET /health HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())

    assert response.status == 200, response


def host_statuses(port: int, *hosts: str) -> list[int]:
    return [
        exchange(port, f"GET /health HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())[0].status
        for host in hosts
    ]


def test_allowed_hosts_replace_the_default(start, edge):
    start(GatewayService)
    port = edge(EDGE_ALLOWED_HOSTS="api.example other.example").port

    assert host_statuses(port, "api.example:8000", "other.example", "localhost") == [200, 200, 400]


def test_a_star_serves_any_host(start, edge):
    start(GatewayService)
    port = edge(EDGE_ALLOWED_HOSTS="*").port

    assert host_statuses(port, "anything.example", "localhost:1", "10.0.0.1") == [200, 200, 200]


# -- headers, compression, query strings --------------------------------------------------------


def test_every_response_carries_the_security_headers_and_the_page_its_policy(gateway_alone):
    page = gateway_alone.get("/")
    responses = [
        page,
        gateway_alone.get("/health"),
        gateway_alone.get("/nowhere"),  # the gateway's refusal
        gateway_alone.get("/static/messenger.js"),
        gateway_alone.get("/" + "a" * 9000),  # the edge's own
    ]

    for response in responses:
        assert_edge_headers(response)
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]


@pytest.mark.parametrize("path", ["/", "/static/messenger.js", "/static/messenger.css", "/docs"])
def test_the_page_its_files_and_the_docs_are_compressed(gateway_alone, path):
    response = gateway_alone.get(path, headers={"Accept-Encoding": "gzip"}, stream=True)

    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "gzip"
    assert len(gzip.decompress(response.raw.read())) > 0


def test_the_live_feed_is_never_compressed(gateway_alone):
    with gateway_alone.get(
        "/messages/stream", headers={"Accept-Encoding": "gzip"}, stream=True
    ) as stream:
        assert stream.status_code == 200
        assert "Content-Encoding" not in stream.headers
        assert next(stream.iter_lines()) == b"retry: 1000"


@pytest.mark.parametrize(
    "query",
    ["limit=%EF%BC%95", "limit=+5", "limit=%205", "limit=5_0", "limit=\u0665", "limit=5&limit=6"],
)
def test_limit_takes_plain_ascii_digits_once(gateway_alone, query):
    response = gateway_alone.get(f"/messages?{query}")

    assert response.status_code == 400, response.text
    assert response.json()["error"] == "INVALID_ARGUMENT"
    assert response.json()["field"] == "limit"


# -- request ids --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        (["req-42.a:b"], True),
        (["x" * 64], True),
        (["x" * 65], False),
        (["a b"], False),
        (["a", "b"], False),
    ],
    ids=["plain", "64-chars", "65-chars", "space", "two-ids"],
)
def test_a_plain_request_id_is_kept_and_any_other_replaced(start, edge, sent, kept):
    start(GatewayService)
    port = edge().port
    ids = [f"X-Request-Id: {value}" for value in sent]

    [answer] = exchange(port, request_bytes("GET", "/health", *ids))
    [refusal] = exchange(port, request_bytes("GET", "/" + "a" * 9000, *ids))

    for response in (answer, refusal):
        if kept:
            assert response.headers["x-request-id"] == sent[0]
        else:
            assert response.headers["x-request-id"] not in sent
            assert 1 <= len(response.headers["x-request-id"]) <= 64


# -- client addresses: the edge's view, from the edge alone --------------------------------------


def post_message(port: int, source: str, *headers: str) -> object:
    body = b'{"message": "hi"}'
    request = request_bytes(
        "POST", "/messages", JSON, f"Content-Length: {len(body)}", *headers, body=body
    )
    [response] = exchange(port, request, source=source)
    return response


def test_two_client_addresses_get_separate_rate_limit_buckets(start, edge):
    start(
        MessagesService,
        GatewayService,
        TRUSTED_PROXIES="127.0.0.1",
        MESSAGE_RATE_LIMIT_BURST=2,
        MESSAGE_RATE_LIMIT_WINDOW_SECONDS=600,
    )
    port = edge().port

    first = [post_message(port, "127.0.0.2").status for _ in range(3)]
    # A forged header changes nothing: the edge replaces it with the address it saw.
    forged = post_message(port, "127.0.0.2", "X-Forwarded-For: 198.51.100.9")
    second = [post_message(port, "127.0.0.3").status for _ in range(3)]

    assert first == [201, 201, 429]
    assert forged.status == 429
    assert second == [201, 201, 429]
    assert "127.0.0" not in forged.json()["message"]  # no address is shown


def test_a_forwarded_address_from_anyone_but_the_edge_is_ignored(start, web_config_port, edge):
    # The edge connects from 127.0.0.1, which "localhost" resolves to; a client
    # reaching the gateway directly from another address forwards nothing.
    start(
        MessagesService,
        GatewayService,
        TRUSTED_PROXIES="localhost",
        MESSAGE_RATE_LIMIT_BURST=1,
        MESSAGE_RATE_LIMIT_WINDOW_SECONDS=600,
    )
    port = edge().port

    through_edge = post_message(port, "127.0.0.2").status
    direct = [
        post_message(web_config_port, "127.0.0.4", f"X-Forwarded-For: 203.0.113.{n}").status
        for n in range(2)
    ]

    assert through_edge == 201  # the edge's client, believed
    assert direct == [201, 429]  # both counted as 127.0.0.4, whatever they forwarded


def open_stream(port: int, source: str = "127.0.0.1") -> socket.socket:
    sock = connect(port, source=source)
    sock.sendall(request_bytes("GET", "/messages/stream"))
    assert sock.recv(4096).startswith(b"HTTP/1.1 200 ")
    return sock


def test_one_client_address_cannot_take_every_stream_slot(start, edge, held):
    start(GatewayService)
    port = edge(EDGE_MAX_STREAMS_PER_CLIENT="2").port
    held(open_stream(port, "127.0.0.2")), held(open_stream(port, "127.0.0.2"))

    [refused] = exchange(port, request_bytes("GET", "/messages/stream"), source="127.0.0.2")
    other = held(open_stream(port, "127.0.0.3"))

    assert_refused(refused, 429, "TOO_MANY_STREAMS")
    assert other


def post_airport(port: int, source: str) -> object:
    body = b'{"airport": "Flood"}'
    request = request_bytes("POST", "/airport", JSON, f"Content-Length: {len(body)}", body=body)
    [response] = exchange(port, request, source=source)
    return response


def test_creates_are_limited_per_client_address_at_the_edge(start, edge):
    # A bound far below its default (60 a minute), so the test proves the setting is used.
    start(AirportsService, GatewayService)
    port = edge(EDGE_MAX_CREATES_PER_MINUTE="3").port

    accepted = [post_airport(port, "127.0.0.2").status for _ in range(3)]
    refused = post_airport(port, "127.0.0.2")
    [read] = exchange(port, request_bytes("GET", "/airport/nope"), source="127.0.0.2")
    other = post_airport(port, "127.0.0.3")

    assert accepted == [201, 201, 201]
    assert_refused(refused, 429, "TOO_MANY_CREATES")
    assert refused.headers["retry-after"] == "60"
    assert read.status == 404  # reads are not creates
    assert other.status == 201  # another client's own minute


def test_a_stream_outlives_the_request_deadline(start, edge):
    # The deadline bounds how long a request may take to arrive, not how long its answer
    # streams (the edge's read timeouts are longer than the heartbeat's interval): twenty
    # heartbeats 0.1 s apart come through, far past 0.3 s.
    start(GatewayService, STREAM_HEARTBEAT_SECONDS=0.1)
    with connect(edge(EDGE_REQUEST_TIMEOUT="300ms").port) as sock:
        sock.sendall(request_bytes("GET", "/messages/stream"))
        received = b""
        while received.count(b": heartbeat") < 20:
            chunk = sock.recv(4096)
            assert chunk, f"the stream ended: {received[-200:]!r}"
            received += chunk


def test_head_of_the_stream_takes_no_slot(start, edge):
    start(GatewayService, MAX_STREAM_SUBSCRIBERS=1)
    port = edge(EDGE_MAX_STREAMS_PER_CLIENT="1").port
    for _ in range(50):
        [response] = exchange(port, request_bytes("HEAD", "/messages/stream"))
        assert response.status == 200
        assert response.headers["content-type"].startswith("text/event-stream")

    open_stream(port).close()


def went_away(caplog) -> bool:
    return any("went away" in record.getMessage() for record in caplog.records)


def assert_no_traceback(caplog) -> None:
    assert not [
        record for record in caplog.records if record.exc_info or "Traceback" in record.getMessage()
    ]


def test_a_closed_stream_frees_its_slots_with_an_info_line(start, edge, caplog):
    # HAProxy reads nothing from a client while it streams the response to it, so it
    # finds a closed page at the next heartbeat's write, then closes the gateway's side.
    caplog.set_level(logging.INFO)
    start(GatewayService, MAX_STREAM_SUBSCRIBERS=1, STREAM_HEARTBEAT_SECONDS=0.2)
    port = edge(EDGE_MAX_STREAMS_PER_CLIENT="1").port

    open_stream(port).close()

    wait_until(lambda: went_away(caplog), 10, "the gateway's 'went away' line")
    reopened = open_stream(port)  # both the edge's slot and the gateway's are free
    reopened.close()
    assert_no_traceback(caplog)


def test_a_client_that_vanishes_mid_stream_logs_no_traceback(start, edge, caplog):
    caplog.set_level(logging.INFO)
    start(MessagesService, GatewayService, STREAM_HEARTBEAT_SECONDS=0.05)
    port = edge().port
    sock = open_stream(port)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()  # RST

    wait_until(lambda: went_away(caplog), 10, "the gateway's 'went away' line")
    [health] = exchange(port, request_bytes("GET", "/health"))
    assert health.status == 200
    assert_no_traceback(caplog)


# -- /metrics is the internal network's ----------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/metrics", "/metrics/", "//metrics", "/%6detrics", "/metrics?x=1"]
)
def test_metrics_are_not_served_through_the_edge(start, edge, web_config_port, path):
    start(GatewayService)
    port = edge().port

    [refused] = exchange(port, request_bytes("GET", path))
    [unknown] = exchange(port, request_bytes("GET", "/nowhere"))
    direct = requests.get(f"http://127.0.0.1:{web_config_port}/metrics", timeout=10)

    # The edge's answer is the gateway's own for an unknown path: nothing tells them apart.
    assert_refused(refused, 404, "ROUTE_NOT_FOUND")
    assert refused.body == unknown.body
    assert direct.status_code == 200  # Prometheus, on the internal network
    assert "gateway_http_request_duration_seconds" in direct.text


def test_an_absolute_form_target_cannot_reach_the_metrics_either(start, edge):
    start(GatewayService)
    request = b"GET http://127.0.0.1/metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"

    [response] = exchange(edge().port, request)

    assert_refused(response, 404, "ROUTE_NOT_FOUND")


def test_the_edge_counts_its_refusals_for_prometheus(start, edge):
    start(GatewayService)
    front = edge()
    client_errors = (
        "haproxy_frontend_http_responses_total",
        (("code", "4xx"), ("proxy", "public")),
    )
    before = edge_metrics(front).get(client_errors, 0.0)

    for request in (request_bytes("GET", "/" + "a" * 9000), request_bytes("GET", "/metrics")):
        exchange(front.port, request)

    assert edge_metrics(front)[client_errors] == before + 2


# -- TLS, when a certificate is mounted ----------------------------------------------------------


@pytest.fixture
def certificate(tmp_path):
    """A throwaway self-signed certificate for 127.0.0.1, key and certificate in one PEM."""
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )  # fmt: skip
    pem = tmp_path / "edge.pem"
    pem.write_bytes(cert.read_bytes() + key.read_bytes())
    return cert, pem


def test_tls_is_served_when_a_certificate_is_mounted(start, edge, certificate):
    start(GatewayService)
    cert, pem = certificate
    tls_port = free_port()
    front = edge(EDGE_TLS_CERTIFICATE=str(pem), EDGE_TLS_BIND=f"127.0.0.1:{tls_port}")

    secure = requests.get(f"https://127.0.0.1:{tls_port}/health", verify=str(cert), timeout=10)
    plain = requests.get(f"{front.url}/health", allow_redirects=False, timeout=10)

    assert secure.status_code == 200
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")
    assert_edge_headers(secure)
    assert plain.status_code == 308
    assert plain.headers["Location"].startswith("https://")
