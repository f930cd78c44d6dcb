"""Typed errors that cross RPC intact: each ``ServiceError`` subclass is registered with
nameko's ``deserialize_to_instance``, so the caller re-raises the same class, not a
``RemoteError``. Its ``code`` is the gateway JSON body's ``error``; when each is raised:
README's error table.
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
    code = "INVALID_ARGUMENT"


class NotFound(ServiceError):
    code = "NOT_FOUND"


class UnknownAirport(ServiceError):
    code = "UNKNOWN_AIRPORT"


class SameAirport(ServiceError):
    code = "SAME_AIRPORT"


class ServiceUnavailable(ServiceError):
    code = "SERVICE_UNAVAILABLE"


class StorageFull(ServiceUnavailable):
    code = "STORAGE_FULL"


class ServiceTimeout(ServiceError):
    code = "SERVICE_TIMEOUT"


class IdempotencyKeyReused(ServiceError):
    code = "IDEMPOTENCY_KEY_REUSED"
