"""What an RPC hop costs: gateway latency per route against a baseline from the same run.

Starts the devstack isolated (own vhost, key prefix and port), then measures:
* sequential latency (median, p95) of each route; the baseline is `GET /health`,
  which never leaves the gateway, so `ratio` is the price of the RPC hops + Redis;
* throughput with concurrent clients, again against `/health` in the same run.

Usage: `nox -s bench` (or `python benchmarks/bench_gateway.py --requests 500`).
Numbers are for comparing runs on one machine, not promises.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
from isolated_stack import isolated_stack

WARMUP = 20


def timed(call: Callable[[], requests.Response], expected: int) -> float:
    started = time.perf_counter()
    response = call()
    elapsed = time.perf_counter() - started
    if response.status_code != expected:
        raise RuntimeError(f"{response.request.method} {response.url}: {response.status_code}")
    return elapsed


def sequential(call: Callable[[], requests.Response], expected: int, count: int) -> list[float]:
    for _ in range(WARMUP):
        timed(call, expected)
    return [timed(call, expected) for _ in range(count)]


def concurrent(url: str, clients: int, per_client: int) -> tuple[float, float]:
    """(requests per second, median latency) with `clients` keep-alive sessions."""

    def client() -> list[float]:
        with requests.Session() as session:
            return [timed(lambda: session.get(url, timeout=30), 200) for _ in range(per_client)]

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        latencies = [t for result in pool.map(lambda _: client(), range(clients)) for t in result]
    return len(latencies) / (time.perf_counter() - started), statistics.median(latencies)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:7.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="per sequential case")
    parser.add_argument("--clients", type=int, default=10, help="concurrent clients")
    args = parser.parse_args()

    with isolated_stack() as stack, requests.Session() as http:
        base = stack.url
        airport = http.post(f"{base}/airport", json={"airport": "Lisbon"}).json()["id"]
        other = http.post(f"{base}/airport", json={"airport": "Porto"}).json()["id"]
        trip = http.post(f"{base}/trip", json={"airport_from": airport, "airport_to": other})
        trip_id = trip.json()["id"]

        cases: list[tuple[str, Callable[[], requests.Response], int]] = [
            ("GET /health (baseline)", lambda: http.get(f"{base}/health"), 200),
            ("GET /airport/<id>", lambda: http.get(f"{base}/airport/{airport}"), 200),
            ("GET /airport/<unknown>", lambda: http.get(f"{base}/airport/nope"), 404),
            ("POST /airport", lambda: http.post(f"{base}/airport", json={"airport": "X"}), 201),
            ("GET /trip/<id>", lambda: http.get(f"{base}/trip/{trip_id}"), 200),
            (
                "POST /trip (2 hops deep)",
                lambda: http.post(
                    f"{base}/trip", json={"airport_from": airport, "airport_to": other}
                ),
                201,
            ),
            ("GET /ready (pings all)", lambda: http.get(f"{base}/ready"), 200),
        ]
        print(f"\nsequential, {args.requests} requests each after {WARMUP} warm-up")
        print(f"{'case':28} {'median ms':>10} {'p95 ms':>8} {'ratio':>7}")
        baseline = None
        for name, call, expected in cases:
            samples = sequential(call, expected, args.requests)
            median = statistics.median(samples)
            p95 = statistics.quantiles(samples, n=20)[-1]
            baseline = baseline or median
            print(f"{name:28} {ms(median):>10} {ms(p95):>8} {median / baseline:7.2f}")

        print(f"\nconcurrent, {args.clients} clients x 100 requests")
        print(f"{'case':28} {'req/s':>10} {'median ms':>10} {'ratio':>7}")
        rows = [
            ("GET /health (baseline)", f"{base}/health"),
            ("GET /airport/<id>", f"{base}/airport/{airport}"),
        ]
        base_rate = None
        for name, url in rows:
            rate, median = concurrent(url, args.clients, 100)
            base_rate = base_rate or rate
            print(f"{name:28} {rate:10.0f} {ms(median):>10} {rate / base_rate:7.2f}")
        stack.stop()


if __name__ == "__main__":
    main()
