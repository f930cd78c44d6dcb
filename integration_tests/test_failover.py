"""Failover: instances of one service die or stop, and no caller notices.

Nameko acknowledges an RPC message only after the worker has replied
(``RpcConsumer.handle_result``), so RabbitMQ redelivers the messages of an instance
that dies to the instances that remain (at-least-once); the gateway's RPC timeout
(10 s) leaves room for that. On SIGTERM, ``nameko run`` stops consuming and lets
running workers finish before it exits.
"""

from __future__ import annotations

import signal
import time
from concurrent.futures import ThreadPoolExecutor

import redis
import requests

from integration_tests.request_stream import RequestStream
from service_testing.waiting import wait_until

AIRPORT_NAMES = ("Amsterdam", "Berlin", "Copenhagen", "Dublin", "Edinburgh")
# While an instance is frozen, RabbitMQ keeps handing it its share of the stream
# (up to its prefetch of max_workers messages): those requests are in flight on
# it when it is killed, so redelivery is exercised on every run, not by luck.
FROZEN_SECONDS = 1.0
# Redis writes stall this long (CLIENT PAUSE WRITE), keeping one create in flight.
WRITES_PAUSED_MS = 2500


def create_airports(gateway_url: str) -> dict[str, object]:
    """Create the airports; return {path: the JSON body a GET of it must answer}."""
    expected: dict[str, object] = {}
    for name in AIRPORT_NAMES:
        response = requests.post(f"{gateway_url}/airport", json={"airport": name}, timeout=30)
        assert response.status_code == 201, response.text
        airport_id = response.json()["id"]
        expected[f"/airport/{airport_id}"] = {"id": airport_id, "name": name}
    return expected


def write_waiting(client: redis.Redis) -> bool:
    """True once a client's HSET (the create's store write) is held by the pause."""
    return any(c["cmd"] == "hset" and "b" in c["flags"] for c in client.client_list())


def test_sigkill_of_an_instance_mid_stream_loses_no_request(services, report):
    victim = services.start_rpc_service("airports")
    survivor = services.start_rpc_service("airports")
    # No record cache: every GET of the stream must reach an airports instance, or the
    # gateway would answer from memory and the kill would prove nothing.
    gateway = services.start_gateway(RECORD_CACHE_SIZE="0")
    expected = create_airports(gateway.url)

    with RequestStream(gateway.url, expected) as stream:
        wait_until(lambda: stream.count() >= 100, 60, "100 answered requests before the kill")
        victim.send(signal.SIGSTOP)
        time.sleep(FROZEN_SECONDS)
        killed_at = time.monotonic()
        victim.send(signal.SIGKILL)
        assert victim.wait(10) == -signal.SIGKILL
        after_kill = stream.count()
        wait_until(lambda: stream.count() >= after_kill + 100, 60, "100 requests after the kill")

    outcomes = stream.outcomes
    in_flight = [o for o in outcomes if o.started < killed_at < o.ended]
    wrong = [o for o in outcomes if not o.correct]
    server_errors = [o for o in outcomes if o.status >= 500]
    unanswered = [o for o in outcomes if o.status == 0]
    report(
        f"failover (SIGKILL): {len(outcomes)} requests, {len(in_flight)} in flight at the "
        f"kill, {len(wrong)} wrong, {len(server_errors)} 5xx, {len(unanswered)} lost"
    )
    assert survivor.alive_and(True)
    assert in_flight, "no request was in flight at the kill: the test proved nothing"
    assert (wrong, server_errors, unanswered) == ([], [], [])


def test_sigterm_lets_the_call_in_flight_finish(services, redis_url, report):
    instance = services.start_rpc_service("airports")
    gateway = services.start_gateway()
    client = redis.Redis.from_url(redis_url)
    try:
        with ThreadPoolExecutor(1) as pool:
            client.client_pause(WRITES_PAUSED_MS, all=False)  # reads go on, writes wait
            creating = pool.submit(
                requests.post, f"{gateway.url}/airport", json={"airport": "Slow"}, timeout=30
            )
            wait_until(lambda: write_waiting(client), 10, "the create to wait on Redis")
            signalled_at = time.monotonic()
            instance.send(signal.SIGTERM)
            time.sleep(0.5)
            still_running = instance.running()
            response = creating.result()
        answered_at = time.monotonic()
        exit_code = instance.wait(30)
    finally:
        client.client_unpause()
        client.close()

    report(
        f"graceful stop (SIGTERM): create answered {response.status_code} "
        f"{answered_at - signalled_at:.2f} s after SIGTERM; exit code {exit_code}"
    )
    assert still_running, "the instance exited at once instead of finishing its call"
    assert response.status_code == 201, response.text
    assert response.json()["name"] == "Slow"
    assert exit_code == 0
