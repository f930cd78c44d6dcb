"""trips v1: ``create(airport_from, airport_to) -> id`` and ``get(id) -> Trip``."""

from __future__ import annotations

from pydantic import BaseModel

from contracts.errors import InvalidArgument, NotFound, SameAirport, UnknownAirport
from contracts.ids import EntityId
from contracts.interface import Arguments, RpcMethod
from contracts.trips import SERVICE_NAME


class CreateTrip(Arguments):
    """Arguments of ``trips.create`` and ``create_v2``; also the gateway's ``POST /trip`` body."""

    airport_from: EntityId
    airport_to: EntityId


class GetTrip(Arguments):
    """Arguments of ``trips.get``."""

    id: EntityId


class Trip(BaseModel):
    """Result of ``trips.get`` and ``create_v2``."""

    id: EntityId
    airport_from: EntityId
    airport_to: EntityId


CREATE = RpcMethod(
    SERVICE_NAME, "create", 1, CreateTrip, EntityId, (InvalidArgument, UnknownAirport, SameAirport)
)
GET = RpcMethod(SERVICE_NAME, "get", 1, GetTrip, Trip, (InvalidArgument, NotFound))
