"""The files a browser loads: the messenger page and ``/docs`` (README, "API description,
metrics and logs"), each with a Content-Security-Policy that lets only its own files run.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable

from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Request, Response

from gateway.http import Route, http
from gateway.openapi import document_bytes

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
}
HTML = ("text/html",)
FILE_MEDIA_TYPES = tuple(dict.fromkeys(kind.split(";")[0] for kind in CONTENT_TYPES.values()))
PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# Swagger UI sets inline styles and draws icons from data: URLs; scripts stay same-origin.
DOCS_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
SWAGGER_UI_FILES = ("swagger-ui-bundle.js", "swagger-ui.css")


def files_in(folder: Traversable) -> dict[str, bytes]:
    return {entry.name: entry.read_bytes() for entry in folder.iterdir() if entry.is_file()}


STATIC_FILES = files_in(files("gateway") / "static")


@cache
def docs_files() -> dict[str, bytes]:
    """The page, its start-up script and Swagger UI's files, read on first use (~1.6 MB)."""
    vendored = files("swagger_ui") / "static"
    swagger_ui = {name: (vendored / name).read_bytes() for name in SWAGGER_UI_FILES}
    return {**files_in(files("gateway") / "apidocs"), **swagger_ui}


def file_response(found: dict[str, bytes], name: str, policy: str) -> Response:
    """The file ``name`` of ``found``, typed by its suffix; any other name is 404."""
    suffix = name[name.rfind(".") :]
    if name not in found or suffix not in CONTENT_TYPES:
        raise NotFound(f"no file {name!r}")
    return Response(
        found[name], content_type=CONTENT_TYPES[suffix], headers={"Content-Security-Policy": policy}
    )


class PageRoutes:
    @http(Route("GET", "/", media_types=HTML))
    def messenger_page(self, request: Request) -> Response:
        """The messenger page."""
        return file_response(STATIC_FILES, "index.html", PAGE_POLICY)

    @http(Route("GET", "/static/<string:name>", media_types=FILE_MEDIA_TYPES))
    def static_file(self, request: Request, name: str) -> Response:
        """The messenger page's script and stylesheet."""
        return file_response(STATIC_FILES, name, PAGE_POLICY)

    @http(Route("GET", "/openapi.json"))
    def openapi_document(self, request: Request) -> Response:
        """This document."""
        return Response(document_bytes(type(self)), content_type="application/json")

    @http(Route("GET", "/docs", media_types=HTML))
    def docs_page(self, request: Request) -> Response:
        """Browsable API documentation."""
        return file_response(docs_files(), "index.html", DOCS_POLICY)

    @http(Route("GET", "/docs/<string:asset>", media_types=FILE_MEDIA_TYPES))
    def docs_asset(self, request: Request, asset: str) -> Response:
        """The documentation page's assets."""
        return file_response(docs_files(), asset, DOCS_POLICY)
