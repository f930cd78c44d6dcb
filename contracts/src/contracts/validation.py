"""Turn pydantic validation failures into the typed ``InvalidArgument``."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from contracts.errors import InvalidArgument

ModelT = TypeVar("ModelT", bound=BaseModel)


def validate(model: type[ModelT], data: Any) -> ModelT:
    """``data`` as ``model`` (strict); its first problem as ``InvalidArgument``."""
    try:
        return model.model_validate(data, strict=True)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        field = ".".join(str(part) for part in first["loc"]) or None
        message = first["msg"] if field is None else f"{field}: {first['msg']}"
        raise InvalidArgument(message, field=field) from None
