"""Nameko's ``@http`` with JSON errors everywhere and a bounded request body.

Nameko answers unknown routes and wrong methods with Werkzeug's HTML pages and
route errors with ``text/plain`` tracebacks-in-a-line; this entrypoint and its
web server send the gateway's JSON error body instead (see ``errors``).
"""

from __future__ import annotations

import io
import re
import uuid
from typing import Any

from nameko.web.handlers import HttpRequestHandler
from nameko.web.server import WebServer, WsgiApp
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.wrappers import Request, Response

from gateway.errors import STATUS_BY_ERROR, response_from_exception
from service_runtime.calllog import REQUEST_ID_KEY
from service_runtime.settings import Setting

MAX_BODY_BYTES = Setting(
    "MAX_BODY_BYTES", int, 16 * 1024, "request bodies over this many bytes get 413", minimum=1
)

REQUEST_ID_HEADER = "X-Request-Id"
# A client's id is kept only if it is short and plain: it ends up in every log line.
ACCEPTED_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
REQUEST_ID_ENVIRON_KEY = "gateway.request_id"


def request_id_for(environ: dict[str, Any]) -> str:
    """The client's ``X-Request-Id`` when acceptable, else a new one."""
    given = environ.get("HTTP_X_REQUEST_ID", "")
    return given if ACCEPTED_REQUEST_ID.fullmatch(given) else uuid.uuid4().hex


class JsonErrorWsgiApp(WsgiApp):
    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        # Same as nameko's WsgiApp, but routing errors (404/405) become JSON and
        # every response carries the request id its log lines are tagged with.
        request_id = environ[REQUEST_ID_ENVIRON_KEY] = request_id_for(environ)
        request = Request(environ, shallow=True)
        adapter = self.url_map.bind_to_environ(environ)
        try:
            provider, values = adapter.match()
            request.path_values = values
            response = provider.handle_request(request)
        except HTTPException as exc:
            response = response_from_exception(exc)
        response.headers[REQUEST_ID_HEADER] = request_id
        return response(environ, start_response)


class JsonWebServer(WebServer):
    def get_wsgi_app(self) -> JsonErrorWsgiApp:
        return JsonErrorWsgiApp(self)

    def context_data_from_headers(self, request: Request) -> dict[str, str]:
        # Context data travels with every RPC call the worker makes.
        return {REQUEST_ID_KEY: request.environ[REQUEST_ID_ENVIRON_KEY]}


class JsonHttpEntrypoint(HttpRequestHandler):
    """``@http(method, url)``: every error the table maps (and Werkzeug's 4xx) is
    expected, so nameko logs it as a warning instead of a crash."""

    server = JsonWebServer()

    def __init__(self, method: str, url: str, **kwargs: Any) -> None:
        expected = (*STATUS_BY_ERROR, HTTPException, *kwargs.pop("expected_exceptions", ()))
        super().__init__(method, url, expected_exceptions=expected, **kwargs)

    def setup(self) -> None:
        super().setup()
        self.max_body_bytes = MAX_BODY_BYTES.read(self.container.config)

    def handle_request(self, request: Request) -> Response:
        # A Content-Length over this raises RequestEntityTooLarge (-> 413) in the route.
        request.max_content_length = self.max_body_bytes
        if "chunked" in request.environ.get("HTTP_TRANSFER_ENCODING", "").lower():
            try:
                self.buffer_chunked_body(request.environ)
            except RequestEntityTooLarge as exc:
                return self.response_from_exception(exc)
        return super().handle_request(request)

    def buffer_chunked_body(self, environ: dict[str, Any]) -> None:
        """Read a chunked body (no Content-Length) up front, at most one byte past the
        limit, and hand it on as a body of known length.

        Werkzeug reads a body without Content-Length as empty, and when told the
        stream ends by itself it silently truncates at the limit instead of refusing.
        eventlet's input stream de-chunks, so reading it gives the plain body.
        """
        body = environ["wsgi.input"].read(self.max_body_bytes + 1)
        if len(body) > self.max_body_bytes:
            raise RequestEntityTooLarge()
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        del environ["HTTP_TRANSFER_ENCODING"]

    def response_from_exception(self, exc: Exception) -> Response:
        return response_from_exception(exc)


http = JsonHttpEntrypoint.decorator
