"""MessageStore: the only code that knows how messages sit in Redis (docs/messenger.md):

* ``message:<id>``: JSON ``{"text", "created", "expires"}`` (epoch ms), ``SET ... PX <ttl>``;
* ``messages:by_expiry``: a sorted set of ids by expiry. Every message lives as long, so
  the newest page is one ``ZREVRANGEBYSCORE`` from ``+inf`` down to now.
"""

from __future__ import annotations

import json
import time
from typing import Any

from contracts.messages import SERVICE_NAME
from contracts.messages.v1 import Message
from service_runtime.settings import Setting
from service_runtime.store import Created, RecordStore

MESSAGE_TTL = Setting(
    "MESSAGE_TTL_SECONDS",
    float,
    60.0,
    "how long a message lives (fractions allowed)",
    minimum=0.001,
)


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class MessageStore(RecordStore[Message]):
    service, kind, model = SERVICE_NAME, "message", Message
    gone = " (expired or never existed)"

    @property
    def ttl_ms(self) -> int:
        return max(1, round(MESSAGE_TTL.read(self.config) * 1000))

    @property
    def index_key(self) -> str:
        return self.key("messages", "by_expiry")

    def create(self, idempotency_key: str | None = None, **fields: Any) -> Created[Message]:
        created = super().create(idempotency_key, **fields)
        if not created.new:  # indexed again: its first create may have died before the index
            self.client.zadd(self.index_key, {created.record.id: created.record.expires})
        return created

    def new(self, record_id: str, **fields: Any) -> Message:
        ttl = self.ttl_ms
        created = now_ms()
        return Message(
            id=record_id, created=created, expires=created + ttl, expires_in=ttl, **fields
        )

    def write(self, message: Message, only_if_new: bool) -> bool:
        key = self.key(self.kind, message.id)
        value = json.dumps(message.model_dump(include={"text", "created", "expires"}))
        if only_if_new and not self.client.set(key, value, px=message.expires_in, nx=True):
            return False
        # One MULTI: the message and its index entry appear together or not at all.
        pipe = self.client.pipeline(transaction=True)
        pipe.set(key, value, px=message.expires_in)
        pipe.zadd(self.index_key, {message.id: message.expires})
        pipe.zremrangebyscore(self.index_key, "-inf", message.created)
        pipe.execute()
        return True

    def same_request(self, earlier: Message, message: Message) -> bool:
        return earlier.text == message.text

    def get(self, record_id: str) -> Message | None:
        return self._read([record_id])[0]

    def newest(self, limit: int) -> list[Message]:
        """At most ``limit`` live messages, newest first."""
        now = now_ms()
        pipe = self.client.pipeline(transaction=False)
        pipe.zremrangebyscore(self.index_key, "-inf", now)
        pipe.zrevrangebyscore(self.index_key, "+inf", f"({now}", start=0, num=limit)
        _, ids = pipe.execute()
        return [message for message in self._read(ids) if message is not None]

    def _read(self, ids: list[str]) -> list[Message | None]:
        """The messages ``ids`` in order, ``None`` for each one Redis no longer has."""
        if not ids:
            return []
        # MULTI so each value and its PTTL are read at the same instant.
        pipe = self.client.pipeline(transaction=True)
        for message_id in ids:
            pipe.get(self.key(self.kind, message_id))
            pipe.pttl(self.key(self.kind, message_id))
        replies = pipe.execute()
        messages: list[Message | None] = []
        for message_id, value, left in zip(ids, replies[::2], replies[1::2], strict=True):
            if value is None or left < 0:  # -2: gone; -1 would be a key without expiry
                messages.append(None)
                continue
            messages.append(Message(id=message_id, expires_in=left, **json.loads(value)))
        return messages
