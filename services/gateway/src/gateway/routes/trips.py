"""``/trip``: create and read trips through the trips service.

Creating calls ``create_v2`` (trips >= 1.1.0 answers with the stored trip), falling
back to v1 ``create`` on an older instance (``gateway.versions``).
"""

from __future__ import annotations

from werkzeug.wrappers import Request, Response

from contracts.trips import v1, v2
from gateway.bodies import parse_body
from gateway.errors import json_response
from gateway.http import http
from gateway.idempotency import IdempotentCreates
from gateway.versions import call_newest
from service_runtime.record_cache import Records
from service_runtime.rpc import TimedServiceProxy


class TripRoutes:
    trips: TimedServiceProxy
    trip_records: Records  # trips never change once created
    idempotency: IdempotentCreates

    @http("POST", "/trip")
    def create_trip(self, request: Request) -> Response:
        body = parse_body(request, v1.CreateTrip)

        def created() -> Response:
            trip = call_newest(
                self.trips,
                v2.CREATE_V2,
                v1.CREATE,
                (body.airport_from, body.airport_to),
                # v1 answers with the id only; it stored the two ids it was given.
                lambda trip_id: {"id": trip_id, **body.model_dump()},
            )
            self.trip_records.put(trip["id"], trip)
            return json_response(201, trip, {"Location": f"/trip/{trip['id']}"})

        return self.idempotency.create(request, body, created)

    @http("GET", "/trip/<string:trip_id>")
    def get_trip(self, request: Request, trip_id: str) -> Response:
        trip = self.trip_records.get(trip_id, lambda: self.trips.get(trip_id))
        return json_response(200, trip)
