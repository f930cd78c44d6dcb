"""Queues that belong to one connection are not durable, so a lost node takes them along.

Nameko declares them durable; in a cluster a durable classic queue whose node is lost stays
behind, unusable, and its reconnected owner could not declare it again (404 for a reply
queue, RESOURCE_LOCKED for the live feed's) until that node returned.
"""

from __future__ import annotations

from nameko.events import EventHandler
from nameko.rpc import ReplyListener


class TransientReplyListener(ReplyListener):
    """Also exclusive: a reply queue redeclared from another node before the cluster has
    noticed its own node's loss can be a ghost (consumed, never fed: every call 504; the likely
    cause of a swarm run's stuck gateway). Exclusive, that declare is refused (RESOURCE_LOCKED)
    and retried until the cluster drops the old one.

    Replies stay acknowledged, though the queue dies with its connection anyway: kombu
    sends heartbeats only when the connection has been idle a second, so under a steady
    stream of replies the acks are all the broker hears from it (consumed without them, a
    swarm run's gateways were closed for missed heartbeats and their calls lost)."""

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
