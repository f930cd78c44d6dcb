"""Queues that belong to one connection are not durable, so a lost node takes them along.

Nameko declares them durable; in a cluster a durable classic queue whose node is lost stays
behind, unusable, and its reconnected owner could not declare it again (404 for a reply
queue, RESOURCE_LOCKED for the live feed's) until that node returned.
"""

from __future__ import annotations

from nameko.events import EventHandler
from nameko.rpc import ReplyListener


class TransientReplyListener(ReplyListener):
    """Also exclusive: redeclared from another node before the cluster noticed its own node's
    loss, a reply queue can be a ghost (consumed, never fed: every call 504; the likely cause
    of a swarm run's stuck gateway); exclusive, that declare is refused (RESOURCE_LOCKED) and
    retried until the cluster drops it. Replies stay acked: under steady replies the acks are
    all the broker hears from this connection (kombu heartbeats only after a second idle)."""

    def setup(self) -> None:
        super().setup()
        self.queue.durable = False
        self.queue.exclusive = True


class TransientEventHandler(EventHandler):
    """nameko's ``event_handler``; for a BROADCAST handler without reliable delivery (its
    queue exclusive), the queue is not durable either."""

    def setup(self) -> None:
        super().setup()
        if self.queue.exclusive:
            self.queue.durable = False


event_handler = TransientEventHandler.decorator
