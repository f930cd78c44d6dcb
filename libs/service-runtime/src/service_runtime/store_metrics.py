"""The memory each service's Redis uses, next to its bound, read at every scrape.

Every Redis runs with ``maxmemory`` and ``noeviction`` (deploy/redis/redis.conf): once
full, it refuses writes (``StorageFull``, 503) instead of evicting records. These two
gauges let an alert fire well before that (``RedisMemoryNearlyFull``,
deploy/prometheus/alerts.yml):

* ``redis_memory_used_bytes{store}``: ``used_memory`` of ``INFO memory``;
* ``redis_memory_max_bytes{store}``: its ``maxmemory`` (0: unbounded).

``store`` is the name the store's connections carry (``StoreProvider``'s key: the
service's name). A Redis that does not answer is left out of that scrape (its outage
has its own signals).
"""

from __future__ import annotations

from collections.abc import Iterator

import redis
from prometheus_client.core import REGISTRY, GaugeMetricFamily
from prometheus_client.registry import Collector


class StoreMemory(Collector):
    """Asks each tracked Redis client for ``INFO memory`` when Prometheus scrapes."""

    def __init__(self) -> None:
        self.clients: dict[str, redis.Redis] = {}

    def track(self, store: str, client: redis.Redis) -> None:
        self.clients[store] = client

    def forget(self, store: str) -> None:
        self.clients.pop(store, None)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        used = GaugeMetricFamily(
            "redis_memory_used_bytes", "Memory the store's Redis uses", labels=["store"]
        )
        bound = GaugeMetricFamily(
            "redis_memory_max_bytes",
            "The store's Redis memory bound (maxmemory; 0: none); writes are refused there",
            labels=["store"],
        )
        for store, client in list(self.clients.items()):
            try:
                memory = client.info("memory")
            except redis.RedisError:
                continue
            used.add_metric([store], memory["used_memory"])
            bound.add_metric([store], memory["maxmemory"])
        yield used
        yield bound


STORE_MEMORY = StoreMemory()
REGISTRY.register(STORE_MEMORY)
