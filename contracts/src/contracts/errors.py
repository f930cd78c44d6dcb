"""Typed errors that cross RPC intact: each ``ServiceError`` subclass is registered with
nameko's ``deserialize_to_instance``, so the caller re-raises the same class, not a
``RemoteError``; its ``code`` is the gateway JSON body's ``error``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from nameko.exceptions import deserialize_to_instance


class ServiceError(Exception):
    """Base of every error a service raises on purpose."""

    code: ClassVar[str] = "SERVICE_ERROR"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        deserialize_to_instance(cls)

    def __init__(self, message: str, field: str | None = None) -> None:
        # ``args`` is what nameko serialises and passes back to ``__init__``; it sends a
        # missing field (None) as the string "None", which no field is called.
        super().__init__(message, field)
        self.message = message
        self.field = None if field == "None" else field

    def __str__(self) -> str:
        return self.message


class InvalidArgument(ServiceError):
    """An argument is missing, of the wrong type, empty or too long."""

    code = "INVALID_ARGUMENT"


class NotFound(ServiceError):
    """No entity with the given id (never existed, or expired)."""

    code = "NOT_FOUND"


class UnknownAirport(ServiceError):
    """A trip names an airport that does not exist."""

    code = "UNKNOWN_AIRPORT"


class SameAirport(ServiceError):
    """A trip must go from one airport to a different one."""

    code = "SAME_AIRPORT"


class ServiceUnavailable(ServiceError):
    """A service this call depends on is not running (no consumer bound)."""

    code = "SERVICE_UNAVAILABLE"


class StorageFull(ServiceUnavailable):
    """The service's Redis is at its memory bound (README, "HTTP API"): writes refused."""

    code = "STORAGE_FULL"


class ServiceTimeout(ServiceError):
    """A service this call depends on did not answer within the RPC timeout."""

    code = "SERVICE_TIMEOUT"


class IdempotencyKeyReused(ServiceError):
    """An ``Idempotency-Key`` already used for a different request."""

    code = "IDEMPOTENCY_KEY_REUSED"
