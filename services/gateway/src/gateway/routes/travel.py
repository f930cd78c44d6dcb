"""``/airport`` and ``/trip``: create and read airports and trips through their services.

Creating calls ``create_v2`` (airports and trips >= 1.1.0 answer with the stored record),
falling back to v1 ``create`` on an older instance (``gateway.versions``). Records never
change once created: each one created or read is kept in the gateway's record cache.
"""

from __future__ import annotations

from werkzeug.wrappers import Request, Response

from contracts.airports import v1 as airports_v1
from contracts.airports import v2 as airports_v2
from contracts.ids import EntityId
from contracts.trips import v1 as trips_v1
from contracts.trips import v2 as trips_v2
from contracts.trips.v1 import CreateTrip
from gateway.bodies import NewAirport
from gateway.errors import json_response
from gateway.http import Route, http
from gateway.idempotency import IdempotentCreates
from gateway.versions import call_newest
from service_runtime.record_cache import Records
from service_runtime.rpc import TimedServiceProxy

# Each calls ``create_v2``, or v1 ``create`` on an older instance.
CREATE_AIRPORT = Route(
    "POST",
    "/airport",
    status=201,
    body=NewAirport,
    calls=(airports_v2.CREATE_V2, airports_v1.CREATE),
    idempotent=True,
)
CREATE_TRIP = Route(
    "POST",
    "/trip",
    status=201,
    body=CreateTrip,  # the contract's own arguments model
    calls=(trips_v2.CREATE_V2, trips_v1.CREATE),
    idempotent=True,
)


class TravelRoutes:
    airports: TimedServiceProxy
    trips: TimedServiceProxy
    airport_records: Records
    trip_records: Records
    idempotency: IdempotentCreates

    @http(CREATE_AIRPORT)
    def create_airport(self, request: Request) -> Response:
        """Create an airport."""
        return self._create(CREATE_AIRPORT, self.airports, self.airport_records, request)

    @http(Route("GET", "/airport/<string:airport_id>", calls=(airports_v1.GET,)))
    def get_airport(self, request: Request, airport_id: EntityId) -> Response:
        """Read an airport."""
        airport = self.airport_records.get(airport_id, lambda: self.airports.get(airport_id))
        return json_response(200, airport)

    @http(CREATE_TRIP)
    def create_trip(self, request: Request) -> Response:
        """Create a trip between two airports."""
        return self._create(CREATE_TRIP, self.trips, self.trip_records, request)

    @http(Route("GET", "/trip/<string:trip_id>", calls=(trips_v1.GET,)))
    def get_trip(self, request: Request, trip_id: EntityId) -> Response:
        """Read a trip."""
        trip = self.trip_records.get(trip_id, lambda: self.trips.get(trip_id))
        return json_response(200, trip)

    def _create(
        self, route: Route, proxy: TimedServiceProxy, records: Records, request: Request
    ) -> Response:
        """The record ``route`` creates from its body (the RPC arguments, by name), kept in
        ``records`` and answered 201 with its ``Location``; for a repeated
        Idempotency-Key, the first answer again."""
        body = route.parse(request)

        def created() -> Response:
            record = call_newest(proxy, *route.calls, body.model_dump())
            records.put(record["id"], record)
            return json_response(201, record, {"Location": f"{route.rule}/{record['id']}"})

        return self.idempotency.create(request, body, created)
