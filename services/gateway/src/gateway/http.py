"""Nameko's ``@http`` and web server, hardened for the open network.

* ``JsonWebServer`` accepts at most ``MAX_CONNECTIONS`` connections at a time
  (more wait in the listen backlog until one closes) and serves each with
  ``connection.GatewayHttpProtocol``: the whole request, body included, is read
  under deadlines on the connection's own green thread.
* ``JsonErrorWsgiApp`` checks the site rules (``cross_site``) before a worker is
  taken, answers routing errors in JSON instead of Werkzeug's HTML, and gives every
  response its ``X-Request-Id`` and ``security_headers.EVERY_RESPONSE``.
* ``JsonHttpEntrypoint`` (``@http``) treats every error of the table as expected,
  so nameko logs it as a warning, not as a crash.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

import eventlet
from eventlet.event import Event
from eventlet.semaphore import Semaphore
from nameko.web.handlers import HttpRequestHandler
from nameko.web.server import WebServer, WsgiApp
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request, Response

from contracts.errors import ServiceError
from gateway.connection import ConnectionLimits, GatewayHttpProtocol, GatewayWsgiServer
from gateway.cross_site import SiteRules
from gateway.errors import STATUS_BY_ERROR, response_from_exception
from gateway.request_ids import REQUEST_ID_ENVIRON_KEY, REQUEST_ID_HEADER
from gateway.security_headers import EVERY_RESPONSE
from service_runtime.calls import REQUEST_ID_KEY
from service_runtime.settings import Setting
from service_runtime.signature_check import SignatureCheckedOnce

MAX_CONNECTIONS = Setting(
    "MAX_CONNECTIONS",
    int,
    1000,
    "client connections served at once per gateway process; more wait to be accepted",
    minimum=1,
)
ACCESS_LOG = logging.getLogger("gateway.access")


class JsonErrorWsgiApp(WsgiApp):
    def __init__(self, server: JsonWebServer, site_rules: SiteRules) -> None:
        super().__init__(server)
        self.site_rules = site_rules

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        # nameko's WsgiApp, plus the site rules; runs on the connection's green thread.
        request = Request(environ, shallow=True)
        try:
            self.site_rules.check_site(environ)
            provider, request.path_values = self.url_map.bind_to_environ(environ).match()
            self.site_rules.check_body_type(environ)
            response = provider.handle_request(request)
        except (HTTPException, ServiceError) as exc:
            response = response_from_exception(exc)
        response.headers[REQUEST_ID_HEADER] = environ[REQUEST_ID_ENVIRON_KEY]
        response.headers.update(EVERY_RESPONSE)
        return response(environ, start_response)


class JsonWebServer(WebServer):
    def setup(self) -> None:
        config = self.container.config
        self.limits = ConnectionLimits.from_config(config)
        self.max_connections = MAX_CONNECTIONS.read(config)
        self.site_rules = SiteRules(config)

    def get_wsgi_app(self) -> JsonErrorWsgiApp:
        return JsonErrorWsgiApp(self, self.site_rules)

    def get_wsgi_server(self, sock: Any, wsgi_app: Any, **_: Any) -> GatewayWsgiServer:
        return GatewayWsgiServer(
            sock,
            sock.getsockname(),
            wsgi_app,
            limits=self.limits,
            protocol=GatewayHttpProtocol,
            log=ACCESS_LOG,
            # The protocol logs the client address itself (trusted proxies only).
            log_x_forwarded_for=False,
            # Bounds every single read or write; the protocol adds whole-request deadlines.
            socket_timeout=self.limits.head_seconds,
            debug=False,
        )

    def run(self) -> None:
        free_slots = Semaphore(self.max_connections)
        while self._is_accepting:
            free_slots.acquire()
            sock, address = self._sock.accept()
            sock.settimeout(self._serv.socket_timeout)
            self.container.spawn_managed_thread(
                partial(self.serve_connection, sock, address, free_slots)
            )

    def serve_connection(self, sock: Any, address: Any, free_slots: Semaphore) -> None:
        try:
            self.process_request(sock, address)
        finally:
            free_slots.release()

    def context_data_from_headers(self, request: Request) -> dict[str, str]:
        # Context data travels with every RPC call the worker makes.
        return {REQUEST_ID_KEY: request.environ[REQUEST_ID_ENVIRON_KEY]}


class JsonHttpEntrypoint(SignatureCheckedOnce, HttpRequestHandler):
    """``@http(method, url)``: every error the table maps (and Werkzeug's 4xx) is
    expected, so nameko logs it as a warning instead of a crash."""

    server = JsonWebServer()

    def __init__(self, method: str, url: str, **kwargs: Any) -> None:
        expected = (*STATUS_BY_ERROR, HTTPException, *kwargs.pop("expected_exceptions", ()))
        super().__init__(method, url, expected_exceptions=expected, **kwargs)

    def response_from_exception(self, exc: Exception) -> Response:
        return response_from_exception(exc)

    def handle_result(
        self, event: Event, worker_ctx: Any, result: Any, exc_info: Any
    ) -> tuple[Any, Any]:
        # nameko sends a failed worker's exception through ``event`` to the connection's
        # green thread, which re-raises it: its traceback then holds the frame holding
        # ``event``, a cycle that keeps the request's whole stack alive until the cyclic
        # garbage collector runs (a flood of 4xx answers grew RSS; service_runtime.memory).
        # The error's response is made here instead and sent as the result.
        if exc_info is None:
            event.send(result)
        else:
            event.send(self.response_from_exception(exc_info[1]))
        # The connection's green thread, just woken with the response, writes it first;
        # this worker's end-of-call bookkeeping (the call log line, metrics) runs after.
        # Twice: when the client's next request is already there, the connection's
        # thread takes it and spawns its worker within the first turn; the second turn
        # lets that worker start before this bookkeeping, not after it (one connection
        # at a time: ~2 % of a cold read, benchmarks/README.md).
        eventlet.sleep(0)
        eventlet.sleep(0)
        return result, exc_info


http = JsonHttpEntrypoint.decorator
