"""The OpenAPI 3.1 document of the HTTP API, generated from the routes the gateway serves
(README, "API description, metrics and logs").
"""

from __future__ import annotations

import inspect
import json
import re
from collections import defaultdict
from collections.abc import Callable
from functools import cache
from importlib.metadata import version
from typing import Any, get_type_hints

from nameko.extensions import ENTRYPOINT_EXTENSIONS_ATTR
from pydantic import BaseModel, TypeAdapter
from typing_extensions import is_typeddict
from werkzeug import exceptions as http_errors

from contracts.errors import (
    IdempotencyKeyReused,
    InvalidArgument,
    ServiceTimeout,
    ServiceUnavailable,
)
from gateway.bodies import JSON_MEDIA_TYPE as JSON
from gateway.errors import (
    ErrorBody,
    MalformedJson,
    OriginNotAllowed,
    UnsupportedMediaType,
    response_from_exception,
)
from gateway.http import JsonHttpEntrypoint, Route
from gateway.idempotency import ACCEPTED_KEY, IDEMPOTENCY_HEADER

TITLE = "Nameko travel & messenger gateway"
# Errors an operation can raise besides its RPC methods' own.
BODY_ERRORS = (MalformedJson, InvalidArgument, UnsupportedMediaType, OriginNotAllowed)
OUTAGE_ERRORS = (ServiceUnavailable, ServiceTimeout)
# A path parameter holding an encoded "/" matches no route.
PATH_ERRORS = (http_errors.NotFound,)
PATH_PARAMETER = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


def routes(service_cls: type) -> list[tuple[Route, Callable[..., Any]]]:
    """Every ``@http`` entrypoint's ``Route`` that ``service_cls`` serves, with its function."""
    found = [
        (entrypoint.route, function)
        for _, function in inspect.getmembers(service_cls, inspect.isfunction)
        for entrypoint in getattr(function, ENTRYPOINT_EXTENSIONS_ATTR, ())
        if isinstance(entrypoint, JsonHttpEntrypoint)
    ]
    return sorted(found, key=lambda pair: (pair[0].rule, pair[0].method))


def openapi_path(rule: str) -> str:
    """``/airport/<string:airport_id>`` -> ``/airport/{airport_id}``."""
    return PATH_PARAMETER.sub(r"{\1}", rule)


def raised(route: Route) -> tuple[type[Exception], ...]:
    """Every error ``route`` can answer with."""
    found: list[type[Exception]] = list(route.errors)
    if route.body is not None:
        found += BODY_ERRORS
    if route.idempotent:
        found.append(IdempotencyKeyReused)
    for method in route.calls:
        found += method.errors
    if route.calls:
        found += OUTAGE_ERRORS
    if PATH_PARAMETER.search(route.rule):
        found += PATH_ERRORS
    return tuple(dict.fromkeys(found))


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

    def json_content(self, kind: Any, mode: str = "serialization") -> dict[str, Any]:
        return {JSON: {"schema": self.schema(kind, mode)}}


def error_responses(route: Route, schemas: SchemaRegistry) -> dict[int, dict[str, Any]]:
    """Each status the route's errors map to, with the codes it can carry."""
    codes_by_status: dict[int, set[str]] = defaultdict(set)
    for error in raised(route):
        response = response_from_exception(error("example"))
        codes_by_status[response.status_code].add(response.json["error"])
    error_ref = schemas.schema(ErrorBody, "serialization")
    responses = {}
    for status, codes in sorted(codes_by_status.items()):
        schema = {"allOf": [error_ref], "properties": {"error": {"enum": sorted(codes)}}}
        responses[status] = {
            "description": ", ".join(sorted(codes)),
            "content": {JSON: {"schema": schema}},
        }
    return responses


def parameters(
    route: Route, function: Callable[..., Any], schemas: SchemaRegistry
) -> list[dict[str, Any]]:
    annotations = get_type_hints(function, include_extras=True)
    path = {name: annotations[name] for name in PATH_PARAMETER.findall(route.rule)}
    found = [
        {
            "name": name,
            "in": where,
            "required": where == "path",
            "schema": schemas.schema(kind, "validation"),
        }
        for where, declared in (("path", path), ("query", route.query))
        for name, kind in declared.items()
    ]
    if route.idempotent:
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


def success_response(route: Route, schemas: SchemaRegistry) -> dict[str, Any]:
    # What a success carries: the route's result type, else its first RPC call's.
    result = route.result or (route.calls[0].result if route.calls else None)
    if result is not None:
        content = schemas.json_content(result)
    else:  # a JSON document of its own (this one), or not JSON: described as a string
        content = {
            kind: {"schema": {"type": "object"} if kind == JSON else {}}
            for kind in route.media_types
        }
    return {"description": "success", "content": content}


def operation_object(
    route: Route, function: Callable[..., Any], schemas: SchemaRegistry
) -> dict[str, Any]:
    responses = {route.status: success_response(route, schemas)}
    responses.update(error_responses(route, schemas))
    for status, (text, kind) in route.responses.items():
        responses[status] = {"description": text, "content": schemas.json_content(kind)}
    path = openapi_path(route.rule)
    described: dict[str, Any] = {
        "summary": inspect.getdoc(function).splitlines()[0],  # type: ignore[union-attr]
        "operationId": f"{route.method.lower()}{re.sub(r'[^A-Za-z0-9]+', '_', path)}",
        "tags": [function.__module__.rpartition(".")[2]],
        "responses": {str(status): body for status, body in sorted(responses.items())},
    }
    if found := parameters(route, function, schemas):
        described["parameters"] = found
    if route.body is not None:
        described["requestBody"] = {
            "required": True,
            "content": schemas.json_content(route.body, "validation"),
        }
    return described


@cache
def document(service_cls: type) -> dict[str, Any]:
    """The OpenAPI document of ``service_cls``'s public routes (built once per process)."""
    schemas = SchemaRegistry()
    paths: dict[str, dict[str, Any]] = defaultdict(dict)
    for route, function in routes(service_cls):
        if route.public:
            operation = operation_object(route, function, schemas)
            paths[openapi_path(route.rule)][route.method.lower()] = operation
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
def document_bytes(service_cls: type) -> bytes:
    return json.dumps(document(service_cls), indent=1).encode()
