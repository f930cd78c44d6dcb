"""An oversized body sent the way a simple client sends it: all of it, then read.

A server that answers 413 and closes with the body unread makes the kernel reset the
connection, and such a client never sees the answer; the gateway must drain first.
"""

from __future__ import annotations

import json
import socket
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
