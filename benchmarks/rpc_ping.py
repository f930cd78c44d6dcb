"""The RPC ceiling: sequential ``<service>.ping`` round trips over a raw nameko proxy.

Run by bench.py in a process of its own (eventlet monkey-patches it):
``python rpc_ping.py <amqp uri> <service> <calls>``; prints one JSON line of latencies.
"""

from __future__ import annotations

import eventlet

eventlet.monkey_patch()

import json  # noqa: E402 - after the monkey-patch, as nameko needs
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

from nameko.standalone.rpc import ClusterRpcProxy  # noqa: E402

WARMUP = 20


def main() -> None:
    amqp_uri, service, calls = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with ClusterRpcProxy({"AMQP_URI": amqp_uri}, timeout=10) as cluster:
        target = getattr(cluster, service)
        for _ in range(WARMUP):
            target.ping()
        samples = []
        for _ in range(calls):
            started = time.perf_counter()
            target.ping()
            samples.append(time.perf_counter() - started)
    centiles = statistics.quantiles(samples, n=100)
    print(
        json.dumps(
            {
                "calls": calls,
                "p50_us": statistics.median(samples) * 1e6,
                "p99_us": centiles[98] * 1e6,
                "calls_per_s": calls / sum(samples),
            }
        )
    )


if __name__ == "__main__":
    main()
