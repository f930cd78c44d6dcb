"""Redis-backed stores, the one idempotent create, and the provider that injects a store.

A service's entrypoints never see Redis: they get a store object (``AirportStore``,
``TripStore`` ...) whose methods speak the service's language. Each store documents
its key layout; every key it writes starts with ``REDIS_KEY_PREFIX`` so tests and
side-by-side deployments can share one Redis database without touching each
other's data. The connection is nameko-redis's ``REDIS_URIS`` entry under the service's
name (e.g. ``REDIS_URIS: {airports: ${REDIS_URL:...}}``); Sentinel and replica
acknowledgement: ``service_runtime.replication``.

**Creates that happen once per ``Idempotency-Key``, also when RabbitMQ redelivers
them.** The gateway passes a client's key along with the call as context data (it
travels in the message headers, so no RPC signature changes); ``RecordStore.create``
derives the new record's id from it instead of drawing a fresh one and writes the record
only if that id is still free. The key's lifetime is the gateway's business; a record
lives as long as the service keeps it.
"""

from __future__ import annotations

import uuid
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
# Bounded socket waits: a stalled Redis turns into an error, never a hung worker.
REDIS_SOCKET_TIMEOUT_SECONDS = 5
CLIENT_OPTIONS: dict[str, Any] = {
    "decode_responses": True,
    "socket_timeout": REDIS_SOCKET_TIMEOUT_SECONDS,
    "socket_connect_timeout": REDIS_SOCKET_TIMEOUT_SECONDS,
}
# A Redis refusing, timing out or short of replicas; and one at its memory bound
# (deploy/redis/redis.conf: ``noeviction``), which refuses writes with an OOM error.
STORAGE_OUTAGES = (redis.ConnectionError, redis.TimeoutError, UnreplicatedWrite)
STORAGE_FULL = redis.exceptions.OutOfMemoryError


def storage_error(error: BaseException, storage: str) -> ServiceUnavailable | None:
    """What a failure of ``storage`` reaches callers as (both 503): ``StorageFull`` or
    ``ServiceUnavailable``; None for an error that is not a storage failure."""
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

    def ping(self) -> bool:
        """True once Redis answers with its data loaded.

        Raises ``ServiceUnavailable`` while Redis is still reading its append-only
        log after a restart (``INFO persistence`` says ``loading:1``; INFO is one of
        the few commands Redis answers then): a service that reported ready now
        would serve an empty store. ``redis.RedisError`` when Redis does not answer.
        """
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


def record_id(service: str, idempotency_key: str | None) -> str:
    """A fresh id (32 hex digits), or without randomness the one ``idempotency_key`` gives."""
    if idempotency_key is None:
        return uuid.uuid4().hex
    return uuid.uuid5(RECORD_ID_NAMESPACE, f"{service}:{idempotency_key}").hex


RecordT = TypeVar("RecordT", bound=BaseModel)


class Created(NamedTuple, Generic[RecordT]):
    record: RecordT
    new: bool  # False: the idempotency key's earlier create, found again


class RecordStore(RedisStore, Generic[RecordT]):
    """A store of one kind of record, each created once per idempotency key.

    ``create`` is the one idempotent create of every service (see above). Any number of
    deliveries of the same call (a retry after a 504, a redelivery after the instance
    handling it died, two racing retries) so end with one record and answer with it; a
    key whose record differs (or is gone) was used for another request:
    ``IdempotencyKeyReused``.

    By default a record is the hash ``<kind>:<id>`` of its other fields (one ``HSET``,
    or one Lua script when a key makes it write-once); a store whose records live
    otherwise overrides ``new``, ``write``, ``get`` and ``same_request``.
    """

    service: str  # ids derive from (service, key): the same in every process and release
    kind: str
    model: type[RecordT]
    gone = ""  # why a record may be missing, for the NotFound message

    def create(self, idempotency_key: str | None = None, **fields: Any) -> Created[RecordT]:
        """A new record of ``fields``, stored; with a key, the one record that key created."""
        record = self.new(record_id(self.service, idempotency_key), **fields)
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

    def save(self, record: RecordT) -> None:
        """Store ``record`` under its own id (provider-state set-up uses fixed ids)."""
        self.write(record, only_if_new=False)

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
    """Injects one shared ``store_cls`` instance over nameko-redis's client (configured
    as Nameko users expect: ``REDIS_URIS[key]``, ``key`` defaulting to the service's name).

    It adds the store wrapper, bounded socket waits (``CLIENT_OPTIONS``), a connection
    name (``CLIENT LIST`` shows which service holds it), and closing the pool on stop.
    A storage failure becomes its typed error in the RPC entrypoint, which sees every
    command a worker ran, pipelines included.
    """

    def __init__(self, store_cls: type[StoreT], key: str | None = None, **options: Any) -> None:
        super().__init__(key, **{**CLIENT_OPTIONS, **options})
        self.store_cls = store_cls
        self.store: StoreT | None = None

    def setup(self) -> None:
        if self.key is None:
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
        # nameko-redis's start, with the client found through Sentinel when configured
        # and writes acknowledged by replicas (service_runtime.replication).
        config = self.container.config
        self.client = redis_client(self.redis_uri, self.key, config, self.options)
        self.store = self.store_cls(self.client, REDIS_KEY_PREFIX.read(config), config)
        STORE_MEMORY.track(self.key, self.client)

    def stop(self) -> None:
        self._close_pool()
        super().stop()

    def kill(self) -> None:
        self._close_pool()
        super().kill()

    def _close_pool(self) -> None:
        # nameko-redis only drops its reference to the client: the pool's sockets
        # would stay open until garbage collection, one idle Redis connection per
        # pooled socket for every stopped (or restarted) container.
        if self.client is not None:
            self.client.connection_pool.disconnect()
        STORE_MEMORY.forget(self.key)
        self.store = None

    def get_dependency(self, worker_ctx: Any) -> StoreT:
        return self.store
