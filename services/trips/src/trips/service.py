"""The trips Nameko service: thin RPC entrypoints over ``TripStore``."""

from __future__ import annotations

import eventlet

from contracts.airports import SERVICE_NAME as AIRPORTS
from contracts.errors import NotFound, SameAirport, UnknownAirport
from contracts.trips import SERVICE_NAME
from contracts.trips.v1 import CreateTrip, GetTrip, Trip
from contracts.validation import validate
from service_runtime.chassis import RpcService
from service_runtime.entrypoints import rpc
from service_runtime.record_cache import RecordCache
from service_runtime.rpc import TimedRpcProxy
from trips.store import TripStore

AIRPORT_FIELDS = ("airport_from", "airport_to")


class TripsService(RpcService, store=TripStore):
    name = SERVICE_NAME
    airports = TimedRpcProxy(AIRPORTS)
    # Airports never change once created: one that answered once exists for good.
    airport_records = RecordCache()

    @rpc
    def create(self, airport_from: str, airport_to: str) -> str:
        return self._create(airport_from, airport_to).id

    @rpc
    def create_v2(self, airport_from: str, airport_to: str) -> dict:
        return self._create(airport_from, airport_to).model_dump()

    @rpc
    def get(self, id: str) -> dict:  # noqa: A002 - the RPC argument name is the contract
        args = validate(GetTrip, {"id": id})
        return self.store.found(args.id).model_dump()

    def _create(self, airport_from: str, airport_to: str) -> Trip:
        args = validate(CreateTrip, {"airport_from": airport_from, "airport_to": airport_to})
        if args.airport_from == args.airport_to:
            raise SameAirport("a trip must go to a different airport", field="airport_to")
        # What the cache cannot answer, both at once; no green thread (a loop turn) if none.
        unknown = [f for f in AIRPORT_FIELDS if getattr(args, f) not in self.airport_records]
        checks = eventlet.GreenPile()
        for field in unknown:
            checks.spawn(self._airport_error, field, getattr(args, field))
        for error in checks:  # the first failed check, in field order
            if error is not None:
                raise error
        return self.store.create(self.idempotency_key, **args.model_dump()).record

    def _airport_error(self, field: str, airport_id: str) -> Exception | None:
        """Why ``airport_id`` cannot be used, returned, not raised: an exception escaping a
        green thread is printed raw to stderr by eventlet's hub, outside logging."""
        try:
            self.airport_records.get(airport_id, lambda: self.airports.get(airport_id))
        except NotFound:
            return UnknownAirport(f"airport {airport_id!r} does not exist", field=field)
        except Exception as error:  # noqa: BLE001 - re-raised by the caller, in the worker
            return error
        return None
