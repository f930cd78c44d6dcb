"""``GET /openapi.json`` (``gateway.openapi``) and ``GET /docs``, a Swagger UI page on it.

Swagger UI's script and stylesheet come from the swagger-ui-py package (pinned in
constraints.txt) and are served from here, like the page and its own small start-up
script (``gateway/apidocs/``): the docs work without reaching any other host.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Request, Response

from gateway.http import http
from gateway.openapi import document_bytes
from gateway.routes.page import CONTENT_TYPES

SWAGGER_UI_FILES = ("swagger-ui-bundle.js", "swagger-ui.css")
# Swagger UI sets inline styles and draws its icons from data: URLs; scripts stay
# same-origin only.
DOCS_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'"
    ),
    "Cache-Control": "no-cache",
}


@cache
def docs_files() -> dict[str, bytes]:
    """The page, its start-up script and Swagger UI's files, read on first use (~1.6 MB)."""
    own = files("gateway") / "apidocs"
    vendored = files("swagger_ui") / "static"
    found = {entry.name: entry.read_bytes() for entry in own.iterdir() if entry.is_file()}
    found.update({name: (vendored / name).read_bytes() for name in SWAGGER_UI_FILES})
    return found


def docs_response(name: str) -> Response:
    suffix = name[name.rfind(".") :]
    if name not in docs_files() or suffix not in CONTENT_TYPES:
        raise NotFound(f"no documentation file {name!r}")
    return Response(docs_files()[name], content_type=CONTENT_TYPES[suffix], headers=DOCS_HEADERS)


class DocsRoutes:
    @http("GET", "/openapi.json")
    def openapi_document(self, request: Request) -> Response:
        return Response(document_bytes(), content_type="application/json")

    @http("GET", "/docs")
    def docs_page(self, request: Request) -> Response:
        return docs_response("index.html")

    @http("GET", "/docs/<string:asset>")
    def docs_asset(self, request: Request, asset: str) -> Response:
        return docs_response(asset)
