"""``/airport`` and ``/trip``: airports and trips created and read through their services,
each kept in the record cache; ``call_newest``'s v1 fallback: contracts/README.md.
"""

from __future__ import annotations

import logging
from typing import Any

from nameko.exceptions import MethodNotFound
from werkzeug.wrappers import Request, Response

from contracts.airports import v1 as airports_v1
from contracts.airports import v2 as airports_v2
from contracts.ids import EntityId
from contracts.interface import RpcMethod
from contracts.trips import v1 as trips_v1
from contracts.trips import v2 as trips_v2
from contracts.trips.v1 import CreateTrip
from gateway.bodies import NewAirport, parse_body
from gateway.errors import json_response
from gateway.http import Route, http
from gateway.idempotency import IdempotentCreates
from service_runtime.record_cache import Records
from service_runtime.rpc import TimedServiceProxy

log = logging.getLogger(__name__)

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
        """The record ``route`` creates from its body (the RPC arguments, by name)."""
        body = parse_body(request, route.body)  # type: ignore[arg-type]

        def created() -> Response:
            record = call_newest(proxy, *route.calls, body.model_dump())
            records.put(record["id"], record)
            return json_response(201, record, {"Location": f"{route.rule}/{record['id']}"})

        return self.idempotency.create(request, body, created)


def call_newest(
    proxy: TimedServiceProxy, newer: RpcMethod, older: RpcMethod, fields: dict[str, Any]
) -> dict[str, Any]:
    """The record ``newer(*fields)`` answers with, or the one ``older(*fields)`` created
    when an instance without ``newer`` answers (``fields``: the arguments, by name)."""
    args = tuple(fields.values())
    try:
        return getattr(proxy, newer.name)(*args)
    except MethodNotFound:
        log.info(
            "%s: an instance without %s answered; using v%d %s",
            newer.service,
            newer.name,
            older.version,
            older.name,
        )
        # v1 answers the id only; it stored the arguments, validated here with its types.
        return {"id": getattr(proxy, older.name)(*args), **fields}
