"""Prometheus metrics of a service's workers, of the RPC calls it makes and of its Redis's
memory, and the listener that serves them at ``http://METRICS_HOST:METRICS_PORT/metrics``.

``service_runtime.calls`` records the workers', ``service_runtime.rpc`` the calls'.
Metrics live in prometheus-client's process-wide registry, labelled by service, so
several containers in one process (the tests) share them without clashing.

Every Redis runs with ``maxmemory`` and ``noeviction`` (deploy/redis/redis.conf): once
full, it refuses writes (``StorageFull``, 503) instead of evicting records.
``redis_memory_used_bytes`` and ``redis_memory_max_bytes`` (its ``INFO memory``, read at
each scrape, labelled by the store's key: the service's name) let an alert fire well
before that (``RedisMemoryNearlyFull``, deploy/prometheus/alerts.yml). A Redis that does
not answer is left out of that scrape (its outage has its own signals).
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import Any

import eventlet
import eventlet.wsgi
import redis
from prometheus_client import REGISTRY, Counter, Histogram, make_wsgi_app
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from service_runtime.settings import Setting

METRICS_PORT = Setting(
    "METRICS_PORT",
    int,
    0,
    "port of the service's Prometheus listener (GET /metrics); 0: no listener",
    minimum=0,
    maximum=65535,
)
METRICS_HOST = Setting(
    "METRICS_HOST", str, "127.0.0.1", "address the metrics listener binds (0.0.0.0 in a container)"
)

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


def error_code(error: BaseException) -> str:
    return getattr(error, "code", None) or type(error).__name__


def outcome(error: BaseException | None) -> str:
    """What a worker or a call came to: ``ok``, or the error's code."""
    return "ok" if error is None else error_code(error)


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


class MetricsListener:
    """``GET /metrics`` on ``METRICS_HOST:METRICS_PORT`` in a thread of ``container``
    (nothing when the port is 0)."""

    def __init__(self, container: Any) -> None:
        self.container = container
        self.port = METRICS_PORT.read(container.config)
        self.host = METRICS_HOST.read(container.config)
        self.listener: Any = None
        self.server: Any = None

    def start(self) -> None:
        if not self.port:
            return
        # Bound at start, so a taken port stops the service with a clear error.
        self.listener = eventlet.listen((self.host, self.port))
        self.server = self.container.spawn_managed_thread(
            partial(eventlet.wsgi.server, self.listener, make_wsgi_app(), log_output=False),
            identifier="metrics listener",
        )

    def stop(self) -> None:
        if self.server is not None:
            self.server.kill()
            self.server = None
        if self.listener is not None:
            self.listener.close()
            self.listener = None
