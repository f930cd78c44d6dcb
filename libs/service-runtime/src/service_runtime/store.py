"""Redis-backed stores and the dependency provider that injects them.

A service's entrypoints never see Redis: they get a store object (``AirportStore``,
``TripStore`` ...) whose methods speak the service's language. Each store documents
its key layout; every key it writes starts with ``REDIS_KEY_PREFIX`` so tests and
side-by-side deployments can share one Redis database without touching each
other's data.

Config keys: ``REDIS_URIS`` (nameko-redis's mapping; the entry under the service's
name is its Redis, e.g. ``REDIS_URIS: {airports: ${REDIS_URL:...}}``) and
``REDIS_KEY_PREFIX`` (optional, default empty); Sentinel and replica acknowledgement:
``service_runtime.replication``.
"""

from __future__ import annotations

from typing import Any, Generic, NamedTuple, TypeVar

import redis
from nameko_redis import REDIS_URIS_KEY, Redis
from pydantic import BaseModel

from contracts.errors import IdempotencyKeyReused, ServiceUnavailable
from service_runtime.idempotency import create_hash_once, record_id
from service_runtime.replication import redis_client
from service_runtime.settings import Setting, SettingError
from service_runtime.store_metrics import STORE_MEMORY

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


class RedisStore:
    """Base of the services' stores: a Redis client plus a key namespace."""

    def __init__(self, client: redis.Redis, key_prefix: str, config: dict[str, Any]) -> None:
        self.client = client
        self.key_prefix = key_prefix
        self.config = config

    def key(self, *parts: str) -> str:
        """The full Redis key for ``parts`` (joined with ``:``) under this store's prefix."""
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


RecordT = TypeVar("RecordT", bound=BaseModel)


class Created(NamedTuple, Generic[RecordT]):
    record: RecordT
    new: bool  # False: the idempotency key's earlier create, found again


class RecordStore(RedisStore, Generic[RecordT]):
    """A store of one kind of record, each created once per idempotency key.

    ``create`` is the one idempotent create of every service: the record's id comes
    from the calling client's ``Idempotency-Key`` when there is one
    (``service_runtime.idempotency``), and the record is written only if that id is
    free. Any number of deliveries of the same call (a retry after a 504, a redelivery
    after the instance handling it died, two racing retries) so end with one record
    and answer with it; a key whose record differs (or is gone) was used for another
    request: ``IdempotencyKeyReused``.

    By default a record is the hash ``<kind>:<id>`` of its other fields (one ``HSET``,
    or one Lua script when a key makes it write-once); a store whose records live
    otherwise overrides ``new``, ``write``, ``get`` and ``same_request``.
    """

    service: str  # ids derive from (service, key): the same in every process and release
    kind: str
    model: type[RecordT]

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
            return create_hash_once(self.client, key, fields)
        self.client.hset(key, mapping=fields)
        return True

    def save(self, record: RecordT) -> None:
        """Store ``record`` under its own id (provider-state set-up uses fixed ids)."""
        self.write(record, only_if_new=False)

    def get(self, record_id: str) -> RecordT | None:
        fields = self.client.hgetall(self.key(self.kind, record_id))
        return self.model(id=record_id, **fields) if fields else None

    def same_request(self, earlier: RecordT, record: RecordT) -> bool:
        """Whether ``earlier``, found under ``record``'s id, answers the same request."""
        return earlier == record


StoreT = TypeVar("StoreT", bound=RedisStore)


class StoreProvider(Redis, Generic[StoreT]):
    """Injects one shared ``store_cls`` instance over nameko-redis's client.

    A subclass of ``nameko_redis.Redis``, so the connection is configured the way
    Nameko users expect: ``setup`` reads the URL from ``REDIS_URIS[key]`` (``key``
    defaults to the service's name) and ``start`` builds the client with
    ``options`` (``CLIENT_OPTIONS`` unless overridden: decoded strings, bounded
    socket and connect timeouts). Each connection names itself after ``key``
    (``CLIENT LIST`` shows which service holds it) unless ``client_name`` is given.

    What this adds to nameko-redis: the store wrapper (key prefix, the service's
    vocabulary) is what workers get, and stop/kill close the connection pool.
    A Redis outage becomes the typed ``ServiceUnavailable`` in
    ``service_runtime.entrypoints`` (the RPC entrypoint), which sees every command
    a worker ran, pipelines included.
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
