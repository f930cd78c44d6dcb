"""airports v2: ``create_v2(name) -> Airport``, served beside v1 since airports 1.1.0.

v1 ``create`` answers with the id only; changing its result would break every v1
caller, so v2 is a new name and v1 stays until no released consumer calls it.
"""

from __future__ import annotations

from contracts.airports import SERVICE_NAME
from contracts.airports.v1 import Airport, CreateAirport
from contracts.errors import InvalidArgument
from contracts.interface import RpcMethod

CREATE_V2 = RpcMethod(
    SERVICE_NAME, "create_v2", 2, CreateAirport, Airport, (InvalidArgument,), since="1.1.0"
)
