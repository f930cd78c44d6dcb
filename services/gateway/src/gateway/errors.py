"""The one table from errors to HTTP statuses, and the JSON error body.

Every error response is ``{"error": CODE, "message": text}`` plus ``"field"``
when one argument is to blame. Anything not in the table is a bug: it is logged
with its traceback and the client gets a bare 500 without internals.
"""

from __future__ import annotations

import json
import logging

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
    UnknownAirport,
)

log = logging.getLogger(__name__)


class MalformedJson(ServiceError):
    """The request body is not valid JSON (raised by the gateway only)."""

    code = "MALFORMED_JSON"


class StreamFull(ServiceError):
    """The live feed has its maximum of subscribers (raised by the gateway only)."""

    code = "STREAM_FULL"


class RateLimited(ServiceError):
    """Too many posts from one client address (raised by the gateway only)."""

    code = "RATE_LIMITED"

    def __init__(self, message: str, retry_after_seconds: int) -> None:
        super().__init__(message)
        self.headers = {"Retry-After": str(retry_after_seconds)}


STATUS_BY_ERROR: dict[type[ServiceError], int] = {
    MalformedJson: 400,
    InvalidArgument: 400,
    NotFound: 404,
    UnknownAirport: 422,
    SameAirport: 422,
    IdempotencyKeyReused: 422,
    RateLimited: 429,
    StreamFull: 503,
    ServiceUnavailable: 503,
    ServiceTimeout: 504,
}

# Werkzeug raises these itself (routing, body limit); their codes keep the
# same error format as the services' errors.
CODE_BY_HTTP_STATUS = {
    404: "ROUTE_NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "BODY_TOO_LARGE",
}


def json_response(status: int, payload: object, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(payload), status=status, headers=headers, mimetype="application/json"
    )


def error_body(code: str, message: str, field: str | None = None) -> dict[str, str]:
    body = {"error": code, "message": message}
    if field is not None:
        body["field"] = field
    return body


def response_from_exception(exc: BaseException) -> Response:
    """The HTTP response for any exception that escaped a route."""
    if isinstance(exc, ServiceError):
        for error_type in type(exc).__mro__:
            if error_type in STATUS_BY_ERROR:
                return json_response(
                    STATUS_BY_ERROR[error_type],
                    error_body(exc.code, exc.message, exc.field),
                    getattr(exc, "headers", None),  # Retry-After on 429
                )
    if isinstance(exc, HTTPException) and exc.code is not None and exc.code < 500:
        headers = dict(exc.get_headers())  # keeps Allow: on 405
        headers.pop("Content-Type", None)
        code = CODE_BY_HTTP_STATUS.get(exc.code, "BAD_REQUEST")
        return json_response(exc.code, error_body(code, exc.description or exc.name), headers)
    log.error("unhandled error in gateway", exc_info=exc)
    return json_response(500, error_body("INTERNAL_ERROR", "internal error"))
