"""HTTP request bodies: parsed as JSON, validated with the contracts' field types.

A body with the same fields as an RPC method's arguments is that contract's model
(``POST /trip`` is ``contracts.trips.v1.CreateTrip``); only bodies whose names
differ from the RPC arguments get a model here.
"""

from __future__ import annotations

import json
from typing import TypeVar

from pydantic import BaseModel, ConfigDict
from werkzeug.wrappers import Request

from contracts.airports.v1 import AirportName
from contracts.messages.v1 import MessageText
from contracts.validation import validate
from gateway.errors import MalformedJson

BodyT = TypeVar("BodyT", bound=BaseModel)


class NewAirport(BaseModel):
    """``POST /airport``"""

    model_config = ConfigDict(extra="forbid")

    airport: AirportName


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
