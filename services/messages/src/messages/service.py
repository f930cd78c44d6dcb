"""The messages Nameko service: thin RPC entrypoints over ``MessageStore``."""

from __future__ import annotations

from nameko.events import EventDispatcher

from contracts.messages import SERVICE_NAME
from contracts.messages.v1 import (
    DEFAULT_PAGE_SIZE,
    MESSAGE_CREATED,
    GetAllMessages,
    GetMessage,
    MessageCreated,
    SaveMessage,
)
from contracts.validation import validate
from messages.store import MessageStore
from service_runtime.chassis import RpcService
from service_runtime.entrypoints import rpc


class MessagesService(RpcService, store=MessageStore):
    name = SERVICE_NAME
    dispatch = EventDispatcher()

    @rpc
    def save_message(self, text: str) -> dict:
        args = validate(SaveMessage, {"text": text})
        message, new = self.store.create(self.idempotency_key, text=args.text)
        if new:  # a repeated save announces nothing new
            event = MessageCreated.model_validate(message.model_dump())
            self.dispatch(MESSAGE_CREATED, event.model_dump())
        return message.model_dump()

    @rpc
    def get_message(self, id: str) -> dict:  # noqa: A002 - the RPC argument name is the contract
        args = validate(GetMessage, {"id": id})
        return self.store.found(args.id).model_dump()

    @rpc
    def get_all_messages(self, limit: int = DEFAULT_PAGE_SIZE) -> list[dict]:
        args = validate(GetAllMessages, {"limit": limit})
        return [message.model_dump() for message in self.store.newest(args.limit)]
