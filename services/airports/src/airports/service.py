"""The airports Nameko service: thin RPC entrypoints over ``AirportStore``."""

from __future__ import annotations

from airports.store import AirportStore
from contracts.airports import SERVICE_NAME, v2
from contracts.airports.v1 import CreateAirport, GetAirport
from contracts.errors import NotFound
from contracts.validation import validate
from service_runtime.calllog import CallLog
from service_runtime.entrypoints import rpc
from service_runtime.health import Pingable
from service_runtime.idempotency import IdempotencyKey
from service_runtime.memory import ReleasedMemory
from service_runtime.metrics import EntrypointMetrics
from service_runtime.store import StoreProvider


class AirportsService(Pingable):
    name = SERVICE_NAME

    store: AirportStore = StoreProvider(AirportStore)
    call_log = CallLog()
    metrics = EntrypointMetrics()
    memory = ReleasedMemory()
    idempotency_key = IdempotencyKey()

    @rpc
    def create(self, name: str) -> str:
        args = validate(CreateAirport, {"name": name})
        return self.store.create(args.name, self.idempotency_key).id

    @rpc
    def create_v2(self, name: str) -> dict:
        """v2 of ``create`` (since 1.1.0): answers with the stored record, not just the id."""
        args = validate(v2.CREATE_V2.args, {"name": name})
        return self.store.create(args.name, self.idempotency_key).model_dump()

    @rpc
    def get(self, id: str) -> dict:  # noqa: A002 - the RPC argument name is the contract
        args = validate(GetAirport, {"id": id})
        airport = self.store.get(args.id)
        if airport is None:
            raise NotFound(f"airport {args.id!r} not found", field="id")
        return airport.model_dump()
