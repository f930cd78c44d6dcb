"""airports v2: ``create_v2(name) -> Airport``, served beside v1 since airports 1.1.0.

v1 ``create`` answers with the new id only, so a caller has to assume how the
service normalised the name. ``create_v2`` answers with the stored record.
Changing v1's result type would break every v1 caller, so v2 is a new method
name and v1 stays served until no released consumer calls it (contracts/README.md).
"""

from __future__ import annotations

from contracts.airports import SERVICE_NAME
from contracts.airports.v1 import Airport, CreateAirport
from contracts.errors import InvalidArgument
from contracts.interface import RpcMethod

CREATE_V2 = RpcMethod(
    SERVICE_NAME, "create_v2", 2, CreateAirport, Airport, (InvalidArgument,), since="1.1.0"
)
