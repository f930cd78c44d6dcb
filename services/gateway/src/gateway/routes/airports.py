"""``/airport``: create and read airports through the airports service.

Creating calls ``create_v2`` (airports >= 1.1.0 answers with the stored record).
During a rolling deploy an airports 1.0.0 instance on the same queue answers it
with ``MethodNotFound``; the route then uses v1 ``create``, which every version
serves. The fallback (and with it this gateway's use of v1 ``create``) goes once
no airports < 1.1.0 runs anywhere: see contracts/README.md.
"""

from __future__ import annotations

import logging
from typing import Any

from nameko.exceptions import MethodNotFound
from werkzeug.wrappers import Request, Response

from gateway.bodies import NewAirport, parse_body
from gateway.errors import json_response
from gateway.http import http
from gateway.idempotency import IdempotentCreates

log = logging.getLogger(__name__)


class AirportRoutes:
    airports: Any  # TimedServiceProxy, injected by the service class
    idempotency: IdempotentCreates

    @http("POST", "/airport")
    def create_airport(self, request: Request) -> Response:
        body = parse_body(request, NewAirport)

        def created() -> Response:
            airport = self._create_airport(body.airport)
            return json_response(201, airport, {"Location": f"/airport/{airport['id']}"})

        return self.idempotency.create(request, body, created)

    @http("GET", "/airport/<string:airport_id>")
    def get_airport(self, request: Request, airport_id: str) -> Response:
        return json_response(200, self.airports.get(airport_id))

    def _create_airport(self, name: str) -> dict[str, str]:
        try:
            return self.airports.create_v2(name)
        except MethodNotFound:
            log.info("an airports instance without create_v2 answered; using v1 create")
            # v1 answers with the id only; v1 stores the name it was given, which
            # the gateway validated (and trimmed) with the same contract type.
            return {"id": self.airports.create(name), "name": name}
