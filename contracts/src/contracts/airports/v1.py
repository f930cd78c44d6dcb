"""airports v1: ``create(name) -> id`` and ``get(id) -> Airport``."""

from __future__ import annotations

from pydantic import BaseModel

from contracts.airports import SERVICE_NAME
from contracts.errors import InvalidArgument, NotFound
from contracts.ids import EntityId
from contracts.interface import Arguments, RpcMethod
from contracts.text import BIDI_CONTROLS, CONTROLS, trimmed_text, without

AIRPORT_NAME_MAX_LENGTH = 100

AirportName = trimmed_text(
    AIRPORT_NAME_MAX_LENGTH,
    without(CONTROLS, "control characters"),
    without(BIDI_CONTROLS, "bidirectional controls"),
)


class CreateAirport(Arguments):
    """Arguments of ``airports.create``."""

    name: AirportName


class GetAirport(Arguments):
    """Arguments of ``airports.get``."""

    id: EntityId


class Airport(BaseModel):
    """Result of ``airports.get``."""

    id: EntityId
    name: str


CREATE = RpcMethod(SERVICE_NAME, "create", 1, CreateAirport, EntityId, (InvalidArgument,))
GET = RpcMethod(SERVICE_NAME, "get", 1, GetAirport, Airport, (InvalidArgument, NotFound))
