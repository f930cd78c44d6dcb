"""Turn pydantic validation failures into the typed ``InvalidArgument``."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from contracts.errors import InvalidArgument

ModelT = TypeVar("ModelT", bound=BaseModel)


def describe(error: ValidationError) -> InvalidArgument:
    """The first problem of ``error`` as an ``InvalidArgument`` naming its field."""
    first = error.errors(include_url=False)[0]
    field = ".".join(str(part) for part in first["loc"]) or None
    message = first["msg"] if field is None else f"{field}: {first['msg']}"
    return InvalidArgument(message, field=field)


def validate(model: type[ModelT], data: Any) -> ModelT:
    try:
        return model.model_validate(data, strict=True)
    except ValidationError as error:
        raise describe(error) from None
