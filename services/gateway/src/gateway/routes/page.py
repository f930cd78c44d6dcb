"""``GET /``: the messenger page, and its script and stylesheet under ``/static/``.

The files ship inside the gateway package (``gateway/static/``) and are read once
at import. Their Content-Security-Policy allows only these same-origin files to run:
a second line of defence behind the page inserting message text as text. The edge adds
what every response gets (nosniff, never framed, no referrer: deploy/edge/haproxy.cfg).
"""

from __future__ import annotations

from importlib.resources import files

from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Request, Response

from gateway.http import http

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
}
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "Cache-Control": "no-cache",
}
STATIC_FILES: dict[str, bytes] = {
    entry.name: entry.read_bytes()
    for entry in (files("gateway") / "static").iterdir()
    if entry.is_file() and any(entry.name.endswith(suffix) for suffix in CONTENT_TYPES)
}


def static_response(name: str) -> Response:
    if name not in STATIC_FILES:
        raise NotFound(f"no static file {name!r}")
    suffix = name[name.rfind(".") :]
    return Response(STATIC_FILES[name], content_type=CONTENT_TYPES[suffix], headers=PAGE_HEADERS)


class MessengerPage:
    @http("GET", "/")
    def messenger_page(self, request: Request) -> Response:
        return static_response("index.html")

    @http("GET", "/static/<string:name>")
    def static_file(self, request: Request, name: str) -> Response:
        return static_response(name)
