"""What a contract is: an RPC method or an event, with a version and its schemas.

Each ``<service>/v<N>.py`` module declares its methods as ``RpcMethod`` values
that point at the pydantic models the service validates with, so the exported
JSON Schema, the pact tests and the running code all read the same definition.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, TypeAdapter

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
    # The provider package version that first serves this method: a consumer
    # calling it needs a provider at least this new (recorded in its pacts).
    since: str = "1.0.0"

    @property
    def routing_key(self) -> str:
        """What nameko publishes the call under (``<service>.<method>``)."""
        return f"{self.service}.{self.name}"

    def check_result(self, value: Any) -> Any:
        """``value`` validated against the result schema (raises ``ValidationError``)."""
        return TypeAdapter(self.result).validate_python(value, strict=True)

    def check_error(self, error: BaseException) -> None:
        """Raise ``TypeError`` unless ``error`` is one the method declares."""
        if not isinstance(error, self.errors):
            raise TypeError(f"{self.routing_key} does not declare {type(error).__name__}")

    def json_schema(self) -> dict[str, Any]:
        return {
            "kind": "rpc",
            "service": self.service,
            "method": self.name,
            "version": self.version,
            "since": self.since,
            "args": self.args.model_json_schema(),
            "result": TypeAdapter(self.result).json_schema(),
            "errors": [error_json_schema(error) for error in self.errors],
        }


@dataclass(frozen=True)
class Event:
    """One versioned event type a service dispatches: ``payload`` is its body."""

    source: str
    name: str
    version: int
    payload: type[BaseModel]
    since: str = "1.0.0"

    def json_schema(self) -> dict[str, Any]:
        return {
            "kind": "event",
            "source": self.source,
            "event": self.name,
            "version": self.version,
            "since": self.since,
            "payload": self.payload.model_json_schema(),
        }


def error_json_schema(error: type[ServiceError]) -> dict[str, Any]:
    """How nameko carries ``error`` in a reply: ``exc_path`` picks the class, ``exc_args``
    are ``(message, field)`` (see ``contracts.errors``)."""
    return {
        "code": error.code,
        "exc_type": error.__name__,
        "exc_path": f"{error.__module__}.{error.__name__}",
        "exc_args": {
            "type": "array",
            "prefixItems": [{"type": "string"}, {"type": ["string", "null"]}],
            "minItems": 2,
            "maxItems": 2,
        },
    }
