"""Creates that happen once per ``Idempotency-Key``, also when RabbitMQ redelivers them.

The gateway passes a client's key along with the call, as context data (it travels in
the message headers, so no RPC signature changes). ``RecordStore.create``
(``service_runtime.store``) then derives the new record's id from the key instead of
drawing a fresh one, and writes the record only if that id is still free.

The key's lifetime is the gateway's business (``IDEMPOTENCY_KEY_TTL_SECONDS``); a
record lives as long as the service keeps it.
"""

from __future__ import annotations

import uuid
from typing import Any

import redis
from nameko.extensions import DependencyProvider

IDEMPOTENCY_KEY_CONTEXT = "idempotency_key"
# Fixed: the same (service, key) must give the same id in every process and release.
RECORD_ID_NAMESPACE = uuid.UUID("5b0c2d1e-8f3a-4c59-9e61-0d7f2a4b8c13")

# HSET only if the key does not exist yet, in one step: 1 if written, 0 if it existed.
CREATE_HASH_ONCE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1
"""


class IdempotencyKey(DependencyProvider):
    """Injects the calling client's ``Idempotency-Key`` for this call, or ``None``."""

    def get_dependency(self, worker_ctx: Any) -> str | None:
        return worker_ctx.context_data.get(IDEMPOTENCY_KEY_CONTEXT)


def record_id(service: str, idempotency_key: str | None) -> str:
    """A fresh id (32 hex digits), or without randomness the one ``idempotency_key`` gives."""
    if idempotency_key is None:
        return uuid.uuid4().hex
    return uuid.uuid5(RECORD_ID_NAMESPACE, f"{service}:{idempotency_key}").hex


def create_hash_once(client: redis.Redis, key: str, mapping: dict[str, str]) -> bool:
    """Write the hash ``key`` unless it exists; True if this call wrote it."""
    fields = [item for pair in mapping.items() for item in pair]
    return bool(client.eval(CREATE_HASH_ONCE, 1, key, *fields))
