"""Nameko's ``@http`` and web server as shipped, with the gateway's error table.

The edge owns the connection (deploy/edge/haproxy.cfg). What stays here needs the
application: the client as the edge saw it (``client_address``, through nameko's
``get_wsgi_app`` seam), the ``X-Request-Id``, the ``Origin`` check (``cross_site``), and
JSON errors from the one table (``gateway.errors``) instead of Werkzeug's HTML.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from nameko.web.handlers import HttpRequestHandler
from nameko.web.server import WebServer, WsgiApp
from pydantic import BaseModel
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request, Response

from contracts.errors import ServiceError
from contracts.interface import RpcMethod
from gateway.bodies import JSON_MEDIA_TYPE
from gateway.client_address import TRUSTED_PROXIES, BehindTrustedProxies, TrustedProxies
from gateway.cross_site import OriginRule
from gateway.errors import STATUS_BY_ERROR, response_from_exception
from gateway.metrics import HTTP_ERRORS
from service_runtime.calls import REQUEST_ID_KEY
from service_runtime.entrypoints import SignatureCheckedOnce

REQUEST_ID_HEADER = "X-Request-Id"
# A client's id is kept only if short and plain (as the edge does): it is in every log line.
ACCEPTED_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
REQUEST_ID_ENVIRON_KEY = "gateway.request_id"


def request_id_for(given: str | None) -> str:
    """The client's id when acceptable, else a new one."""
    return given if given and ACCEPTED_REQUEST_ID.fullmatch(given) else uuid.uuid4().hex


class JsonWsgiApp(WsgiApp):
    def __init__(self, server: JsonWebServer) -> None:
        super().__init__(server)
        self.origin_rule = OriginRule(server.container.config)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request_id = environ[REQUEST_ID_ENVIRON_KEY] = request_id_for(
            environ.get("HTTP_X_REQUEST_ID")
        )
        if environ.get("HTTP_TRANSFER_ENCODING", "").lower() == "chunked":
            # eventlet reads it to its end; Werkzeug needs to be told (a WSGI extension).
            environ["wsgi.input_terminated"] = True
        request = Request(environ, shallow=True)
        try:
            self.origin_rule.check(request)
            provider, request.path_values = self.url_map.bind_to_environ(environ).match()
            response = provider.handle_request(request)
        except (HTTPException, ServiceError) as exc:
            # Refused before a worker (unknown path, wrong method, Origin): counted here.
            response = response_from_exception(exc)
            HTTP_ERRORS.labels(response.json["error"]).inc()
        response.headers[REQUEST_ID_HEADER] = request_id
        # Every answer is live or a file a deploy changes: revalidated before reuse.
        response.headers.setdefault("Cache-Control", "no-cache")
        return response(environ, start_response)


class JsonWebServer(WebServer):
    def get_wsgi_app(self) -> BehindTrustedProxies:
        proxies = TrustedProxies(TRUSTED_PROXIES.read(self.container.config))
        return BehindTrustedProxies(JsonWsgiApp(self), proxies)

    def context_data_from_headers(self, request: Request) -> dict[str, str]:
        # Context data travels with every RPC call the worker makes.
        return {REQUEST_ID_KEY: request.environ[REQUEST_ID_ENVIRON_KEY]}


@dataclass(frozen=True)
class Route:
    """One HTTP route, declared once: ``@http`` serves it, ``gateway.openapi`` documents it
    (with what its function says: summary, tag, path parameter types)."""

    method: str
    rule: str  # Werkzeug's, e.g. /airport/<string:airport_id>
    status: int = 200
    body: type[BaseModel] | None = None  # the JSON body (``gateway.bodies.parse_body``)
    calls: tuple[RpcMethod, ...] = ()  # the RPC methods it calls; the first one's result is its own
    result: Any = None  # its JSON result's type, when not its first call's
    media_types: tuple[str, ...] = (JSON_MEDIA_TYPE,)
    errors: tuple[type[Exception], ...] = ()  # raised by the route itself
    query: dict[str, Any] = field(default_factory=dict)  # query parameter -> type
    idempotent: bool = False  # takes an Idempotency-Key (gateway.idempotency)
    responses: dict[int, tuple[str, Any]] = field(default_factory=dict)  # beyond the table's
    public: bool = True  # False: for the internal network only (the edge refuses it)


class JsonHttpEntrypoint(SignatureCheckedOnce, HttpRequestHandler):
    """``@http(route)``: every error the table maps (and Werkzeug's 4xx) is expected (a
    warning, not a crash), and answers from the table."""

    server = JsonWebServer()

    def __init__(self, route: Route, **kwargs: Any) -> None:
        expected = (*STATUS_BY_ERROR, HTTPException, *kwargs.pop("expected_exceptions", ()))
        super().__init__(route.method, route.rule, expected_exceptions=expected, **kwargs)
        self.route = route

    def handle_result(
        self, event: Any, worker_ctx: Any, result: Any, exc_info: Any
    ) -> tuple[Response, Any]:
        # Decided once: the client gets it; the call line and metrics read it (worker_result).
        if exc_info is None:
            response = self.response_from_result(result)
        else:
            response = self.response_from_exception(exc_info[1])
        event.send(response, None)
        return response, exc_info

    # Also how nameko's ``handle_request`` answers a failure before the worker.
    response_from_exception = staticmethod(response_from_exception)


http = JsonHttpEntrypoint.decorator
