"""The gateway against hostile clients, over raw sockets, with the real services.

Each test is an attack as a network client would send it: slow bodies, idle and
half-sent connections, request smuggling, leaked stream slots, cross-site posts,
forged log lines. Every socket operation is bounded (``raw_http.SOCKET_SECONDS``);
every connection a test opens is closed when it ends.
"""

from __future__ import annotations

import logging
import socket
import struct

import eventlet
import pytest
import requests
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

WORKERS = 2
# The bar: with the slow connections held, these answer within a second.
ANSWER_SECONDS = 1.0
SMUGGLED = b"GET /airport/SMUGGLED HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


@pytest.fixture
def port(web_config_port):
    return web_config_port


@pytest.fixture
def gateway_alone(start, http_session):
    """Only the gateway: enough for every refusal that happens before an RPC call."""
    start(GatewayService)
    return http_session


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


def slow_body_connection(port: int) -> socket.socket:
    """``POST /messages`` announcing 100 bytes of body and sending 5."""
    sock = connect(port)
    sock.sendall(
        request_bytes("POST", "/messages", "Content-Type: application/json", "Content-Length: 100")
        + b'{"mes'
    )
    return sock


# -- slow clients cost a socket, never a worker -------------------------------------------


def test_slow_bodies_hold_no_worker(start, http_session, port, held):
    start(AirportsService, MessagesService, GatewayService, max_workers=WORKERS)
    airport = http_session.post("/airport", json={"airport": "Lisbon"}).json()["id"]

    for _ in range(3 * WORKERS):
        held(slow_body_connection(port))
    eventlet.sleep(1)  # time for the gateway to take up every one of them

    assert http_session.get("/health", timeout=ANSWER_SECONDS).status_code == 200
    answer = http_session.get(f"/airport/{airport}", timeout=ANSWER_SECONDS)
    assert answer.json() == {"id": airport, "name": "Lisbon"}


def test_a_body_slower_than_the_read_deadline_is_408(start, port, held):
    start(GatewayService, REQUEST_BODY_TIMEOUT_SECONDS=0.5)
    sock = held(slow_body_connection(port))

    [response] = parse_responses(read_until_closed(sock))

    assert_json_error(response, 408, "REQUEST_TIMEOUT")


def test_idle_and_half_sent_connections_are_dropped_at_the_head_deadline(start, port, held):
    start(GatewayService, REQUEST_HEAD_TIMEOUT_SECONDS=0.5)
    idle = [held(connect(port)) for _ in range(20)]
    half_sent = [held(connect(port)) for _ in range(20)]
    for sock in half_sent:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0")

    assert {read_until_closed(sock) for sock in idle} == {b""}  # closed without a word
    for sock in half_sent:
        [response] = parse_responses(read_until_closed(sock))
        assert_json_error(response, 408, "REQUEST_TIMEOUT")


def test_connections_beyond_the_maximum_wait_for_a_free_one(start, port, held):
    start(GatewayService, MAX_CONNECTIONS=4)
    holders = [held(connect(port)) for _ in range(4)]
    eventlet.sleep(0.2)
    waiting = held(connect(port))
    waiting.sendall(request_bytes("GET", "/health", "Connection: close"))

    waiting.settimeout(1.0)
    with pytest.raises(TimeoutError):
        waiting.recv(1)  # not served: every connection slot is taken
    holders[0].close()

    [response] = parse_responses(read_until_closed(waiting))
    assert response.status == 200


# -- strict framing: one request, one response ---------------------------------------------


@pytest.mark.parametrize(
    ("framing", "status", "code"),
    [
        (["Transfer-Encoding: gzip, chunked"], 501, "UNSUPPORTED_TRANSFER_ENCODING"),
        (["Transfer-Encoding: chunked, identity"], 501, "UNSUPPORTED_TRANSFER_ENCODING"),
        (["Transfer-Encoding: xchunked"], 501, "UNSUPPORTED_TRANSFER_ENCODING"),
        (
            ["Transfer-Encoding: chunked", "Transfer-Encoding: chunked"],
            501,
            "UNSUPPORTED_TRANSFER_ENCODING",
        ),
        (["Content-Length: 5", "Transfer-Encoding: chunked"], 400, "MALFORMED_REQUEST"),
        (["Content-Length: 5", "Content-Length: 6"], 400, "MALFORMED_REQUEST"),
        (["Content-Length: -5"], 400, "MALFORMED_REQUEST"),
        (["Content-Length: +5"], 400, "MALFORMED_REQUEST"),
        (["Content-Length: 0x5"], 400, "MALFORMED_REQUEST"),
        (["Content-Length : 5"], 400, "MALFORMED_REQUEST"),
    ],
)
def test_ambiguous_framing_is_refused_with_exactly_one_response(start, port, framing, status, code):
    start(AirportsService, GatewayService)
    body = b'{"airport": "Lisbon"}' + SMUGGLED
    request = request_bytes("POST", "/airport", "Content-Type: application/json", *framing)

    responses = exchange(port, request + body)

    assert len(responses) == 1, responses
    assert_json_error(responses[0], status, code)


@pytest.mark.parametrize(
    "chunks",
    [
        b"zz\r\nabc\r\n0\r\n\r\n",
        b"-5\r\nabcde\r\n0\r\n\r\n",
        b"0x5\r\nabcde\r\n0\r\n\r\n",
        b"5\r\nabcdefgh\r\n0\r\n\r\n",  # chunk longer than its size
        b"15\r\n" + b'{"airport": "Lisbon"}\r\n',  # cut off: no last chunk
        b"",
    ],
)
def test_malformed_or_cut_off_chunked_body_is_400_json(start, port, chunks):
    start(AirportsService, GatewayService)
    request = request_bytes(
        "POST", "/airport", "Content-Type: application/json", "Transfer-Encoding: chunked"
    )

    responses = exchange(port, request + chunks)

    assert len(responses) == 1, responses
    assert_json_error(responses[0], 400, "MALFORMED_REQUEST")


def test_a_well_formed_chunked_body_with_extensions_and_trailers_is_read(start, port):
    start(AirportsService, GatewayService)
    request = request_bytes(
        "POST", "/airport", "Content-Type: application/json", "Transfer-Encoding: Chunked"
    )
    chunks = b'0b;ext=1\r\n{"airport":\r\n0A\r\n "Lisbon"}\r\n0\r\nX-Trailer: 1\r\n\r\n'

    [response] = exchange(port, request + chunks)

    assert response.status == 201, response
    assert response.json()["name"] == "Lisbon"


@pytest.mark.parametrize(
    ("request_", "status", "code"),
    [
        (request_bytes("GET", "/" + "a" * 70_000), 414, "URI_TOO_LONG"),
        (request_bytes("GET", "/health", "X-Big: " + "b" * 70_000), 431, "HEADERS_TOO_LARGE"),
        (
            request_bytes("GET", "/health", *(f"X-{n}: {'c' * 4000}" for n in range(20))),
            431,
            "HEADERS_TOO_LARGE",
        ),
        (b"GET /health HTTP/9.9\r\nHost: 127.0.0.1\r\n\r\n", 505, "HTTP_VERSION_NOT_SUPPORTED"),
        (b"GET /health\r\n\r\n", 400, "MALFORMED_REQUEST"),
        (
            b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nno colon here\r\n\r\n",
            400,
            "MALFORMED_REQUEST",
        ),
    ],
)
def test_the_servers_own_early_errors_are_json_with_a_request_id(
    start, port, request_, status, code
):
    start(GatewayService)

    [response] = exchange(port, request_)

    assert_json_error(response, status, code)


def test_a_body_over_the_limit_is_413_before_it_is_read(start, port):
    start(GatewayService, MAX_BODY_BYTES=1024)
    request = request_bytes(
        "POST", "/messages", "Content-Type: application/json", "Content-Length: 1000000"
    )

    [response] = exchange(port, request + b"x" * 4096)

    assert_json_error(response, 413, "BODY_TOO_LARGE")


def test_expect_100_continue_is_answered_before_the_body_is_read(start, port):
    start(AirportsService, GatewayService)
    body = b'{"airport": "Lisbon"}'
    head = request_bytes(
        "POST",
        "/airport",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        "Expect: 100-continue",
    )
    with connect(port) as sock:
        sock.sendall(head)
        assert sock.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(body)
        sock.shutdown(socket.SHUT_WR)
        [response] = parse_responses(read_until_closed(sock))

    assert response.status == 201


# -- JSON ---------------------------------------------------------------------------------


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
        (
            b'{"airport": "[[[[{{{{' + b"[" * 2000 + b'"}',
            "INVALID_ARGUMENT",
        ),  # brackets in a string
    ],
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
    ],
)
def test_control_characters_in_names_and_messages_are_400_naming_the_field(
    gateway_alone, path, field, text
):
    response = gateway_alone.post(path, json={field: text})

    assert response.status_code == 400, response.text
    assert response.json()["error"] == "INVALID_ARGUMENT"
    assert response.json()["field"] == field


def test_messages_may_hold_newlines_and_tabs(api):
    response = api.post("/messages", json={"message": "two\nlines\tand a tab"})

    assert response.status_code == 201, response.text
    assert response.json()["text"] == "two\nlines\tand a tab"


# -- cross-site ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/json; charset=utf-16",
        "application/jsonp",
    ],
)
def test_a_post_body_that_is_not_declared_json_is_415(gateway_alone, content_type):
    headers = {} if content_type is None else {"Content-Type": content_type}
    response = gateway_alone.post("/messages", data=b'{"message": "hi"}', headers=headers)

    assert response.status_code == 415, response.text
    assert response.json()["error"] == "UNSUPPORTED_MEDIA_TYPE"


def test_json_with_a_utf8_charset_is_accepted(api):
    response = api.post(
        "/messages",
        data=b'{"message": "hi"}',
        headers={"Content-Type": "application/json; charset=UTF-8"},
    )

    assert response.status_code == 201, response.text


def test_a_foreign_origin_is_403_and_the_own_origin_is_served(api, port):
    evil = api.post("/messages", json={"message": "hi"}, headers={"Origin": "http://evil.example"})
    null = api.post("/messages", json={"message": "hi"}, headers={"Origin": "null"})
    own = api.post(
        "/messages", json={"message": "hi"}, headers={"Origin": f"http://127.0.0.1:{port}"}
    )

    assert evil.status_code == 403, evil.text
    assert evil.json()["error"] == "ORIGIN_NOT_ALLOWED"
    assert null.status_code == 403
    assert own.status_code == 201


def test_an_allowed_origin_from_the_setting_is_served(start, http_session):
    start(MessagesService, GatewayService, ALLOWED_ORIGINS="https://app.example")

    response = http_session.post(
        "/messages", json={"message": "hi"}, headers={"Origin": "https://app.example"}
    )

    assert response.status_code == 201, response.text


@pytest.mark.parametrize("host", ["evil.example", "evil.example:80", "127.0.0.1.evil.example", ""])
def test_a_host_not_allowed_is_400(start, port, host):
    start(GatewayService)

    [response] = exchange(port, f"GET /health HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())

    assert_json_error(response, 400, "HOST_NOT_ALLOWED")


@pytest.mark.parametrize(
    "host", ["localhost", "LOCALHOST:8000", "127.0.0.1", "[::1]:9", "10.231.0.2:8000"]
)
def test_the_default_hosts_are_served(start, port, host):
    start(GatewayService)

    [response] = exchange(port, f"GET /health HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())

    assert response.status == 200, response


def test_allowed_hosts_setting_replaces_the_defaults(start, port):
    start(GatewayService, ALLOWED_HOSTS="api.example,.internal.example")

    def status(host):
        [response] = exchange(port, f"GET /health HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        return response.status

    assert [status(h) for h in ("api.example:8000", "a.internal.example", "localhost")] == [
        200,
        200,
        400,
    ]


# -- headers and query strings --------------------------------------------------------------


def test_every_response_says_nosniff_and_the_page_forbids_framing_and_referrers(gateway_alone):
    page = gateway_alone.get("/")

    for response in (
        page,
        gateway_alone.get("/health"),
        gateway_alone.get("/nowhere"),
        gateway_alone.get("/static/messenger.js"),
    ):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]


@pytest.mark.parametrize(
    "query",
    ["limit=%EF%BC%95", "limit=+5", "limit=%205", "limit=5_0", "limit=\u0665", "limit=5&limit=6"],
)
def test_limit_takes_plain_ascii_digits_once(gateway_alone, query):
    response = gateway_alone.get(f"/messages?{query}")

    assert response.status_code == 400, response.text
    assert response.json()["error"] == "INVALID_ARGUMENT"
    assert response.json()["field"] == "limit"


# -- the access log -----------------------------------------------------------------------


def access_lines(caplog, marker):
    return [record.getMessage() for record in caplog.records if marker in record.getMessage()]


def test_the_access_log_ignores_forwarded_for_and_escapes_control_characters(start, port, caplog):
    start(GatewayService)
    caplog.set_level(logging.INFO)

    exchange(
        port,
        request_bytes(
            "GET",
            "/health?marker-1\x1b[31m",
            'X-Forwarded-For: 6.6.6.6, "fake\x1b[31m',
            "Connection: close",
        ),
    )

    [line] = access_lines(caplog, "marker-1")
    assert line.startswith("127.0.0.1 ")
    assert "6.6.6.6" not in line
    assert "\x1b" not in line
    assert "\\x1b[31m" in line


def test_a_trusted_proxy_forwarded_address_is_logged(start, port, caplog):
    start(GatewayService, TRUSTED_PROXIES="127.0.0.0/8")
    caplog.set_level(logging.INFO)

    exchange(
        port,
        request_bytes(
            "GET", "/health?marker-2", "X-Forwarded-For: 6.6.6.6, 203.0.113.7", "Connection: close"
        ),
    )

    [line] = access_lines(caplog, "marker-2")
    assert line.startswith("203.0.113.7 ")


# -- the live feed ------------------------------------------------------------------------


def test_head_of_the_stream_takes_no_slot(start, port, http_session):
    start(GatewayService)
    for _ in range(200):
        [response] = exchange(port, request_bytes("HEAD", "/messages/stream"))
        assert response.status == 200
        assert response.headers["content-type"].startswith("text/event-stream")

    stream = http_session.get("/messages/stream", stream=True)
    try:
        assert stream.status_code == 200, stream.text
    finally:
        stream.close()


def open_stream(port: int) -> socket.socket:
    sock = connect(port)
    sock.sendall(request_bytes("GET", "/messages/stream"))
    assert sock.recv(4096).startswith(b"HTTP/1.1 200 ")
    return sock


def test_one_client_cannot_take_every_stream_slot(start, port, held):
    start(GatewayService, MAX_STREAMS_PER_CLIENT=2)
    held(open_stream(port)), held(open_stream(port))

    [response] = exchange(port, request_bytes("GET", "/messages/stream"))

    assert_json_error(response, 429, "TOO_MANY_STREAMS")


def test_a_closed_stream_frees_its_slot_at_once_with_an_info_line(start, port, caplog):
    # The heartbeat stays at its 15 s default: only noticing the hang-up frees the slot in time.
    start(GatewayService, MAX_STREAM_SUBSCRIBERS=1)
    caplog.set_level(logging.INFO)
    open_stream(port).close()

    reopen = request_bytes("GET", "/messages/stream", "Connection: close")
    with eventlet.Timeout(3):
        while (answer := exchange(port, reopen, seconds=0.3)[0]).status == 503:
            eventlet.sleep(0.05)

    assert answer.status == 200
    assert any("went away" in record.getMessage() for record in caplog.records)
    assert not [
        record for record in caplog.records if record.exc_info or "Traceback" in record.getMessage()
    ]


def test_a_client_that_vanishes_mid_stream_logs_no_traceback(start, port, caplog, http_session):
    start(MessagesService, GatewayService, STREAM_HEARTBEAT_SECONDS=0.05)
    caplog.set_level(logging.INFO)
    sock = open_stream(port)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()  # RST: the next write fails
    eventlet.sleep(0.5)

    assert http_session.get("/health").status_code == 200
    assert not [
        record for record in caplog.records if record.exc_info or "Traceback" in record.getMessage()
    ]


def test_requests_on_a_kept_alive_connection_still_work(api):
    # The framing rules must not break ordinary keep-alive use.
    with requests.Session() as session:
        base = api.get("/health").url.removesuffix("/health")
        for _ in range(3):
            assert session.post(f"{base}/airport", json={"airport": "Lisbon"}).status_code == 201
            assert session.get(f"{base}/health").status_code == 200
