"""``/messages``: the messenger's JSON API and its live stream (docs/messenger.md)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from nameko.events import BROADCAST
from werkzeug.wrappers import Request, Response

from contracts.errors import InvalidArgument
from contracts.ids import EntityId
from contracts.messages import SERVICE_NAME as MESSAGES
from contracts.messages.v1 import (
    GET_ALL_MESSAGES,
    GET_MESSAGE,
    MESSAGE_CREATED,
    SAVE_MESSAGE,
    MessageCreated,
    PageSize,
)
from gateway.bodies import NewMessage, parse_body
from gateway.errors import RateLimited, StreamFull, json_response
from gateway.http import Route, http
from gateway.idempotency import IdempotentCreates
from gateway.live_feed import MessageHub
from service_runtime.connection_queues import event_handler
from service_runtime.rpc import TimedServiceProxy

# Not ``int()``, which takes " 5", "+5", "5_0", other scripts' digits: a proxy may differ.
PLAIN_DIGITS = re.compile(r"[0-9]{1,9}", re.ASCII)
EVENTLET_MIN_WRITE_KEY = "eventlet.minimum_write_chunk_size"
EVENT_STREAM = "text/event-stream"
# Tell a buffering reverse proxy (nginx) to pass events through at once.
STREAM_HEADERS = {"X-Accel-Buffering": "no"}
CREATE_MESSAGE = Route(
    "POST",
    "/messages",
    status=201,
    body=NewMessage,
    calls=(SAVE_MESSAGE,),
    errors=(RateLimited,),  # before the body is read: gateway.rate_limit
    idempotent=True,
)


def int_arg(request: Request, name: str) -> int | None:
    """The query argument as a non-negative integer, or None when absent; given twice is
    refused too (which copy counts differs between frameworks)."""
    values = request.args.getlist(name)
    if len(values) > 1:
        raise InvalidArgument(f"{name}: given more than once", field=name)
    if not values:
        return None
    if not PLAIN_DIGITS.fullmatch(values[0]):
        raise InvalidArgument(f"{name}: must be an integer (plain digits 0-9)", field=name)
    return int(values[0])


class MessageRoutes:
    messages: TimedServiceProxy
    live_feed: MessageHub
    idempotency: IdempotentCreates
    rate_limit: Callable[[Request], None]

    @http(CREATE_MESSAGE)
    def create_message(self, request: Request) -> Response:
        """Post a message to the board."""
        # Before anything else: a flood must cost as little as possible.
        self.rate_limit(request)
        body = parse_body(request, CREATE_MESSAGE.body)  # type: ignore[arg-type]

        def created() -> Response:
            message = self.messages.save_message(body.message)
            return json_response(201, message, {"Location": f"/messages/{message['id']}"})

        return self.idempotency.create(request, body, created)

    @http(Route("GET", "/messages", calls=(GET_ALL_MESSAGES,), query={"limit": PageSize}))
    def list_messages(self, request: Request) -> Response:
        """The live messages, newest first."""
        # Only the type is checked here; the messages service owns the allowed range.
        limit = int_arg(request, "limit")
        page = {} if limit is None else {"limit": limit}  # none: the service's default
        return json_response(200, self.messages.get_all_messages(**page))

    @http(Route("GET", "/messages/<string:message_id>", calls=(GET_MESSAGE,)))
    def get_message(self, request: Request, message_id: EntityId) -> Response:
        """Read a message (404 once expired)."""
        return json_response(200, self.messages.get_message(message_id))

    @http(Route("GET", "/messages/stream", media_types=(EVENT_STREAM,), errors=(StreamFull,)))
    def stream_messages(self, request: Request) -> Response:
        """The live feed: one `message_created` Server-Sent Event per new message."""
        if request.method == "HEAD":  # headers only: no body would ever give the slot back
            return Response(mimetype=EVENT_STREAM, headers=STREAM_HEADERS)
        # Returns at once: the server iterates the body after this worker ends.
        subscription = self.live_feed.subscribe(
            request.remote_addr, request.environ["eventlet.input"].get_socket()
        )
        # eventlet buffers a streamed body into 4 KiB writes; an event must leave at once.
        request.environ[EVENTLET_MIN_WRITE_KEY] = 0
        return Response(subscription.stream(), mimetype=EVENT_STREAM, headers=STREAM_HEADERS)

    # Every gateway gets every event; not reliably: a gateway that is down has no page to tell.
    @event_handler(MESSAGES, MESSAGE_CREATED, handler_type=BROADCAST, reliable_delivery=False)
    def relay_message_created(self, payload: dict[str, Any]) -> None:
        event = MessageCreated.model_validate(payload)
        self.live_feed.publish(MESSAGE_CREATED, event.model_dump())
