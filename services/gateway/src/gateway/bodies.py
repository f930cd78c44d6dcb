"""HTTP request bodies: declared JSON, parsed strictly, validated with the contracts' types;
only a body whose names differ from its RPC method's arguments gets a model here.
"""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel, Field
from werkzeug.wrappers import Request

from contracts.airports.v1 import AirportName
from contracts.interface import Arguments
from contracts.messages.v1 import MessageText
from contracts.validation import validate
from gateway import strict_json
from gateway.errors import MalformedJson, UnsupportedMediaType

BodyT = TypeVar("BodyT", bound=BaseModel)
JSON_MEDIA_TYPE = "application/json"


class NewAirport(Arguments):
    """``POST /airport``: the API's ``airport`` is the RPC argument ``name``."""

    name: AirportName = Field(alias="airport")


class NewMessage(Arguments):
    """``POST /messages``"""

    message: MessageText


def parse_body(request: Request, model: type[BodyT]) -> BodyT:
    """The request's JSON body validated against ``model``."""
    charset = request.mimetype_params.get("charset", "utf-8").lower()
    if request.mimetype != JSON_MEDIA_TYPE or charset != "utf-8":
        raise UnsupportedMediaType("request bodies must be application/json (UTF-8)")
    data = strict_json.loads(request.get_data(cache=False))
    if not isinstance(data, dict):
        raise MalformedJson("request body must be a JSON object")
    return validate(model, data)
