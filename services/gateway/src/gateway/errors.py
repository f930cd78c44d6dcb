"""The one table from errors to HTTP statuses, and the JSON error body (README, "HTTP API").

Anything not in the table is a bug: logged with its traceback, a bare 500 to the client.
"""

from __future__ import annotations

import json
import logging
from typing import Any, NotRequired

from nameko.exceptions import ContainerBeingKilled
from typing_extensions import TypedDict  # pydantic's requirement on Python 3.11
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from contracts.errors import (
    IdempotencyKeyReused,
    InvalidArgument,
    NotFound,
    SameAirport,
    ServiceError,
    ServiceTimeout,
    ServiceUnavailable,
    StorageFull,
    UnknownAirport,
)

log = logging.getLogger(__name__)


# The gateway's own errors; when each is raised: README's error table.
class MalformedJson(ServiceError):
    code = "MALFORMED_JSON"


class StreamFull(ServiceError):
    code = "STREAM_FULL"


class OriginNotAllowed(ServiceError):
    code = "ORIGIN_NOT_ALLOWED"


class UnsupportedMediaType(ServiceError):
    code = "UNSUPPORTED_MEDIA_TYPE"


class RateLimited(ServiceError):
    code = "RATE_LIMITED"

    def __init__(self, message: str, retry_after_seconds: int = 1, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.headers = {"Retry-After": str(retry_after_seconds)}


STATUS_BY_ERROR: dict[type[ServiceError], int] = {
    MalformedJson: 400,
    InvalidArgument: 400,
    OriginNotAllowed: 403,
    NotFound: 404,
    UnsupportedMediaType: 415,
    UnknownAirport: 422,
    SameAirport: 422,
    IdempotencyKeyReused: 422,
    RateLimited: 429,
    StreamFull: 503,
    ServiceUnavailable: 503,
    StorageFull: 503,
    ServiceTimeout: 504,
}

# Werkzeug's own (routing), in the same body; README's error table lists every code.
CODE_BY_HTTP_STATUS = {404: "ROUTE_NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}


def json_response(status: int, payload: object, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(payload), status=status, headers=headers, mimetype="application/json"
    )


class ErrorBody(TypedDict):
    """Every error response: a stable ``error`` code, a ``message`` for people, ``field``
    only when one argument is to blame."""

    error: str
    message: str
    field: NotRequired[str]


def error_body(code: str, message: str, field: str | None = None) -> dict[str, str]:
    body = {"error": code, "message": message}
    if field is not None:
        body["field"] = field
    return body


def status_of(error_type: type[ServiceError]) -> int | None:
    """The HTTP status of ``error_type``: its own entry or its nearest listed base's."""
    for base in error_type.__mro__:
        if base in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[base]
    return None


def response_from_exception(exc: BaseException) -> Response:
    """The HTTP response for any exception that escaped a route."""
    if isinstance(exc, ContainerBeingKilled):
        # Going down between accepting a request and its worker: another can answer.
        exc = ServiceUnavailable("gateway: this instance is stopping")
    if isinstance(exc, ServiceError) and (status := status_of(type(exc))) is not None:
        headers = getattr(exc, "headers", None)  # Retry-After on 429
        return json_response(status, error_body(exc.code, exc.message, exc.field), headers)
    if isinstance(exc, HTTPException) and exc.code is not None and exc.code < 500:
        headers = dict(exc.get_headers())  # keeps Allow: on 405
        headers.pop("Content-Type", None)
        code = CODE_BY_HTTP_STATUS.get(exc.code, "BAD_REQUEST")
        return json_response(exc.code, error_body(code, exc.description or exc.name), headers)
    log.error("unhandled error in gateway", exc_info=exc)
    return json_response(500, error_body("INTERNAL_ERROR", "internal error"))
