"""Every contract that crosses a service boundary, in one list each.

``contract_testing.schema`` exports these as JSON Schema and the pact tests check every
interaction against them; a new method or event is not part of the contract until it
is listed here.
"""

from __future__ import annotations

from contracts.airports import v1 as airports_v1
from contracts.airports import v2 as airports_v2
from contracts.interface import Event, RpcMethod
from contracts.messages import v1 as messages_v1
from contracts.trips import v1 as trips_v1
from contracts.trips import v2 as trips_v2

RPC_METHODS: tuple[RpcMethod, ...] = (
    airports_v1.CREATE,
    airports_v1.GET,
    airports_v2.CREATE_V2,
    trips_v1.CREATE,
    trips_v1.GET,
    trips_v2.CREATE_V2,
    messages_v1.SAVE_MESSAGE,
    messages_v1.GET_MESSAGE,
    messages_v1.GET_ALL_MESSAGES,
)

EVENTS: tuple[Event, ...] = (messages_v1.MESSAGE_CREATED_EVENT,)
