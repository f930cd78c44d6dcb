"""What a contract is: a versioned RPC method or event (contracts/README.md, "The pieces")."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict

from contracts.errors import ServiceError


class Arguments(BaseModel):
    """Base of an RPC method's arguments (and of the gateway's request bodies): a field
    nobody declared is refused, never ignored."""

    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class RpcMethod:
    """One versioned RPC method: ``service.name(**args) -> result`` or one of ``errors``."""

    service: str
    name: str
    version: int
    args: type[BaseModel]
    result: Any  # a pydantic model or any type pydantic can describe (e.g. an id string)
    errors: tuple[type[ServiceError], ...]
    # The provider version that first serves it (a consumer's pacts record it).
    since: str = "1.0.0"


@dataclass(frozen=True)
class Event:
    """One versioned event type a service dispatches: ``payload`` is its body."""

    source: str
    name: str
    version: int
    payload: type[BaseModel]
    since: str = "1.0.0"
