"""``/trip``: create and read trips through the trips service."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Request, Response

from gateway.bodies import NewTrip, parse_body
from gateway.errors import json_response
from gateway.http import http
from gateway.idempotency import IdempotentCreates


class TripRoutes:
    trips: Any  # TimedServiceProxy, injected by the service class
    idempotency: IdempotentCreates

    @http("POST", "/trip")
    def create_trip(self, request: Request) -> Response:
        body = parse_body(request, NewTrip)

        def created() -> Response:
            trip_id = self.trips.create(body.airport_from, body.airport_to)
            return json_response(
                201,
                {"id": trip_id, "airport_from": body.airport_from, "airport_to": body.airport_to},
                {"Location": f"/trip/{trip_id}"},
            )

        return self.idempotency.create(request, body, created)

    @http("GET", "/trip/<string:trip_id>")
    def get_trip(self, request: Request, trip_id: str) -> Response:
        return json_response(200, self.trips.get(trip_id))
