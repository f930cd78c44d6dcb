"""trips v2: ``create_v2(airport_from, airport_to) -> Trip``, beside v1 since trips 1.1.0."""

from __future__ import annotations

from contracts.interface import RpcMethod
from contracts.trips import SERVICE_NAME
from contracts.trips.v1 import CREATE, CreateTrip, Trip

CREATE_V2 = RpcMethod(SERVICE_NAME, "create_v2", 2, CreateTrip, Trip, CREATE.errors, since="1.1.0")
