"""``/airport``: create and read airports through the airports service.

Creating calls ``create_v2`` (airports >= 1.1.0 answers with the stored record),
falling back to v1 ``create`` on an older instance (``gateway.versions``).
"""

from __future__ import annotations

from werkzeug.wrappers import Request, Response

from contracts.airports import v1, v2
from gateway.bodies import NewAirport, parse_body
from gateway.errors import json_response
from gateway.http import http
from gateway.idempotency import IdempotentCreates
from gateway.versions import call_newest
from service_runtime.record_cache import Records
from service_runtime.rpc import TimedServiceProxy


class AirportRoutes:
    airports: TimedServiceProxy
    airport_records: Records  # airports never change once created
    idempotency: IdempotentCreates

    @http("POST", "/airport")
    def create_airport(self, request: Request) -> Response:
        body = parse_body(request, NewAirport)
        name = body.airport

        def created() -> Response:
            # v1 answers with the id only; it stores the name it was given, which the
            # gateway validated (and trimmed) with the same contract type.
            airport = call_newest(
                self.airports,
                v2.CREATE_V2,
                v1.CREATE,
                (name,),
                lambda id_: {"id": id_, "name": name},
            )
            self.airport_records.put(airport["id"], airport)
            return json_response(201, airport, {"Location": f"/airport/{airport['id']}"})

        return self.idempotency.create(request, body, created)

    @http("GET", "/airport/<string:airport_id>")
    def get_airport(self, request: Request, airport_id: str) -> Response:
        airport = self.airport_records.get(airport_id, lambda: self.airports.get(airport_id))
        return json_response(200, airport)
