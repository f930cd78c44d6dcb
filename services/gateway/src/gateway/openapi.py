"""The OpenAPI 3.1 document of the HTTP API, built from what the gateway runs with.

Nothing here restates a schema or a status: request bodies are the models
``gateway.bodies`` validates with, results are the contracts' RPC result models,
and each operation's error statuses and codes come from feeding the errors it can
raise (its body parsing, the declared errors of the RPC methods it calls, the
proxies' outage errors) through ``gateway.errors.response_from_exception``, the
one table. ``OPERATIONS`` lists every public route; a test walks the service's ``@http``
entrypoints and fails on a route neither it nor ``INTERNAL_RULES`` names.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import version
from typing import (
    Any,
    NotRequired,  # pydantic needs these on 3.11
)

from pydantic import BaseModel, TypeAdapter
from typing_extensions import TypedDict, is_typeddict
from werkzeug import exceptions as http_errors

from contracts.airports.v1 import GET as GET_AIRPORT
from contracts.airports.v2 import CREATE_V2
from contracts.errors import (
    IdempotencyKeyReused,
    InvalidArgument,
    ServiceTimeout,
    ServiceUnavailable,
)
from contracts.ids import EntityId
from contracts.interface import RpcMethod
from contracts.messages.v1 import GET_ALL_MESSAGES, GET_MESSAGE, SAVE_MESSAGE, PageSize
from contracts.trips.v1 import GET as GET_TRIP
from contracts.trips.v1 import CreateTrip, Trip
from contracts.trips.v2 import CREATE_V2 as CREATE_TRIP
from gateway import bodies
from gateway.errors import (
    MalformedJson,
    OriginNotAllowed,
    RateLimited,
    StreamFull,
    UnsupportedMediaType,
    response_from_exception,
)
from gateway.idempotency import ACCEPTED_KEY, IDEMPOTENCY_HEADER
from gateway.routes.page import CONTENT_TYPES

JSON = "application/json"
TITLE = "Nameko travel & messenger gateway"


class ErrorBody(TypedDict):
    """Every error response (``gateway.errors.error_body``): a stable ``error`` code, a
    ``message`` for people, ``field`` only when one argument is to blame."""

    error: str
    message: str
    field: NotRequired[str]


class NotReady(ErrorBody):
    """``/ready``'s 503: the error body plus the services that did not answer."""

    missing: list[str]


class Health(TypedDict):
    status: str


class Ready(TypedDict):
    status: str
    services: list[str]


# Errors an operation can raise besides its RPC methods' own (the edge's refusals of
# a request it will not pass on are README's; they are the same body).
BODY_ERRORS = (MalformedJson, InvalidArgument, UnsupportedMediaType, OriginNotAllowed)
OUTAGE_ERRORS = (ServiceUnavailable, ServiceTimeout)
# A path parameter holding an encoded "/" matches no route.
PATH_ERRORS = (http_errors.NotFound,)


@dataclass(frozen=True)
class Content:
    """A success response: its status, media type and (for JSON) the type it carries."""

    status: int
    media_types: tuple[str, ...] = (JSON,)
    schema: Any = None  # a type pydantic can describe; None: not JSON, described as a string


@dataclass(frozen=True)
class Operation:
    method: str
    rule: str  # the Werkzeug rule of the @http entrypoint
    summary: str
    ok: Content
    body: type[BaseModel] | None = None
    calls: tuple[RpcMethod, ...] = ()
    errors: tuple[type[Exception], ...] = ()
    params: dict[str, Any] = field(default_factory=dict)  # path parameter -> type
    query: dict[str, Any] = field(default_factory=dict)  # query parameter -> type
    idempotent: bool = False  # takes an Idempotency-Key (gateway.idempotency)
    tag: str = "travel"

    @property
    def path(self) -> str:
        return openapi_path(self.rule)

    def raised(self) -> tuple[type[Exception], ...]:
        """Every error this operation can answer with."""
        found: list[type[Exception]] = list(self.errors)
        if self.body is not None:
            found += BODY_ERRORS
        if self.idempotent:
            found.append(IdempotencyKeyReused)
        for method in self.calls:
            found += method.errors
        if self.calls:
            found += OUTAGE_ERRORS
        if self.params:
            found += PATH_ERRORS
        return tuple(dict.fromkeys(found))


def openapi_path(rule: str) -> str:
    """``/airport/<string:airport_id>`` -> ``/airport/{airport_id}``."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


HTML = ("text/html",)
EVENT_STREAM = ("text/event-stream",)
# What /static/ and /docs/ files are served as (by their suffix).
STATIC_MEDIA_TYPES = tuple(dict.fromkeys(kind.split(";")[0] for kind in CONTENT_TYPES.values()))

OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "POST",
        "/airport",
        "Create an airport",
        Content(201, schema=CREATE_V2.result),
        body=bodies.NewAirport,
        calls=(CREATE_V2,),
        idempotent=True,
    ),
    Operation(
        "GET",
        "/airport/<string:airport_id>",
        "Read an airport",
        Content(200, schema=GET_AIRPORT.result),
        calls=(GET_AIRPORT,),
        params={"airport_id": EntityId},
    ),
    Operation(
        "POST",
        "/trip",
        "Create a trip between two airports",
        Content(201, schema=Trip),
        body=CreateTrip,
        calls=(CREATE_TRIP,),
        idempotent=True,
    ),
    Operation(
        "GET",
        "/trip/<string:trip_id>",
        "Read a trip",
        Content(200, schema=GET_TRIP.result),
        calls=(GET_TRIP,),
        params={"trip_id": EntityId},
    ),
    Operation(
        "POST",
        "/messages",
        "Post a message to the board",
        Content(201, schema=SAVE_MESSAGE.result),
        body=bodies.NewMessage,
        calls=(SAVE_MESSAGE,),
        errors=(RateLimited,),
        idempotent=True,
        tag="messenger",
    ),
    Operation(
        "GET",
        "/messages",
        "The live messages, newest first",
        Content(200, schema=GET_ALL_MESSAGES.result),
        calls=(GET_ALL_MESSAGES,),
        query={"limit": PageSize},
        tag="messenger",
    ),
    Operation(
        "GET",
        "/messages/<string:message_id>",
        "Read a message (404 once expired)",
        Content(200, schema=GET_MESSAGE.result),
        calls=(GET_MESSAGE,),
        params={"message_id": EntityId},
        tag="messenger",
    ),
    Operation(
        "GET",
        "/messages/stream",
        "The live feed: one `message_created` Server-Sent Event per new message",
        Content(200, EVENT_STREAM),
        errors=(StreamFull,),
        tag="messenger",
    ),
    Operation("GET", "/", "The messenger page", Content(200, HTML), tag="pages"),
    Operation(
        "GET",
        "/static/<string:name>",
        "The messenger page's script and stylesheet",
        Content(200, STATIC_MEDIA_TYPES),
        params={"name": str},
        tag="pages",
    ),
    Operation(
        "GET", "/health", "The gateway process serves", Content(200, schema=Health), tag="ops"
    ),
    Operation(
        "GET",
        "/ready",
        "Every service answers a ping (503 names the ones that do not)",
        Content(200, schema=Ready),
        tag="ops",
    ),
    Operation("GET", "/openapi.json", "This document", Content(200), tag="docs"),
    Operation("GET", "/docs", "Browsable API documentation", Content(200, HTML), tag="docs"),
    Operation(
        "GET",
        "/docs/<string:asset>",
        "The documentation page's assets",
        Content(200, STATIC_MEDIA_TYPES),
        params={"asset": str},
        tag="docs",
    ),
)
# Routes served to the internal network only (Prometheus scrapes the gateway's own
# port); the edge answers them as unknown paths, so the public document leaves them out.
INTERNAL_RULES = ("/metrics",)
# Responses no error class describes: /ready's own 503 body.
EXTRA_RESPONSES: dict[tuple[str, str], dict[int, tuple[str, Any]]] = {
    ("GET", "/ready"): {503: ("some service does not answer", NotReady)},
}


class SchemaRegistry:
    """JSON Schemas of pydantic types; every model and TypedDict goes under
    ``components/schemas`` and is referenced from there."""

    REF = "#/components/schemas/{model}"

    def __init__(self) -> None:
        self.components: dict[str, Any] = {}

    def schema(self, kind: Any, mode: str) -> dict[str, Any]:
        schema = TypeAdapter(kind).json_schema(ref_template=self.REF, mode=mode)  # type: ignore[arg-type]
        self.components.update(schema.pop("$defs", {}))
        if is_typeddict(kind) or (isinstance(kind, type) and issubclass(kind, BaseModel)):
            name = schema["title"]
            self.components[name] = schema
            return {"$ref": self.REF.format(model=name)}
        return schema


def error_responses(operation: Operation, schemas: SchemaRegistry) -> dict[int, dict[str, Any]]:
    """Each status the operation's errors map to, with the codes it can carry."""
    codes_by_status: dict[int, set[str]] = defaultdict(set)
    for error in operation.raised():
        response = response_from_exception(error("example"))
        codes_by_status[response.status_code].add(json.loads(response.get_data())["error"])
    error_ref = schemas.schema(ErrorBody, "serialization")
    responses = {}
    for status, codes in sorted(codes_by_status.items()):
        schema = {"allOf": [error_ref], "properties": {"error": {"enum": sorted(codes)}}}
        responses[status] = {
            "description": ", ".join(sorted(codes)),
            "content": {JSON: {"schema": schema}},
        }
    return responses


def parameters(operation: Operation, schemas: SchemaRegistry) -> list[dict[str, Any]]:
    found = [
        {"name": name, "in": "path", "required": True, "schema": schemas.schema(kind, "validation")}
        for name, kind in operation.params.items()
    ]
    found += [
        {
            "name": name,
            "in": "query",
            "required": False,
            "schema": schemas.schema(kind, "validation"),
        }
        for name, kind in operation.query.items()
    ]
    if operation.idempotent:
        found.append(
            {
                "name": IDEMPOTENCY_HEADER,
                "in": "header",
                "required": False,
                "description": "a retry with the same key and body gets the first answer again",
                "schema": {"type": "string", "pattern": f"^{ACCEPTED_KEY.pattern}$"},
            }
        )
    return found


def success_response(operation: Operation, schemas: SchemaRegistry) -> dict[str, Any]:
    ok = operation.ok
    if ok.schema is None:
        schema: dict[str, Any] = {"type": "object"} if ok.media_types == (JSON,) else {}
    else:
        schema = schemas.schema(ok.schema, "serialization")
    content = {media_type: {"schema": schema} for media_type in ok.media_types}
    return {"description": "success", "content": content}


def operation_object(operation: Operation, schemas: SchemaRegistry) -> dict[str, Any]:
    responses: dict[int, Any] = {operation.ok.status: success_response(operation, schemas)}
    responses.update(error_responses(operation, schemas))
    for status, (text, model) in EXTRA_RESPONSES.get(
        (operation.method, operation.path), {}
    ).items():
        responses[status] = {
            "description": text,
            "content": {JSON: {"schema": schemas.schema(model, "serialization")}},
        }
    described: dict[str, Any] = {
        "summary": operation.summary,
        "operationId": f"{operation.method.lower()}{re.sub(r'[^A-Za-z0-9]+', '_', operation.path)}",
        "tags": [operation.tag],
        "responses": {str(status): body for status, body in sorted(responses.items())},
    }
    if operation.params or operation.query or operation.idempotent:
        described["parameters"] = parameters(operation, schemas)
    if operation.body is not None:
        described["requestBody"] = {
            "required": True,
            "content": {JSON: {"schema": schemas.schema(operation.body, "validation")}},
        }
    return described


@cache
def document() -> dict[str, Any]:
    """The OpenAPI document (built once per process)."""
    schemas = SchemaRegistry()
    paths: dict[str, dict[str, Any]] = defaultdict(dict)
    for operation in OPERATIONS:
        paths[operation.path][operation.method.lower()] = operation_object(operation, schemas)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": TITLE,
            "version": version("travel-gateway"),
            "description": (
                "The public JSON API. Every error answers with the same body, "
                '`{"error": CODE, "message": text, "field": name}` (`field` only when one '
                "argument is to blame); every response carries an `X-Request-Id`."
            ),
        },
        "paths": dict(paths),
        "components": {"schemas": dict(sorted(schemas.components.items()))},
    }


@cache
def document_bytes() -> bytes:
    return json.dumps(document(), indent=1).encode()
