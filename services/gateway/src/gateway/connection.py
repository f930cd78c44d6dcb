"""One client connection, on its own green thread: the request read in full, under
deadlines, before the application (and with it a Nameko worker) sees it.

For each request on a connection:

1. the request line and headers must arrive within ``REQUEST_HEAD_TIMEOUT_SECONDS``
   of the connection opening or of the previous response (so it is also the
   keep-alive idle timeout): an idle connection is closed without a word, a
   half-sent head gets 408;
2. the framing is checked strictly (``framing``) and the whole body is read, at
   most ``MAX_BODY_BYTES`` (413 past it, before reading a byte of it when the
   length is declared), within ``REQUEST_BODY_TIMEOUT_SECONDS`` (408);
3. only then does the WSGI application run, with the body in memory.

A slow or stalled client therefore costs a green thread and a socket until its
deadline, never a worker. Every refusal is the gateway's JSON error body (from the
one table in ``errors``) with an ``X-Request-Id``, written here because it happens
before the application: 400, 408, 413, 414, 431, 501, 505. The connection is then
closed after a short lingering read, so the client sees the answer instead of a
reset for the bytes it had still in flight.
"""

from __future__ import annotations

import io
import logging
import socket
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from typing import Any, BinaryIO

import eventlet
from eventlet import wsgi
from eventlet.support import get_errno
from nameko.web.server import HttpOnlyProtocol
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from contracts.errors import ServiceError
from gateway.access_log import TRUSTED_PROXIES, Network, client_address, escape
from gateway.errors import (
    HeadersTooLarge,
    HttpVersionNotSupported,
    MalformedRequest,
    RequestTimeout,
    UriTooLong,
    response_from_exception,
)
from gateway.framing import CHUNKED, body_length, check_field_names, read_chunked, read_exactly
from gateway.request_ids import REQUEST_ID_ENVIRON_KEY, REQUEST_ID_HEADER, request_id_for
from gateway.security_headers import EVERY_RESPONSE
from service_runtime.settings import Setting

log = logging.getLogger(__name__)

MAX_BODY_BYTES = Setting(
    "MAX_BODY_BYTES", int, 16 * 1024, "request bodies over this many bytes get 413", minimum=1
)
HEAD_TIMEOUT = Setting(
    "REQUEST_HEAD_TIMEOUT_SECONDS",
    float,
    10.0,
    "a request line and headers must arrive within this many seconds of the connection "
    "opening or of the previous response (idle keep-alive connections close then)",
    minimum=0.01,
)
BODY_TIMEOUT = Setting(
    "REQUEST_BODY_TIMEOUT_SECONDS",
    float,
    10.0,
    "a request body must arrive in full within this many seconds of its headers; else 408",
    minimum=0.01,
)

CLIENT_ADDRESS_ENVIRON_KEY = "gateway.client_address"
HTTP_VERSIONS = ("HTTP/1.0", "HTTP/1.1")
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
# After a refusal: how long, and how much, unread input is drained before closing. Big
# enough for a client that writes a whole oversized body (a few MB on a fast link)
# before it reads the 413; bounded, so a client can hold a refused connection no longer.
LINGER_SECONDS = 2.0
LINGER_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class ConnectionLimits:
    head_seconds: float
    body_seconds: float
    max_body_bytes: int
    trusted_proxies: tuple[Network, ...]

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> ConnectionLimits:
        return cls(
            head_seconds=HEAD_TIMEOUT.read(config),
            body_seconds=BODY_TIMEOUT.read(config),
            max_body_bytes=MAX_BODY_BYTES.read(config),
            trusted_proxies=TRUSTED_PROXIES.read(config),
        )


class GatewayWsgiServer(wsgi.Server):
    """eventlet's WSGI server holding the gateway's connection limits for its protocol."""

    def __init__(self, *args: Any, limits: ConnectionLimits, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limits = limits


class ClientWriter:
    """The connection's buffered writer. A client that has gone away (broken pipe,
    reset) ends the response quietly, one INFO line instead of a traceback per write."""

    def __init__(self, wfile: BinaryIO, went_away: Callable[[], None]) -> None:
        self.wfile = wfile
        self.went_away = went_away
        self.gone = False

    @property
    def closed(self) -> bool:
        return self.wfile.closed

    def write(self, data: bytes) -> None:
        self._unless_gone(self.wfile.write, data)

    def writelines(self, lines: list[bytes]) -> None:
        self._unless_gone(self.wfile.writelines, lines)

    def flush(self) -> None:
        self._unless_gone(self.wfile.flush)

    def close(self) -> None:
        self._unless_gone(self.wfile.close)

    def _unless_gone(self, operation: Callable[..., Any], *args: Any) -> None:
        if self.gone:
            return
        try:
            operation(*args)
        except OSError as exc:
            if get_errno(exc) not in wsgi.BROKEN_SOCK:
                raise
            self.gone = True
            self.went_away()


class GatewayHttpProtocol(HttpOnlyProtocol):
    server: GatewayWsgiServer

    def setup(self) -> None:
        super().setup()
        self.wfile = ClientWriter(self.wfile, self.client_went_away)
        self.peer = wsgi.addr_to_host_port(self.client_address)[0]

    def handle_one_request(self) -> None:
        limits = self.server.limits
        started = time.time()
        self.requestline, self.request_id, self.client = "", None, self.peer
        head_started = False
        try:
            with eventlet.Timeout(limits.head_seconds, RequestTimeout("request head too slow")):
                head_started = bool(self.rfile.peek(1))
                if not head_started:  # the client closed the connection
                    self.close_connection = 1
                    return
                self.read_head()
            body = self.read_body(limits)
        except (RequestTimeout, TimeoutError):
            if head_started:
                self.refuse(
                    RequestTimeout("the request did not arrive within its deadline"), started
                )
            self.close_connection = 1
            return
        except (ServiceError, HTTPException) as refusal:
            self.refuse(refusal, started)
            return
        except OSError as exc:  # the client reset the connection mid-request
            if get_errno(exc) not in wsgi.BROKEN_SOCK | wsgi.BAD_SOCK:
                raise
            self.close_connection = 1
            return
        self.environ = self.environ_for(body)
        self.application = self.server.app
        self.server.outstanding_requests += 1
        try:
            self.handle_one_response()
        finally:
            self.server.outstanding_requests -= 1

    def read_head(self) -> None:
        limit = self.server.url_length_limit
        self.raw_requestline = self.rfile.readline(limit)
        if self.raw_requestline in (b"\r\n", b"\n"):  # RFC 9112 2.2: one may precede a request
            self.raw_requestline = self.rfile.readline(limit)
        if len(self.raw_requestline) >= limit:
            raise UriTooLong(f"the request line is over {limit} bytes")
        original = self.rfile
        self.rfile = wsgi.FileObjectForHeaders(original)
        try:
            parsed = self.parse_request()
        except (wsgi.HeaderLineTooLong, wsgi.HeadersTooLarge):
            raise HeadersTooLarge("the request headers are too large") from None
        finally:
            self.rfile = original
        if not parsed or self.request_version not in HTTP_VERSIONS:
            raise MalformedRequest("malformed request line")
        check_field_names(self.headers)
        self.request_id = request_id_for(self.headers.get(REQUEST_ID_HEADER))
        forwarded_for = ",".join(self.headers.get_all("X-Forwarded-For") or ())
        self.client = escape(
            client_address(self.peer, forwarded_for, self.server.limits.trusted_proxies)
        )

    def parse_request(self) -> bool:
        try:
            return super().parse_request()
        finally:
            # Logged as sent, but never with raw control characters.
            self.requestline = escape(self.requestline)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        # parse_request's refusals, raised so that handle_one_request answers them in JSON.
        if code == 431:
            raise HeadersTooLarge("the request headers are too large")
        if code == 505:
            raise HttpVersionNotSupported("only HTTP/1.0 and HTTP/1.1 are served")
        raise MalformedRequest("malformed request line")

    def read_body(self, limits: ConnectionLimits) -> bytes:
        length = body_length(self.headers, self.request_version)
        if length == 0:
            return b""
        if length is not CHUNKED and length > limits.max_body_bytes:
            raise RequestEntityTooLarge()
        if self.headers.get("Expect", "").lower() == "100-continue":
            self.wfile.write(CONTINUE)
            self.wfile.flush()
        with eventlet.Timeout(limits.body_seconds, RequestTimeout("request body too slow")):
            if length is CHUNKED:
                return read_chunked(self.rfile, limits.max_body_bytes)
            return read_exactly(self.rfile, length)

    def environ_for(self, body: bytes) -> dict[str, Any]:
        environ = self.get_environ()
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ["wsgi.input"] = io.BytesIO(body)
        # Nothing is left on the socket for eventlet to read, discard or 100-continue.
        environ["eventlet.input"] = wsgi.Input(None, 0, self.connection)
        environ[REQUEST_ID_ENVIRON_KEY] = self.request_id
        environ[CLIENT_ADDRESS_ENVIRON_KEY] = self.client
        return environ

    def refuse(self, refusal: Exception, started: float) -> None:
        """Answer ``refusal`` as JSON, log it like any response, and close the connection."""
        response = response_from_exception(refusal)
        response.headers[REQUEST_ID_HEADER] = self.request_id or request_id_for(None)
        response.headers.update(EVERY_RESPONSE)
        response.headers["Connection"] = "close"
        head = "".join(f"{name}: {value}\r\n" for name, value in response.headers.items())
        data = f"HTTP/1.1 {response.status}\r\n{head}\r\n".encode("latin-1") + response.get_data()
        self.wfile.write(data)
        self.wfile.flush()
        self.close_connection = 1
        self.log_response(response.status_code, len(data), started)
        self.linger()

    def linger(self) -> None:
        # Closing with unread input makes the kernel send a reset, which can reach the
        # client before it has read the answer: stop writing, then drain for a moment.
        with suppress(OSError), eventlet.Timeout(LINGER_SECONDS, False):
            self.connection.shutdown(socket.SHUT_WR)
            drained = 0
            while drained < LINGER_BYTES and (chunk := self.connection.recv(65536)):
                drained += len(chunk)

    def log_response(self, status: int, length: int, started: float) -> None:
        self.server.log.info(
            self.server.log_format
            % {
                "client_ip": self.client,
                "client_port": "",
                "date_time": self.log_date_time_string(),
                "request_line": self.requestline,
                "status_code": status,
                "body_length": length,
                "wall_seconds": time.time() - started,
            }
        )

    def get_client_address(self) -> tuple[str, str]:
        # eventlet's access log line: the client as ``access_log`` decided, escaped.
        return self.client, ""

    def client_went_away(self) -> None:
        self.close_connection = 1
        log.info(
            "client %s went away before the response to %s ended", self.client, self.requestline
        )
