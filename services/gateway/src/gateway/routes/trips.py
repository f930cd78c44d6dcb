"""``/trip``: create and read trips through the trips service."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Request, Response

from gateway.bodies import NewTrip, parse_body
from gateway.errors import json_response
from gateway.http import http
from service_runtime.record_cache import Records


class TripRoutes:
    trips: Any  # TimedServiceProxy, injected by the service class
    trip_records: Records  # trips never change once created

    @http("POST", "/trip")
    def create_trip(self, request: Request) -> Response:
        body = parse_body(request, NewTrip)
        trip_id = self.trips.create(body.airport_from, body.airport_to)
        trip = {"id": trip_id, "airport_from": body.airport_from, "airport_to": body.airport_to}
        self.trip_records.put(trip_id, trip)
        return json_response(201, trip, {"Location": f"/trip/{trip_id}"})

    @http("GET", "/trip/<string:trip_id>")
    def get_trip(self, request: Request, trip_id: str) -> Response:
        trip = self.trip_records.get(trip_id, lambda: self.trips.get(trip_id))
        return json_response(200, trip)
