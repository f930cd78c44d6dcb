"""``/airport``: create and read airports through the airports service."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Request, Response

from contracts.errors import EXPECTED_ERRORS
from gateway.bodies import NewAirport, parse_body
from gateway.errors import json_response
from gateway.http import http


class AirportRoutes:
    airports: Any  # TimedServiceProxy, injected by the service class

    @http("POST", "/airport", expected_exceptions=EXPECTED_ERRORS)
    def create_airport(self, request: Request) -> Response:
        body = parse_body(request, NewAirport)
        airport_id = self.airports.create(body.airport)
        return json_response(
            201, {"id": airport_id, "name": body.airport}, {"Location": f"/airport/{airport_id}"}
        )

    @http("GET", "/airport/<string:airport_id>", expected_exceptions=EXPECTED_ERRORS)
    def get_airport(self, request: Request, airport_id: str) -> Response:
        return json_response(200, self.airports.get(airport_id))
