"""Queues of one connection (a reply queue, the live feed's): not durable (nameko's choice:
a lost node's queue stayed behind, and its owner could not declare it again), exclusive, and
named anew on each connection: declared again under its old name, a queue lost its binding to
a lost node's clean-up (a swarm run: listed, never routed; every call 504 until a restart).
Replies stay acked: under steady replies the acks are all the broker hears from a connection
(kombu sends heartbeats only after a second idle). An ack that meets a reset socket is dropped
(nameko drops amqp's ``ConnectionError`` only): a reply's ack raising killed the gateway.

| override | deviation | needed for |
|---|---|---|
| `RenamingQueueConsumer.get_consumers` | reads `QueueConsumer._providers` | node loss |
| `RenamingQueueConsumer.ack_message` | nameko's, dropping socket errors too | broker stop |
"""

from __future__ import annotations

import uuid
from contextlib import suppress
from typing import Any

from amqp.exceptions import ConnectionError as AmqpConnectionError
from kombu import Queue
from nameko.events import EventHandler
from nameko.messaging import QueueConsumer
from nameko.rpc import RPC_REPLY_QUEUE_TEMPLATE, ReplyListener

# A connection closed (py-amqp) or its socket reset or refused.
CONNECTION_LOST = (OSError, AmqpConnectionError)


def connection_queue(template: Queue, name: str, routing_key: str | None = None) -> Queue:
    """``template``'s queue and binding under ``name``, held by one connection alone."""
    key = template.routing_key if routing_key is None else routing_key
    arguments = template.queue_arguments
    return Queue(
        name, template.exchange, key, durable=False, exclusive=True, queue_arguments=arguments
    )


class RenamingQueueConsumer(QueueConsumer):
    """nameko's; ``get_consumers`` runs on every (re)connection (``_providers`` is nameko's)."""

    def get_consumers(self, consumer_cls: Any, channel: Any) -> Any:
        for provider in self._providers:
            if isinstance(provider, TransientReplyListener | TransientEventHandler):
                provider.rename_queue()
        return super().get_consumers(consumer_cls, channel)

    def ack_message(self, message: Any) -> None:
        with suppress(*CONNECTION_LOST):  # the broker requeues an unacked message
            super().ack_message(message)


class TransientReplyListener(ReplyListener):
    queue_consumer = RenamingQueueConsumer()

    def rename_queue(self) -> None:
        self.routing_key = str(uuid.uuid4())  # the reply_to of the calls made from now on
        name = RPC_REPLY_QUEUE_TEMPLATE.format(self.container.service_name, self.routing_key)
        self.queue = connection_queue(self.queue, name, self.routing_key)


class TransientEventHandler(EventHandler):
    """nameko's ``event_handler``; a BROADCAST handler's exclusive queue is a connection's."""

    queue_consumer = RenamingQueueConsumer()

    def rename_queue(self) -> None:
        if self.queue.exclusive:  # its name ends in a broadcast identifier: a new one
            name = f"{self.queue.name.rsplit('-', 1)[0]}-{uuid.uuid4().hex}"
            self.queue = connection_queue(self.queue, name)


event_handler = TransientEventHandler.decorator
