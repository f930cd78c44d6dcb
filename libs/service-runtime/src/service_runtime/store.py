"""Redis-backed stores (each documents its key layout), the one idempotent create (README,
"Idempotency-Key") and the provider that injects a store.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Generic, NamedTuple, TypeVar

import redis
from nameko.extensions import DependencyProvider
from nameko_redis import REDIS_URIS_KEY, Redis
from pydantic import BaseModel

from contracts.errors import IdempotencyKeyReused, NotFound, ServiceUnavailable, StorageFull
from service_runtime.metrics import STORE_MEMORY
from service_runtime.replication import UnreplicatedWrite, redis_client
from service_runtime.settings import Setting, SettingError

REDIS_KEY_PREFIX = Setting(
    "REDIS_KEY_PREFIX",
    str,
    "",
    "prefix of every Redis key the service writes (tests, side-by-side)",
)
# A stalled Redis turns into an error, never a hung worker.
REDIS_SOCKET_TIMEOUT_SECONDS = 5
CLIENT_OPTIONS: dict[str, Any] = {
    "decode_responses": True,
    "socket_timeout": REDIS_SOCKET_TIMEOUT_SECONDS,
    "socket_connect_timeout": REDIS_SOCKET_TIMEOUT_SECONDS,
}
# A Redis refusing, timing out or short of replicas; one at its bound (``noeviction``).
STORAGE_OUTAGES = (redis.ConnectionError, redis.TimeoutError, UnreplicatedWrite)
STORAGE_FULL = redis.exceptions.OutOfMemoryError


def storage_error(error: BaseException, storage: str) -> ServiceUnavailable | None:
    """What a failure of ``storage`` reaches callers as; None for any other error."""
    if isinstance(error, STORAGE_FULL):
        return StorageFull(f"{storage} is full")
    if isinstance(error, STORAGE_OUTAGES):
        return ServiceUnavailable(f"{storage} unavailable")
    return None


class RedisStore:
    """Base of the services' stores: a Redis client plus a key namespace."""

    def __init__(self, client: redis.Redis, key_prefix: str, config: dict[str, Any]) -> None:
        self.client = client
        self.key_prefix = key_prefix
        self.config = config

    def key(self, *parts: str) -> str:
        return self.key_prefix + ":".join(parts)

    @contextmanager
    def failures_as(self, storage: str) -> Iterator[None]:
        """A failure of this Redis in the block reaches the caller as ``storage_error``'s."""
        try:
            yield
        except (*STORAGE_OUTAGES, STORAGE_FULL) as exc:
            raise storage_error(exc, storage) from None

    def ping(self) -> bool:
        """True once Redis answers with its data loaded (docs/operations.md, Persistence)."""
        persistence = self.client.info("persistence")
        if persistence.get("loading"):
            raise ServiceUnavailable(
                f"storage is loading its data ({persistence.get('loading_loaded_perc', 0)}%)"
            )
        return True


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
    def get_dependency(self, worker_ctx: Any) -> str | None:
        return worker_ctx.context_data.get(IDEMPOTENCY_KEY_CONTEXT)


RecordT = TypeVar("RecordT", bound=BaseModel)


class Created(NamedTuple, Generic[RecordT]):
    record: RecordT
    new: bool  # False: the idempotency key's earlier create, found again


class RecordStore(RedisStore, Generic[RecordT]):
    """A store of one kind of record, each created once per idempotency key: the hash
    ``<kind>:<id>`` of its other fields, unless the store overrides ``new``, ``write``,
    ``get`` and ``same_request``."""

    service: str  # ids derive from (service, key)
    kind: str
    model: type[RecordT]
    gone = ""  # why a record may be missing, for the NotFound message

    def create(self, idempotency_key: str | None = None, **fields: Any) -> Created[RecordT]:
        """A new record of ``fields``, stored; with a key, the one record that key created
        (``IdempotencyKeyReused`` when that record differs or is gone)."""
        if idempotency_key is None:
            new_id = uuid.uuid4().hex
        else:
            new_id = uuid.uuid5(RECORD_ID_NAMESPACE, f"{self.service}:{idempotency_key}").hex
        record = self.new(new_id, **fields)
        if self.write(record, only_if_new=idempotency_key is not None):
            return Created(record, True)
        earlier = self.get(record.id)  # type: ignore[attr-defined]
        if earlier is None or not self.same_request(earlier, record):
            raise IdempotencyKeyReused(
                f"the Idempotency-Key was used for another {self.kind}, or its {self.kind} "
                "no longer exists"
            )
        return Created(earlier, False)

    def new(self, record_id: str, **fields: Any) -> RecordT:
        return self.model(id=record_id, **fields)

    def write(self, record: RecordT, only_if_new: bool) -> bool:
        """Store ``record``; with ``only_if_new``, only if its id is free. Whether it wrote."""
        key = self.key(self.kind, record.id)  # type: ignore[attr-defined]
        fields = record.model_dump(exclude={"id"})
        if only_if_new:
            pairs = [item for pair in fields.items() for item in pair]
            return bool(self.client.eval(CREATE_HASH_ONCE, 1, key, *pairs))
        self.client.hset(key, mapping=fields)
        return True

    def get(self, record_id: str) -> RecordT | None:
        fields = self.client.hgetall(self.key(self.kind, record_id))
        return self.model(id=record_id, **fields) if fields else None

    def found(self, record_id: str) -> RecordT:
        """The record ``record_id``; ``NotFound`` when there is none."""
        record = self.get(record_id)
        if record is None:
            raise NotFound(f"{self.kind} {record_id!r} not found{self.gone}", field="id")
        return record

    def same_request(self, earlier: RecordT, record: RecordT) -> bool:
        """Whether ``earlier``, found under ``record``'s id, answers the same request."""
        return earlier == record


StoreT = TypeVar("StoreT", bound=RedisStore)


class StoreProvider(Redis, Generic[StoreT]):
    """Injects one shared ``store_cls`` over nameko-redis's client (``REDIS_URIS`` under the
    service's name), named for ``CLIENT LIST``."""

    def __init__(self, store_cls: type[StoreT], **options: Any) -> None:
        super().__init__(None, **{**CLIENT_OPTIONS, **options})
        self.store_cls = store_cls
        self.store: StoreT | None = None

    def setup(self) -> None:
        self.key = self.container.service_name
        self.options.setdefault("client_name", self.key)
        try:
            super().setup()
        except KeyError:
            # nameko-redis would stop the container with a bare KeyError.
            raise SettingError(
                f"{REDIS_URIS_KEY} has no entry for {self.key!r}: "
                f"set {REDIS_URIS_KEY}: {{{self.key}: redis://...}} in the service's config"
            ) from None

    def start(self) -> None:
        # nameko-redis's, with Sentinel and replica acknowledgement (replication).
        config = self.container.config
        self.client = redis_client(self.redis_uri, self.key, config, self.options)
        self.store = self.store_cls(self.client, REDIS_KEY_PREFIX.read(config), config)
        STORE_MEMORY.clients[self.key] = self.client

    def stop(self) -> None:
        # nameko-redis only drops the client, whose sockets stay open until collected.
        if self.client is not None:
            self.client.connection_pool.disconnect()
        STORE_MEMORY.clients.pop(self.key, None)
        self.store = None
        super().stop()

    kill = stop  # nameko-redis's kill is its stop

    def get_dependency(self, worker_ctx: Any) -> StoreT:
        return self.store
