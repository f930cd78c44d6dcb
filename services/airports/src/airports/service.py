"""The airports Nameko service: thin RPC entrypoints over ``AirportStore``."""

from __future__ import annotations

from airports.store import AirportStore
from contracts.airports import SERVICE_NAME, v2
from contracts.airports.v1 import CreateAirport, GetAirport
from contracts.validation import validate
from service_runtime.chassis import RpcService
from service_runtime.entrypoints import rpc


class AirportsService(RpcService, store=AirportStore):
    name = SERVICE_NAME

    @rpc
    def create(self, name: str) -> str:
        args = validate(CreateAirport, {"name": name})
        return self.store.create(self.idempotency_key, name=args.name).record.id

    @rpc
    def create_v2(self, name: str) -> dict:
        args = validate(v2.CREATE_V2.args, {"name": name})
        return self.store.create(self.idempotency_key, name=args.name).record.model_dump()

    @rpc
    def get(self, id: str) -> dict:  # noqa: A002 - the RPC argument name is the contract
        args = validate(GetAirport, {"id": id})
        return self.store.found(args.id).model_dump()
