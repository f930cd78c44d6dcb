"""airports v2: ``create_v2(name) -> Airport``, beside v1 since 1.1.0 (contracts/README.md)."""

from __future__ import annotations

from contracts.airports import SERVICE_NAME
from contracts.airports.v1 import Airport, CreateAirport
from contracts.errors import InvalidArgument
from contracts.interface import RpcMethod

CREATE_V2 = RpcMethod(
    SERVICE_NAME, "create_v2", 2, CreateAirport, Airport, (InvalidArgument,), since="1.1.0"
)
