"""``/airport`` and ``/trip``: create and read airports and trips through their services.

Creating calls ``create_v2`` (airports and trips >= 1.1.0 answer with the stored record),
falling back to v1 ``create`` on an older instance (``gateway.versions``). Records never
change once created: each one created or read is kept in the gateway's record cache.
"""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Request, Response

from contracts.airports import v1 as airports_v1
from contracts.airports import v2 as airports_v2
from contracts.ids import EntityId
from contracts.interface import RpcMethod
from contracts.trips import v1 as trips_v1
from contracts.trips import v2 as trips_v2
from gateway.bodies import NewAirport
from gateway.errors import json_response
from gateway.http import Route, http
from gateway.idempotency import IdempotentCreates
from gateway.versions import call_newest
from service_runtime.record_cache import Records
from service_runtime.rpc import TimedServiceProxy

CREATE_AIRPORT = Route(
    "POST",
    "/airport",
    "Create an airport",
    "travel",
    status=201,
    body=NewAirport,
    calls=(airports_v2.CREATE_V2,),
    idempotent=True,
)
CREATE_TRIP = Route(
    "POST",
    "/trip",
    "Create a trip between two airports",
    "travel",
    status=201,
    body=trips_v1.CreateTrip,  # the contract's own arguments model
    calls=(trips_v2.CREATE_V2,),
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
        body = CREATE_AIRPORT.parse(request)
        return self._create(
            request,
            body,
            {"name": body.airport},
            CREATE_AIRPORT,
            airports_v1.CREATE,
            self.airports,
            self.airport_records,
        )

    @http(
        Route(
            "GET",
            "/airport/<string:airport_id>",
            "Read an airport",
            "travel",
            calls=(airports_v1.GET,),
            params={"airport_id": EntityId},
        )
    )
    def get_airport(self, request: Request, airport_id: str) -> Response:
        airport = self.airport_records.get(airport_id, lambda: self.airports.get(airport_id))
        return json_response(200, airport)

    @http(CREATE_TRIP)
    def create_trip(self, request: Request) -> Response:
        body = CREATE_TRIP.parse(request)
        return self._create(
            request,
            body,
            body.model_dump(),
            CREATE_TRIP,
            trips_v1.CREATE,
            self.trips,
            self.trip_records,
        )

    @http(
        Route(
            "GET",
            "/trip/<string:trip_id>",
            "Read a trip",
            "travel",
            calls=(trips_v1.GET,),
            params={"trip_id": EntityId},
        )
    )
    def get_trip(self, request: Request, trip_id: str) -> Response:
        trip = self.trip_records.get(trip_id, lambda: self.trips.get(trip_id))
        return json_response(200, trip)

    def _create(
        self,
        request: Request,
        body: Any,
        fields: dict[str, Any],
        route: Route,
        older: RpcMethod,
        proxy: TimedServiceProxy,
        records: Records,
    ) -> Response:
        """The record ``route`` creates from ``fields`` (its RPC arguments, by name) with its
        first call, or ``older`` on an instance without it, kept in ``records`` and
        answered 201 with its ``Location``; for a repeated Idempotency-Key, the first
        answer again."""

        def created() -> Response:
            record = call_newest(proxy, route.calls[0], older, fields)
            records.put(record["id"], record)
            return json_response(201, record, {"Location": f"{route.rule}/{record['id']}"})

        return self.idempotency.create(request, body, created)
