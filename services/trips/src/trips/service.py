"""The trips Nameko service: thin RPC entrypoints over ``TripStore``.

``create`` asks the airports service whether both airports exist, so a trip
never points at an airport that was never created.
"""

from __future__ import annotations

import eventlet

from contracts.airports import SERVICE_NAME as AIRPORTS
from contracts.errors import NotFound, SameAirport, UnknownAirport
from contracts.trips import SERVICE_NAME
from contracts.trips.v1 import CreateTrip, GetTrip
from contracts.validation import validate
from service_runtime.calllog import CallLog
from service_runtime.entrypoints import rpc
from service_runtime.health import Pingable
from service_runtime.idempotency import IdempotencyKey
from service_runtime.rpc import TimedRpcProxy
from service_runtime.store import StoreProvider
from trips.store import TripStore


class TripsService(Pingable):
    name = SERVICE_NAME

    store: TripStore = StoreProvider(TripStore)
    call_log = CallLog()
    airports = TimedRpcProxy(AIRPORTS)
    idempotency_key = IdempotencyKey()

    @rpc
    def create(self, airport_from: str, airport_to: str) -> str:
        args = validate(CreateTrip, {"airport_from": airport_from, "airport_to": airport_to})
        if args.airport_from == args.airport_to:
            raise SameAirport("a trip must go to a different airport", field="airport_to")
        # Both lookups at once: one RPC round trip of latency instead of two.
        checks = eventlet.GreenPile()
        for field in ("airport_from", "airport_to"):
            checks.spawn(self._require_airport, field, getattr(args, field))
        list(checks)  # re-raises the first failed check, in field order
        return self.store.create(args.airport_from, args.airport_to, self.idempotency_key)

    @rpc
    def get(self, id: str) -> dict:  # noqa: A002 - the RPC argument name is the contract
        args = validate(GetTrip, {"id": id})
        trip = self.store.get(args.id)
        if trip is None:
            raise NotFound(f"trip {args.id!r} not found", field="id")
        return trip.model_dump()

    def _require_airport(self, field: str, airport_id: str) -> None:
        try:
            self.airports.get(airport_id)
        except NotFound:
            raise UnknownAirport(f"airport {airport_id!r} does not exist", field=field) from None
