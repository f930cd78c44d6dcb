"""Redis-backed stores and the dependency provider that injects them.

A service's entrypoints never see Redis: they get a store object (``AirportStore``,
``TripStore`` ...) whose methods speak the service's language. Each store documents
its key layout; every key it writes starts with ``REDIS_KEY_PREFIX`` so tests and
side-by-side deployments can share one Redis database without touching each
other's data.

Config keys: ``REDIS_URL`` (required; each service its own database) and
``REDIS_KEY_PREFIX`` (optional, default empty).
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

import redis
from nameko.extensions import DependencyProvider

from service_runtime.settings import Setting

REDIS_URL_KEY = "REDIS_URL"
REDIS_KEY_PREFIX = Setting(
    "REDIS_KEY_PREFIX",
    str,
    "",
    "prefix of every Redis key the service writes (tests, side-by-side)",
)
# Bounded socket waits: a stalled Redis turns into an error, never a hung worker.
REDIS_SOCKET_TIMEOUT_SECONDS = 5


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
        """True when Redis answers; raises ``redis.RedisError`` otherwise."""
        return bool(self.client.ping())


StoreT = TypeVar("StoreT", bound=RedisStore)


class StoreProvider(DependencyProvider, Generic[StoreT]):
    """Injects one shared ``store_cls`` instance, built from the container's config.

    The Redis client (and its connection pool) lives from ``start`` to ``stop``;
    redis-py's pool is safe to share between the container's green threads.
    """

    def __init__(self, store_cls: type[StoreT]) -> None:
        self.store_cls = store_cls
        self.store: StoreT | None = None

    def start(self) -> None:
        config = self.container.config
        client = redis.Redis.from_url(
            config[REDIS_URL_KEY],
            decode_responses=True,
            socket_timeout=REDIS_SOCKET_TIMEOUT_SECONDS,
            socket_connect_timeout=REDIS_SOCKET_TIMEOUT_SECONDS,
        )
        self.store = self.store_cls(client, REDIS_KEY_PREFIX.read(config), config)

    def stop(self) -> None:
        if self.store is not None:
            self.store.client.close()
            self.store = None

    def kill(self) -> None:
        self.stop()

    def get_dependency(self, worker_ctx: Any) -> StoreT:
        return self.store
