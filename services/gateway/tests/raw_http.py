"""HTTP/1.1 over a raw socket: what a hostile client sends, byte for byte, and every
response the server writes back on that one connection (``requests`` would fix up
the bytes, and it stops reading after the first response)."""

from __future__ import annotations

import json
import socket
import time
from contextlib import suppress
from dataclasses import dataclass

# Every socket operation of a test is bounded by this; a connection still open after it
# is a failure (a server that never closes must not read as one that closed).
SOCKET_SECONDS = 5.0


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]  # lower-cased names
    body: bytes

    def json(self):
        return json.loads(self.body)


@dataclass
class Closed:
    data: bytes  # everything the server sent before it closed
    after_seconds: float  # from the start of the read to the close


def connect(port: int, seconds: float = SOCKET_SECONDS, source: str = "127.0.0.1") -> socket.socket:
    """A connection to 127.0.0.1:``port`` from the loopback address ``source``."""
    return socket.create_connection(
        ("127.0.0.1", port), timeout=seconds, source_address=(source, 0)
    )


def request_bytes(method: str, path: str, *headers: str, body: bytes = b"") -> bytes:
    """A request with ``Host`` first and the given header lines as they are."""
    head = "".join(f"{line}\r\n" for line in ("Host: 127.0.0.1", *headers))
    return f"{method} {path} HTTP/1.1\r\n{head}\r\n".encode("latin-1") + body


def read_until_closed(sock: socket.socket, seconds: float = SOCKET_SECONDS) -> Closed:
    """Everything the server sends until it closes the connection (a reset counts as a
    close); ``TimeoutError`` if it is still open after ``seconds``."""
    sock.settimeout(seconds)
    received = bytearray()
    started = time.monotonic()
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except ConnectionResetError:
        pass
    except TimeoutError:
        raise TimeoutError(
            f"the server kept the connection open over {seconds} s (got {bytes(received)[:200]!r})"
        ) from None
    return Closed(bytes(received), time.monotonic() - started)


def exchange(
    port: int, data: bytes, seconds: float = SOCKET_SECONDS, source: str = "127.0.0.1"
) -> list[RawResponse]:
    """Send ``data`` on a new connection, close the sending side, and parse every response."""
    with connect(port, seconds, source) as sock:
        # A server may answer, and close, before all of a refused request is sent.
        with suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(data)
        with suppress(OSError):
            sock.shutdown(socket.SHUT_WR)
        return parse_responses(read_until_closed(sock, seconds).data)


def parse_responses(data: bytes) -> list[RawResponse]:
    responses = []
    while data:
        head, separator, rest = data.partition(b"\r\n\r\n")
        assert separator, f"incomplete response head: {data[:200]!r}"
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if headers.get("transfer-encoding") == "chunked":
            body, data = dechunk(rest)
        else:
            length = int(headers.get("content-length", len(rest)))
            body, data = rest[:length], rest[length:]
        responses.append(RawResponse(int(status_line.split()[1]), headers, body))
    return responses


def dechunk(data: bytes) -> tuple[bytes, bytes]:
    body = bytearray()
    while True:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            return bytes(body), data.partition(b"\r\n")[2]
        body += data[:size]
        data = data[size + 2 :]


def assert_json_error(response: RawResponse, status: int, code: str) -> None:
    """The project's JSON error body, with a request id."""
    assert response.status == status, response
    assert response.headers["content-type"] == "application/json", response
    assert response.json()["error"] == code
    assert response.json()["message"]
    assert response.headers.get("x-request-id"), response
