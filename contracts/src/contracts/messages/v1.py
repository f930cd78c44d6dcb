"""messages v1: short text messages that expire, times in ms (docs/messenger.md, "API")."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from contracts.errors import InvalidArgument, NotFound
from contracts.ids import EntityId
from contracts.interface import Arguments, Event, RpcMethod
from contracts.messages import SERVICE_NAME
from contracts.text import CONTROLS, LINE_BREAK_AND_TAB, trimmed_text, without

MESSAGE_CREATED = "message_created"

# Long enough for a chat line, short enough that a page of messages stays small.
MESSAGE_TEXT_MAX_LENGTH = 500
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100

# Line breaks and tabs are shown as typed.
MessageText = trimmed_text(
    MESSAGE_TEXT_MAX_LENGTH, without(CONTROLS - LINE_BREAK_AND_TAB, "control characters")
)
PageSize = Annotated[int, Field(ge=1, le=MAX_PAGE_SIZE)]


class SaveMessage(Arguments):
    """Arguments of ``messages.save_message``."""

    text: MessageText


class GetMessage(Arguments):
    """Arguments of ``messages.get_message``."""

    id: EntityId


class GetAllMessages(Arguments):
    """Arguments of ``messages.get_all_messages``."""

    limit: PageSize = DEFAULT_PAGE_SIZE


class MessageCreated(BaseModel):
    """Payload of the ``message_created`` event."""

    id: EntityId
    text: str
    created: int
    expires: int


class Message(MessageCreated):
    """A live message as read back: the event's fields plus the time it has left."""

    expires_in: int


SAVE_MESSAGE = RpcMethod(SERVICE_NAME, "save_message", 1, SaveMessage, Message, (InvalidArgument,))
GET_MESSAGE = RpcMethod(
    SERVICE_NAME, "get_message", 1, GetMessage, Message, (InvalidArgument, NotFound)
)
GET_ALL_MESSAGES = RpcMethod(
    SERVICE_NAME, "get_all_messages", 1, GetAllMessages, list[Message], (InvalidArgument,)
)
MESSAGE_CREATED_EVENT = Event(SERVICE_NAME, MESSAGE_CREATED, 1, MessageCreated)
