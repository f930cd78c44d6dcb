"""A bounded in-process cache of records that never change once created: a kept record
answers without the RPC hop, most of what a read costs. Each is kept at most
``RECORD_CACHE_SECONDS``, so one removed behind the services' back (a restore of an older
backup) stops being served within that time. Readers share a cached record: never mutate
it. Green threads need no locking: ``get`` does not yield between lookup and store.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from cachetools import TTLCache
from nameko.extensions import DependencyProvider

from service_runtime.settings import Setting

RECORD_CACHE_SIZE = Setting(
    "RECORD_CACHE_SIZE",
    int,
    1000,
    "immutable records (airports, trips) each process keeps per kind; 0 turns caching off",
    minimum=0,
)
RECORD_CACHE_SECONDS = 300.0

T = TypeVar("T")


class Records:
    """Records by id: ``get(id, load)`` answers from memory or calls ``load`` once."""

    def __init__(
        self, size: int, seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._cache: TTLCache | None = TTLCache(size, seconds, timer=clock) if size > 0 else None

    def get(self, key: Hashable, load: Callable[[], T]) -> T:
        """The record for ``key``; ``load()`` (which raises when there is none) on a miss."""
        if self._cache is None:
            return load()
        record = self._cache.get(key)  # no record is None
        if record is None:
            record = self._cache[key] = load()
        return record

    def put(self, key: Hashable, record: Any) -> None:
        """Keep ``record``, which its service has just created and returned."""
        if self._cache is not None:
            self._cache[key] = record

    def __contains__(self, key: Hashable) -> bool:
        """Whether ``get(key, ...)`` would answer from memory now."""
        return self._cache is not None and key in self._cache


class RecordCache(DependencyProvider):
    """Injects this declaration's ``Records``, shared by the container's workers."""

    records: Records

    def setup(self) -> None:
        config = self.container.config
        self.records = Records(RECORD_CACHE_SIZE.read(config), RECORD_CACHE_SECONDS)

    def get_dependency(self, worker_ctx: Any) -> Records:
        return self.records
