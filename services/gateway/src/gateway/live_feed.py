"""The live feed (docs/messenger.md): ``message_created`` events fanned out to Server-Sent
Events streams, each drained on its connection's own green thread, never a worker.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from contextlib import suppress
from typing import Any

import eventlet
from eventlet import wsgi
from eventlet.hubs import trampoline
from eventlet.queue import Empty, Full, LightQueue
from nameko.extensions import DependencyProvider

from gateway.errors import StreamFull
from service_runtime.settings import Setting

log = logging.getLogger(__name__)

MAX_SUBSCRIBERS = Setting(
    "MAX_STREAM_SUBSCRIBERS",
    int,
    100,
    "open live-feed streams per gateway; one more gets 503",
    minimum=1,
)
HEARTBEAT_SECONDS = Setting(
    "STREAM_HEARTBEAT_SECONDS",
    float,
    15.0,
    "seconds of silence after which a stream gets a heartbeat comment (finds dead clients)",
    minimum=0.01,
)
# Events a subscriber may lag before it is dropped (its page reconnects and re-reads).
SUBSCRIBER_BACKLOG = 100
# How soon a page's EventSource reconnects after the stream ends (ms).
RECONNECT_MS = 1000

_CLOSED = object()


def encode_event(name: str, payload: dict[str, Any]) -> str:
    """One Server-Sent Event; JSON holds no raw newline, so one ``data:`` line suffices."""
    return f"event: {name}\ndata: {json.dumps(payload)}\n\n"


class Subscription:
    """One connected stream: a bounded queue of encoded events for one client's socket."""

    def __init__(self, hub: MessageHub, client: str, connection: Any) -> None:
        self.hub = hub
        self.client = client
        self.connection = connection
        self.queue: LightQueue = LightQueue(SUBSCRIBER_BACKLOG)
        self.closed = False
        self.hung_up = False

    def close(self) -> None:
        self.closed = True
        # Wakes a stream waiting on an empty queue; a full one sees ``closed`` next.
        with suppress(Full):
            self.queue.put_nowait(_CLOSED)

    def wait_for_hangup(self) -> None:
        """A client sends nothing after its request: its socket turning readable means it left."""
        opened = time.monotonic()
        trampoline(self.connection, read=True)
        self.hung_up = True
        lasted = time.monotonic() - opened
        log.info("live feed: client %s went away after %.1fs; slot freed", self.client, lasted)
        self.hub.unsubscribe(self)

    def stream(self) -> Iterator[str]:
        """The response body: a greeting, then events and heartbeats until closed."""
        watcher = eventlet.spawn(self.wait_for_hangup)
        try:
            yield f"retry: {RECONNECT_MS}\n: connected\n\n"
            while not self.closed:
                try:
                    event = self.queue.get(timeout=self.hub.heartbeat_seconds)
                except Empty:
                    yield ": heartbeat\n\n"
                    continue
                if event is _CLOSED:
                    if self.hung_up:
                        # Nobody to answer: the server just closes the connection
                        # (as eventlet's websocket support does).
                        wsgi.WSGI_LOCAL.already_handled = True
                    return
                yield event
        finally:
            # Runs when the server closes the body: client gone or server stopping.
            watcher.kill()
            self.hub.unsubscribe(self)


class MessageHub:
    """The set of open subscriptions of one gateway container."""

    def __init__(self, max_subscribers: int, heartbeat_seconds: float) -> None:
        self.max_subscribers = max_subscribers
        self.heartbeat_seconds = heartbeat_seconds
        self.subscriptions: set[Subscription] = set()

    def subscribe(self, client: str, connection: Any) -> Subscription:
        """A slot for ``client`` streaming to ``connection`` (the socket watched for hang-up)."""
        if len(self.subscriptions) >= self.max_subscribers:
            raise StreamFull(
                f"the live feed has its maximum of {self.max_subscribers} subscribers; "
                "poll GET /messages instead"
            )
        subscription = Subscription(self, client, connection)
        self.subscriptions.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        subscription.close()
        self.subscriptions.discard(subscription)

    def publish(self, name: str, payload: dict[str, Any]) -> None:
        event = encode_event(name, payload)
        for subscription in list(self.subscriptions):
            try:
                subscription.queue.put_nowait(event)
            except Full:  # too far behind to keep
                self.unsubscribe(subscription)

    def close_all(self) -> None:
        for subscription in list(self.subscriptions):
            self.unsubscribe(subscription)


class LiveFeed(DependencyProvider):
    """Injects the container's ``MessageHub``; ends every stream when the container stops."""

    hub: MessageHub

    def setup(self) -> None:
        config = self.container.config
        self.hub = MessageHub(MAX_SUBSCRIBERS.read(config), HEARTBEAT_SECONDS.read(config))

    def stop(self) -> None:
        self.hub.close_all()

    kill = stop

    def get_dependency(self, worker_ctx: Any) -> MessageHub:
        return self.hub
