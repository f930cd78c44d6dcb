"""HTTP request bodies: parsed as JSON, validated with the contracts' field types."""

from __future__ import annotations

import json
from typing import TypeVar

from pydantic import BaseModel, ConfigDict
from werkzeug.wrappers import Request

from contracts.airports.v1 import AirportName, EntityId
from contracts.messages.v1 import MessageText
from contracts.validation import validate
from gateway.errors import MalformedJson

BodyT = TypeVar("BodyT", bound=BaseModel)


class NewAirport(BaseModel):
    """``POST /airport``"""

    model_config = ConfigDict(extra="forbid")

    airport: AirportName


class NewTrip(BaseModel):
    """``POST /trip``"""

    model_config = ConfigDict(extra="forbid")

    airport_from: EntityId
    airport_to: EntityId


class NewMessage(BaseModel):
    """``POST /messages``"""

    model_config = ConfigDict(extra="forbid")

    message: MessageText


def parse_body(request: Request, model: type[BodyT]) -> BodyT:
    """The request's JSON body validated against ``model``.

    Raises ``MalformedJson`` or ``InvalidArgument`` (both 400), or Werkzeug's
    ``RequestEntityTooLarge`` (413) when the body is over the limit.
    """
    raw = request.get_data(cache=False)
    try:
        data = json.loads(raw)
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError alike
        raise MalformedJson(f"request body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise MalformedJson("request body must be a JSON object")
    return validate(model, data)
