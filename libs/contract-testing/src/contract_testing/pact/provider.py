"""Replay a pact's interactions against the real, running provider.

pact-python's ``Verifier`` asks a message handler for the provider's answer to
each interaction; ``RpcRelay`` is that handler for nameko RPC: it publishes the
pact's request body on the real broker under the pact's routing key (with
nameko's own standalone client) and hands back the reply body exactly as the
service sent it, so the verifier compares the real wire format with the pact.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from kombu import Connection, Exchange, Queue
from nameko.standalone.rpc import ClusterRpcProxy
from pact.types import Message

from contract_testing.pact.wire import CONTENT_TYPE, EVENT_TYPE, ROUTING_KEY
from contracts.interface import Event

RPC_REPLY_TIMEOUT_SECONDS = 20


EVENT_WAIT_SECONDS = 20

EventProducer = Callable[[Any], Message]


class RpcRelay:
    """``Verifier.message_handler`` for Sync RPC interactions and, given ``events``
    (interaction description -> producer called with the RPC proxy), for Async
    event interactions; use as a context manager."""

    def __init__(
        self, config: dict[str, Any], events: dict[str, EventProducer] | None = None
    ) -> None:
        self.cluster = ClusterRpcProxy(config, timeout=RPC_REPLY_TIMEOUT_SECONDS)
        self.events = events or {}
        self.proxy: Any = None

    def __enter__(self) -> RpcRelay:
        self.proxy = self.cluster.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.cluster.stop()

    def __call__(self, name: str, metadata: dict[str, Any]) -> Message:
        if "request" not in metadata:  # an Async interaction: an event
            return self.events[name](self.proxy)
        # The verifier posts a Sync interaction's request under "request".
        request = metadata["request"]
        service, method = request["metadata"][ROUTING_KEY].split(".", 1)
        body = request["contents"]["content"]
        reply = getattr(self.proxy[service], method).call_async(*body["args"], **body["kwargs"])
        raw = reply.reply_event.wait()  # the reply body, before nameko re-raises errors
        return Message(contents=json.dumps(raw).encode(), metadata=None, content_type=CONTENT_TYPE)


def capture_event(amqp_uri: str, event: Event, trigger: Callable[[], object]) -> Message:
    """The ``event`` the real provider dispatches while ``trigger`` runs, as it went
    over the broker: a queue bound to the source's event exchange catches it."""
    # Same declaration as nameko's dispatcher, so binding works before its first event.
    exchange = Exchange(f"{event.source}.events", type="topic", durable=True)
    with Connection(amqp_uri) as connection:
        queue = Queue(exchange=exchange, routing_key=event.name, exclusive=True, auto_delete=True)
        with connection.SimpleQueue(queue) as captured:
            trigger()
            message = captured.get(timeout=EVENT_WAIT_SECONDS)
            message.ack()
    return Message(
        contents=json.dumps(message.payload).encode(),
        metadata={EVENT_TYPE: f"{event.source}.{event.name}"},
        content_type=CONTENT_TYPE,
    )
