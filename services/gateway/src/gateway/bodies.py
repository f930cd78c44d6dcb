"""HTTP request bodies: parsed as strict JSON, validated with the contracts' field types.

Text a person typed is also refused when it holds control characters (C0, DEL,
C1: NUL, escape sequences, carriage returns...), which would corrupt logs, terminals
and other clients' displays: airport names allow none, messages allow line breaks
(``\n``) and tabs, which the page shows as typed.

A body with the same fields as an RPC method's arguments is that contract's model
(``POST /trip`` is ``contracts.trips.v1.CreateTrip``); only bodies whose names
differ from the RPC arguments get a model here.
"""

from __future__ import annotations

import re
from typing import Annotated, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict
from werkzeug.wrappers import Request

from contracts.airports.v1 import AirportName
from contracts.messages.v1 import MessageText
from contracts.validation import validate
from gateway import strict_json
from gateway.errors import MalformedJson

BodyT = TypeVar("BodyT", bound=BaseModel)


def without_controls(allowed: str) -> AfterValidator:
    """A validator refusing C0, DEL and C1 control characters except those in ``allowed``."""
    codes = (*range(0x20), *range(0x7F, 0xA0))
    refused = "".join(f"\\x{code:02x}" for code in codes if chr(code) not in allowed)
    forbidden = re.compile(f"[{refused}]")

    def check(text: str) -> str:
        if found := forbidden.search(text):
            raise ValueError(f"must not contain control characters (found U+{ord(found[0]):04X})")
        return text

    return AfterValidator(check)


PlainName = Annotated[AirportName, without_controls("")]
PlainText = Annotated[MessageText, without_controls("\n\t")]


class NewAirport(BaseModel):
    """``POST /airport``"""

    model_config = ConfigDict(extra="forbid")

    airport: PlainName


class NewMessage(BaseModel):
    """``POST /messages``"""

    model_config = ConfigDict(extra="forbid")

    message: PlainText


def parse_body(request: Request, model: type[BodyT]) -> BodyT:
    """The request's JSON body validated against ``model``.

    Raises ``MalformedJson`` or ``InvalidArgument`` (both 400), or Werkzeug's
    ``RequestEntityTooLarge`` (413) when the body is over the limit.
    """
    data = strict_json.loads(request.get_data(cache=False))
    if not isinstance(data, dict):
        raise MalformedJson("request body must be a JSON object")
    return validate(model, data)
