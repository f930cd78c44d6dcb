"""An oversized body sent the way a simple client sends it: all of it, then read.

The edge answers 413 as soon as the headers announce too much, and closes: the rest of
the body is never read. A client still writing then sees its write fail, and reads the
answer that was sent before (as urllib3 does); what it must never see is a connection
reset before the answer, or no answer at all.
"""

from __future__ import annotations

import json
import socket
from contextlib import suppress
from urllib.parse import urlsplit


def post_whole_then_read(base_url: str, body_bytes: int, connection: str) -> bytes:
    """``POST /airport`` with a ``body_bytes`` name, written whole before reading; the
    raw answer (empty when the connection was reset first)."""
    address = urlsplit(base_url)
    body = b'{"airport": "' + b"x" * body_bytes + b'"}'
    head = (
        f"POST /airport HTTP/1.1\r\nHost: {address.netloc}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        f"Connection: {connection}\r\n\r\n"
    ).encode()
    answer = b""
    with socket.create_connection((address.hostname, address.port), timeout=15) as client:
        with suppress(BrokenPipeError, ConnectionResetError):
            client.sendall(head + body)
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            chunk = client.recv(65536)
            if not chunk:
                break
            answer += chunk
    return answer


def assert_413_json(answer: bytes) -> None:
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line.startswith(b"HTTP/1.1 413"), answer[:300]
    assert json.loads(rest.partition(b"\r\n\r\n")[2])["error"] == "BODY_TOO_LARGE"
