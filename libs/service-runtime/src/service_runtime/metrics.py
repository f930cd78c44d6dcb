"""Prometheus metrics of a service's workers, of the RPC calls it makes and of its Redis's
memory (README, "API description, metrics and logs"), in the process-wide registry,
labelled by service: several containers in one process (the tests) share them.
"""

from __future__ import annotations

from collections.abc import Iterator

import redis
from prometheus_client import REGISTRY, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

# Seconds; from a cache hit to the default RPC timeout.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

ENTRYPOINT_SECONDS = Histogram(
    "nameko_entrypoint_duration_seconds",
    "Time from worker start to result, per service and entrypoint method",
    ["service", "method"],
    buckets=LATENCY_BUCKETS,
)
ENTRYPOINT_ERRORS = Counter(
    "nameko_entrypoint_errors_total",
    "Workers that ended in an error, per service, entrypoint method and error code",
    ["service", "method", "error"],
)
RPC_CLIENT_SECONDS = Histogram(
    "nameko_rpc_client_duration_seconds",
    "RPC calls this process made, per target service, method and outcome (ok or error code)",
    ["service", "method", "outcome"],
    buckets=LATENCY_BUCKETS,
)


def outcome(error: BaseException | None) -> str:
    """What a worker or a call came to: ``ok``, or the error's code."""
    if error is None:
        return "ok"
    return getattr(error, "code", None) or type(error).__name__


class StoreMemory(Collector):
    """Asks each store's Redis client (by store key) for ``INFO memory`` at each scrape; a
    Redis that does not answer is left out (its outage has its own signals)."""

    def __init__(self) -> None:
        self.clients: dict[str, redis.Redis] = {}

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
