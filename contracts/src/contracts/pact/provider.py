"""Replay a pact's interactions against the real, running provider.

pact-python's ``Verifier`` asks a message handler for the provider's answer to
each interaction; ``RpcRelay`` is that handler for nameko RPC: it publishes the
pact's request body on the real broker under the pact's routing key (with
nameko's own standalone client) and hands back the reply body exactly as the
service sent it, so the verifier compares the real wire format with the pact.
"""

from __future__ import annotations

import json
from typing import Any

from nameko.standalone.rpc import ClusterRpcProxy
from pact.types import Message

from contracts.pact.wire import CONTENT_TYPE, ROUTING_KEY

RPC_REPLY_TIMEOUT_SECONDS = 20


class RpcRelay:
    """``Verifier.message_handler`` for Sync RPC interactions; use as a context manager."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.cluster = ClusterRpcProxy(config, timeout=RPC_REPLY_TIMEOUT_SECONDS)
        self.proxy: Any = None

    def __enter__(self) -> RpcRelay:
        self.proxy = self.cluster.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.cluster.stop()

    def __call__(self, name: str, metadata: dict[str, Any]) -> Message:
        # The verifier posts the interaction's request under "request".
        request = metadata["request"]
        service, method = request["metadata"][ROUTING_KEY].split(".", 1)
        body = request["contents"]["content"]
        reply = getattr(self.proxy[service], method).call_async(*body["args"], **body["kwargs"])
        raw = reply.reply_event.wait()  # the reply body, before nameko re-raises errors
        return Message(contents=json.dumps(raw).encode(), metadata=None, content_type=CONTENT_TYPE)
