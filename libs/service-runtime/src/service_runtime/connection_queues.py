"""Queues that belong to one connection are not durable, so a lost node takes them along.

Nameko declares every queue durable, also those that live only as long as their
consumer: each caller's RPC reply queue (``rpc.reply-<service>-<uuid>``, expiring) and a
broadcast handler's queue (exclusive to its connection). In a RabbitMQ cluster a durable
classic queue whose node is lost stays behind as a record nobody can use until that
node returns: the caller, reconnected to a surviving node, could not declare its reply
queue again (404, its home node down), nor the gateway its live-feed queue
(RESOURCE_LOCKED), and its calls timed out. Not durable, RabbitMQ deletes them with
their node, and the caller declares them afresh on the node it reconnects to. On one
node nothing changes but that a broker restart drops them, as it drops their
connections anyway.
"""

from __future__ import annotations

from nameko.events import EventHandler
from nameko.rpc import ReplyListener


class TransientReplyListener(ReplyListener):
    def setup(self) -> None:
        super().setup()
        self.queue.durable = False


class TransientEventHandler(EventHandler):
    """nameko's ``event_handler``; for a BROADCAST handler without reliable delivery (its
    queue exclusive), the queue is not durable either."""

    def setup(self) -> None:
        super().setup()
        if self.queue.exclusive:
            self.queue.durable = False


event_handler = TransientEventHandler.decorator
