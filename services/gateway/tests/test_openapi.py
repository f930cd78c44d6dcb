"""The OpenAPI document describes every route the gateway serves, and /docs works offline."""

import inspect
import json
import re

import pytest
from nameko.extensions import ENTRYPOINT_EXTENSIONS_ATTR
from pydantic import TypeAdapter

from gateway import openapi
from gateway.errors import STATUS_BY_ERROR, ErrorBody, error_body
from gateway.http import JsonHttpEntrypoint
from gateway.openapi import openapi_path, raised, routes
from gateway.routes.ops import NotReady
from gateway.service import GatewayService


def document():
    return openapi.document(GatewayService)


def served_routes():
    """(METHOD, OpenAPI path, public) of every @http entrypoint the service class really
    has (a method shadowed by a same-named attribute serves nothing and is not listed)."""
    found = set()
    for _, method in inspect.getmembers(GatewayService, inspect.isfunction):
        for entrypoint in getattr(method, ENTRYPOINT_EXTENSIONS_ATTR, ()):
            if isinstance(entrypoint, JsonHttpEntrypoint):
                path = openapi_path(entrypoint.url)
                found.add((entrypoint.method, path, entrypoint.route.public))
    return found


def documented_routes():
    return {
        (method.upper(), path)
        for path, operations in document()["paths"].items()
        for method in operations
    }


def test_every_public_route_is_documented_and_every_documented_one_served():
    served = {(method, path) for method, path, public in served_routes() if public}
    internal = {(method, path) for method, path, public in served_routes() if not public}

    assert served, "no @http entrypoint found: the walk is broken"
    assert internal == {("GET", "/metrics")}
    assert served == documented_routes()


def test_path_parameters_follow_the_rule():
    assert openapi_path("/airport/<string:airport_id>") == "/airport/{airport_id}"
    assert openapi_path("/docs/<asset>") == "/docs/{asset}"


def test_no_operation_documents_a_500():
    # Every error an operation raises must be in the one table; one that is not
    # would show up here as a documented 500 INTERNAL_ERROR.
    for path, operations in document()["paths"].items():
        for method, operation in operations.items():
            assert "500" not in operation["responses"], f"{method} {path}"


PUBLIC_ROUTES = [route for route, _ in routes(GatewayService) if route.public]


@pytest.mark.parametrize("route", PUBLIC_ROUTES, ids=lambda route: f"{route.method} {route.rule}")
def test_each_error_of_an_operation_is_documented_with_the_tables_status(route):
    operation = document()["paths"][openapi_path(route.rule)][route.method.lower()]
    for error in raised(route):
        if error in STATUS_BY_ERROR:
            status = str(STATUS_BY_ERROR[error])
            assert status in operation["responses"], f"{error.__name__} -> {status}"
            assert (
                error.code
                in operation["responses"][status]["content"]["application/json"]["schema"][
                    "properties"
                ]["error"]["enum"]
            )


def test_request_bodies_are_the_models_the_gateway_validates_with():
    schemas = document()["components"]["schemas"]
    body = document()["paths"]["/trip"]["post"]["requestBody"]["content"]["application/json"]

    assert body["schema"] == {"$ref": "#/components/schemas/CreateTrip"}
    assert schemas["CreateTrip"]["additionalProperties"] is False
    assert set(schemas["CreateTrip"]["required"]) == {"airport_from", "airport_to"}
    assert schemas["NewAirport"]["properties"]["airport"]["maxLength"] == 100


@pytest.mark.parametrize(
    "body",
    [error_body("NOT_FOUND", "gone"), error_body("INVALID_ARGUMENT", "bad", field="airport")],
)
def test_the_documented_error_body_is_what_error_body_builds(body):
    TypeAdapter(ErrorBody).validate_python(body, strict=True)


def test_the_document_is_openapi_3_1_with_its_schemas_resolvable():
    text = json.dumps(document())
    components = document()["components"]["schemas"]

    assert document()["openapi"] == "3.1.0"
    for name in re.findall(r'"#/components/schemas/([^"]+)"', text):
        assert name in components
    assert "$defs" not in text  # every nested model hoisted to components


def test_openapi_json_is_served(api):
    response = api.get("/openapi.json")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == json.loads(json.dumps(document()))
    assert response.headers["Cache-Control"] == "no-cache"


def test_docs_page_and_every_asset_it_loads_come_from_the_gateway(api):
    page = api.get("/docs")

    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert len(assets) == 3  # the stylesheet, Swagger UI, the start-up script
    for asset in assets:
        assert asset.startswith("/docs/"), f"{asset} is not served by the gateway"
        response = api.get(asset)
        assert response.status_code == 200, asset
        assert response.headers["Content-Type"].split(";")[0] in {"text/css", "text/javascript"}
    assert "/openapi.json" in api.get("/docs/docs.js").text
    assert "SwaggerUIBundle" in api.get("/docs/swagger-ui-bundle.js").text


def test_an_unknown_docs_asset_is_a_json_404(api):
    response = api.get("/docs/nope.js")

    assert response.status_code == 404
    assert response.json()["error"] == "ROUTE_NOT_FOUND"


def test_ready_503_body_matches_its_documented_schema(start, http_session):
    start(GatewayService, READINESS_TIMEOUT_SECONDS=0.2)  # no backend answers

    response = http_session.get("/ready")

    assert response.status_code == 503
    TypeAdapter(NotReady).validate_python(response.json(), strict=True)


@pytest.mark.parametrize(
    ("path", "template"),
    [
        ("/", "/"),
        ("/static/messenger.js", "/static/{name}"),
        ("/static/messenger.css", "/static/{name}"),
        ("/static/index.html", "/static/{name}"),
        ("/health", "/health"),
        ("/ready", "/ready"),
        ("/openapi.json", "/openapi.json"),
        ("/docs", "/docs"),
        ("/docs/docs.js", "/docs/{asset}"),
        ("/docs/swagger-ui.css", "/docs/{asset}"),
        ("/messages", "/messages"),
    ],
)
def test_real_answers_have_a_documented_status_and_media_type(api, path, template):
    response = api.get(path)

    responses = document()["paths"][template]["get"]["responses"]
    assert str(response.status_code) in responses, f"{path}: {response.status_code}"
    media_type = response.headers["Content-Type"].split(";")[0]
    assert media_type in responses[str(response.status_code)]["content"], f"{path}: {media_type}"


def test_path_parameters_have_the_types_their_route_functions_take():
    [airport_id] = document()["paths"]["/airport/{airport_id}"]["get"]["parameters"]
    [name] = document()["paths"]["/static/{name}"]["get"]["parameters"]

    assert airport_id["schema"] == {"type": "string", "minLength": 1, "maxLength": 64}
    assert name["schema"] == {"type": "string"}
