"""Nameko's ``@http`` with JSON errors everywhere and a bounded request body.

Nameko answers unknown routes and wrong methods with Werkzeug's HTML pages and
route errors with ``text/plain`` tracebacks-in-a-line; this entrypoint and its
web server send the gateway's JSON error body instead (see ``errors``).
"""

from __future__ import annotations

from typing import Any

from nameko.web.handlers import HttpRequestHandler
from nameko.web.server import WebServer, WsgiApp
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request, Response

from gateway.errors import response_from_exception

MAX_BODY_BYTES_KEY = "MAX_BODY_BYTES"
DEFAULT_MAX_BODY_BYTES = 16 * 1024


class JsonErrorWsgiApp(WsgiApp):
    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        # Same as nameko's WsgiApp, but routing errors (404/405) become JSON.
        request = Request(environ, shallow=True)
        adapter = self.url_map.bind_to_environ(environ)
        try:
            provider, values = adapter.match()
            request.path_values = values
            response = provider.handle_request(request)
        except HTTPException as exc:
            response = response_from_exception(exc)
        return response(environ, start_response)


class JsonWebServer(WebServer):
    def get_wsgi_app(self) -> JsonErrorWsgiApp:
        return JsonErrorWsgiApp(self)


class JsonHttpEntrypoint(HttpRequestHandler):
    server = JsonWebServer()

    def setup(self) -> None:
        super().setup()
        self.max_body_bytes = int(
            self.container.config.get(MAX_BODY_BYTES_KEY) or DEFAULT_MAX_BODY_BYTES
        )

    def handle_request(self, request: Request) -> Response:
        # Reading more than this raises RequestEntityTooLarge (-> 413) in the route.
        request.max_content_length = self.max_body_bytes
        return super().handle_request(request)

    def response_from_exception(self, exc: Exception) -> Response:
        return response_from_exception(exc)


http = JsonHttpEntrypoint.decorator
