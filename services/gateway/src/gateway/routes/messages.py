"""``/messages``: the messenger's JSON API and its live stream.

* ``POST /messages`` ``{"message": text}`` -> 201, the saved message, ``Location``
  (rate-limited per client: ``gateway.rate_limit``; ``Idempotency-Key``: ``gateway.idempotency``);
* ``GET /messages?limit=N`` -> the live messages, newest first, each with ``expires_in``;
* ``GET /messages/<id>`` -> the message, 404 once expired or unknown;
* ``GET /messages/stream`` -> Server-Sent Events, one ``message_created`` per new message.

The stream is fed by a broadcast handler of the ``message_created`` event: every
gateway instance gets its own queue of every event (not reliable: a gateway that
is down has no page to tell), and passes it to its ``MessageHub``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nameko.events import BROADCAST, event_handler
from werkzeug.wrappers import Request, Response

from contracts.messages import SERVICE_NAME as MESSAGES
from contracts.messages.v1 import MESSAGE_CREATED, MessageCreated
from gateway.bodies import NewMessage, parse_body
from gateway.errors import json_response
from gateway.http import http
from gateway.idempotency import IdempotentCreates
from gateway.live_feed import MessageHub
from gateway.query_args import int_arg
from service_runtime.rpc import TimedServiceProxy

EVENTLET_MIN_WRITE_KEY = "eventlet.minimum_write_chunk_size"
STREAM_HEADERS = {
    "Cache-Control": "no-cache",
    # Tell a buffering reverse proxy (nginx) to pass events through at once.
    "X-Accel-Buffering": "no",
}


def page_size(request: Request) -> dict[str, int]:
    """The ``limit`` query argument as RPC keyword arguments (none: the service's default).

    Only the type is checked here; the messages service owns the allowed range.
    """
    limit = int_arg(request, "limit")
    return {} if limit is None else {"limit": limit}


class MessageRoutes:
    messages: TimedServiceProxy
    live_feed: MessageHub
    idempotency: IdempotentCreates
    rate_limit: Callable[[Request], None]

    @http("POST", "/messages")
    def create_message(self, request: Request) -> Response:
        # Before anything else: a flood must cost as little as possible.
        self.rate_limit(request)
        body = parse_body(request, NewMessage)

        def created() -> Response:
            message = self.messages.save_message(body.message)
            return json_response(201, message, {"Location": f"/messages/{message['id']}"})

        return self.idempotency.create(request, body, created)

    @http("GET", "/messages")
    def list_messages(self, request: Request) -> Response:
        return json_response(200, self.messages.get_all_messages(**page_size(request)))

    @http("GET", "/messages/<string:message_id>")
    def get_message(self, request: Request, message_id: str) -> Response:
        return json_response(200, self.messages.get_message(message_id))

    @http("GET", "/messages/stream")
    def stream_messages(self, request: Request) -> Response:
        if request.method == "HEAD":  # headers only: no body would ever give the slot back
            return Response(mimetype="text/event-stream", headers=STREAM_HEADERS)
        # Returns at once: the server iterates the body after this worker ends.
        subscription = self.live_feed.subscribe(
            request.remote_addr, request.environ["eventlet.input"].get_socket()
        )
        # eventlet's server buffers a streamed body into 4 KiB writes by default;
        # an event must leave as soon as it is yielded.
        request.environ[EVENTLET_MIN_WRITE_KEY] = 0
        return Response(subscription.stream(), mimetype="text/event-stream", headers=STREAM_HEADERS)

    @event_handler(MESSAGES, MESSAGE_CREATED, handler_type=BROADCAST, reliable_delivery=False)
    def relay_message_created(self, payload: dict[str, Any]) -> None:
        event = MessageCreated.model_validate(payload)
        self.live_feed.publish(MESSAGE_CREATED, event.model_dump())
