"""Queues that belong to one connection are not durable, so a lost node takes them along.

Nameko declares every queue durable, also a caller's expiring RPC reply queue and a
broadcast handler's exclusive queue. In a RabbitMQ cluster a durable classic queue whose
node is lost stays behind, unusable, until that node returns: the reconnected caller could
not declare its reply queue again (404), nor the gateway its live-feed queue
(RESOURCE_LOCKED). Not durable, they go with their node and are declared afresh on the
next; on one node a broker restart drops them, as it drops their connections anyway.
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
