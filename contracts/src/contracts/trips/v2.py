"""trips v2: ``create_v2(airport_from, airport_to) -> Trip``, served beside v1 since trips 1.1.0.

v1 ``create`` answers with the new id only, so a caller that wants to show the trip
has to echo what it sent. ``create_v2`` answers with the stored record, as airports'
``create_v2`` does. Same arguments and errors as v1; v1 stays served until no
released consumer calls it (contracts/README.md).
"""

from __future__ import annotations

from contracts.interface import RpcMethod
from contracts.trips import SERVICE_NAME
from contracts.trips.v1 import CREATE, CreateTrip, Trip

CREATE_V2 = RpcMethod(SERVICE_NAME, "create_v2", 2, CreateTrip, Trip, CREATE.errors, since="1.1.0")
