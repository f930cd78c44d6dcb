"""Nameko's RPC and event messages written as pact interactions."""

from __future__ import annotations

import json
from typing import Any

from kombu.serialization import dumps, loads
from pact import match
from pact.interaction import AsyncMessageInteraction, SyncMessageInteraction

from contracts.errors import ServiceError
from contracts.interface import Event, RpcMethod

CONTENT_TYPE = "application/json"
# Message metadata naming the nameko routing key (RPC) or event type (events).
ROUTING_KEY = "routingKey"
EVENT_TYPE = "eventType"


def routing_key(method: RpcMethod) -> str:
    """What nameko publishes a call of ``method`` under (``<service>.<method>``)."""
    return f"{method.service}.{method.name}"


def wire_json(value: Any) -> Any:
    """``value`` as it comes out of nameko's JSON serializer (tuples become lists...)."""
    content_type, encoding, data = dumps(value, serializer="json")
    return loads(data, content_type, encoding)


def request_body(*args: Any, **kwargs: Any) -> dict[str, Any]:
    """The body nameko's ``MethodProxy`` publishes for ``method(*args, **kwargs)``."""
    return wire_json({"args": args, "kwargs": kwargs})


def rpc_request(
    interaction: SyncMessageInteraction, method: RpcMethod, *args: Any, **kwargs: Any
) -> SyncMessageInteraction:
    """Set the request part of ``interaction`` to the call ``method(*args, **kwargs)``."""
    return interaction.with_body(request_body(*args, **kwargs), CONTENT_TYPE).with_metadata(
        {ROUTING_KEY: routing_key(method)}
    )


def returns(interaction: SyncMessageInteraction, result: Any) -> SyncMessageInteraction:
    """The provider answers with ``result`` (values or pact matchers)."""
    return interaction.will_respond_with().with_body(
        {"result": result, "error": None}, CONTENT_TYPE
    )


def raises(
    interaction: SyncMessageInteraction, error: type[ServiceError], field: str | None
) -> SyncMessageInteraction:
    """The provider answers with ``error`` blaming ``field``, serialised the way nameko
    does (``nameko.exceptions.serialize``). The message text is free (any string):
    consumers rely on the class and the field only."""
    message = match.str(f"example {error.code} message")
    body = {
        "result": None,
        "error": {
            "exc_type": error.__name__,
            "exc_path": f"{error.__module__}.{error.__name__}",
            "exc_args": [message, field],
            "value": message,
        },
    }
    return interaction.will_respond_with().with_body(body, CONTENT_TYPE)


def event_message(
    interaction: AsyncMessageInteraction, event: Event, payload: dict[str, Any]
) -> AsyncMessageInteraction:
    """The contents of ``interaction`` are an ``event`` with ``payload`` (values or matchers)."""
    return interaction.with_body(payload, CONTENT_TYPE).with_metadata(
        {EVENT_TYPE: f"{event.source}.{event.name}"}
    )


def decode(contents: str | bytes | None) -> Any:
    """A message's JSON contents as Python values."""
    return json.loads(contents or "null")
