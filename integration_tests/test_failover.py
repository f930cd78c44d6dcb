"""Failover: instances of one service die or stop, and no caller notices.

Nameko acknowledges an RPC message only after the worker has replied
(``RpcConsumer.handle_result``), so RabbitMQ redelivers the messages of an instance
that dies to the instances that remain (at-least-once); the gateway's RPC timeout
(10 s) leaves room for that. On SIGTERM, ``nameko run`` stops consuming and lets
running workers finish before it exits.

At-least-once means a create can run twice: the redelivered original after the client
already retried it, or after its instance died between the store write and the reply
(a test-only airports that SIGKILLs itself there, integration_tests/dying_airports.py).
With an ``Idempotency-Key`` both runs end at the same record (the service derives the
id from the key); without one, such a retry may leave a second record behind.
"""

from __future__ import annotations

import contextlib
import signal
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote, urlsplit

import redis
import requests

from integration_tests.brokers import rpc_consumers
from integration_tests.request_stream import RequestStream, create_airports
from integration_tests.sockets import unread_bytes_from
from service_testing.client_threads import ClientThreads
from service_testing.waiting import wait_until

AIRPORT_NAMES = ("Amsterdam", "Berlin", "Copenhagen", "Dublin", "Edinburgh")
# While an instance is frozen, RabbitMQ keeps handing it its share of the stream
# (up to its prefetch of max_workers messages): the kill waits until the frozen process
# has unread bytes from the broker and a create it holds has been retried, so redelivery
# and the keys are exercised on every run, not by luck.
HOLD_TIMEOUT_SECONDS = 30
# Redis writes stall (CLIENT PAUSE WRITE), keeping one create in flight until the test
# unpauses them; this long at most.
WRITES_PAUSED_MS = 10000
# The creating clients' gateway gives up on a call this soon, so a create held by the
# frozen instance is retried (same key) long before RabbitMQ redelivers the original.
IMPATIENT_RPC_TIMEOUT_SECONDS = "0.5"
CREATE_ATTEMPTS = 20
# Room for an instance to die and another to start before the gateway gives up a call.
PATIENT_RPC_TIMEOUT_SECONDS = "60"


class KeyedCreates(ClientThreads):
    """Clients that POST /airport with a fresh Idempotency-Key each, retrying a 503/504
    with the same key (as a well-behaved client does) until it gets its 201."""

    def __init__(self, gateway_url: str, clients: int = 2) -> None:
        super().__init__(clients)
        self.gateway_url = gateway_url
        self.created: dict[str, str] = {}  # key -> airport id
        self.statuses: Counter[int] = Counter()
        self.failed: list[str] = []

    def run_client(self, client: int) -> None:
        with requests.Session() as session:
            while not self.stopping.is_set():
                self._create(session, uuid.uuid4().hex)

    def retried(self) -> bool:
        """A create timed out (504) and was retried with its key."""
        with self.lock:
            return self.statuses[504] > 0

    def _create(self, session: requests.Session, key: str) -> None:
        for _ in range(CREATE_ATTEMPTS):
            try:
                response = session.post(
                    f"{self.gateway_url}/airport",
                    json={"airport": f"Keyed {key[:8]}"},
                    headers={"Idempotency-Key": key},
                    timeout=30,
                )
                status = response.status_code
            except requests.RequestException:
                status = 0
            with self.lock:
                self.statuses[status] += 1
                if status == 201:
                    self.created[key] = response.json()["id"]
                    return
            if status not in (0, 503, 504):
                break
        with self.lock:
            self.failed.append(key)


def redelivered_count(rabbit_api_uri: str, amqp_uri: str, queue: str) -> int:
    """How many messages RabbitMQ has redelivered on ``queue`` of ``amqp_uri``'s vhost."""
    vhost = quote(urlsplit(amqp_uri).path.lstrip("/"), safe="")
    response = requests.get(f"{rabbit_api_uri}/api/queues/{vhost}/{queue}", timeout=10)
    response.raise_for_status()
    return response.json().get("message_stats", {}).get("redeliver", 0)


def airport_records(redis_url: str, prefix: str) -> int:
    client = redis.Redis.from_url(redis_url)
    try:
        return sum(1 for _ in client.scan_iter(match=f"{prefix}airport:*", count=1000))
    finally:
        client.close()


def write_waiting(client: redis.Redis) -> bool:
    """True once a client's HSET (the create's store write) is held by the pause."""
    return any(c["cmd"] == "hset" and "b" in c["flags"] for c in client.client_list())


def test_sigkill_of_an_instance_mid_stream_loses_no_request(
    services, brokers, amqp_uri, redis_url, redis_key_prefix, report
):
    victim = services.start_rpc_service("airports")
    survivor = services.start_rpc_service("airports")
    broker_port = urlsplit(amqp_uri).port
    # No record cache: every GET of the stream must reach an airports instance, or the
    # gateway would answer from memory and the kill would prove nothing.
    gateway = services.start_gateway(RECORD_CACHE_SIZE="0")
    impatient = services.start_gateway(RPC_TIMEOUT_SECONDS=IMPATIENT_RPC_TIMEOUT_SECONDS)
    expected = create_airports(gateway.url, AIRPORT_NAMES)

    with RequestStream(gateway.url, expected) as stream, KeyedCreates(impatient.url) as creates:
        wait_until(lambda: stream.count() >= 100, 60, "100 answered requests before the kill")
        frozen_at = time.monotonic()
        victim.send(signal.SIGSTOP)
        wait_until(
            lambda: unread_bytes_from(victim.pid, broker_port) > 0 and creates.retried(),
            HOLD_TIMEOUT_SECONDS,
            "requests held by the frozen instance, a create among them retried",
        )
        killed_at = time.monotonic()
        victim.send(signal.SIGKILL)
        assert victim.wait(10) == -signal.SIGKILL
        after_kill = stream.count()
        wait_until(lambda: stream.count() >= after_kill + 100, 60, "100 requests after the kill")

    outcomes = stream.outcomes
    # Only the victim could hold a request from before the freeze until after the kill:
    # such a request was answered by the survivor from a redelivered message. RabbitMQ's
    # own count says the same for any request it handed the victim (its statistics
    # arrive every few seconds, hence the wait).
    held = [o for o in outcomes if o.started < frozen_at and o.ended > killed_at]
    redelivered = 0

    def redelivery_seen() -> bool:
        nonlocal redelivered
        redelivered = redelivered_count(brokers.rabbit_api_uri, amqp_uri, "rpc-airports")
        return bool(held) or redelivered > 0

    # Asserted below, once the figures are reported.
    with contextlib.suppress(TimeoutError):
        wait_until(redelivery_seen, 20, "RabbitMQ to count a redelivery on rpc-airports")
    wrong = [o for o in outcomes if not o.correct]
    server_errors = [o for o in outcomes if o.status >= 500]
    unanswered = [o for o in outcomes if o.status == 0]
    records = airport_records(redis_url, redis_key_prefix)
    report(
        f"failover (SIGKILL): {len(outcomes)} GETs, {len(held)} held across the "
        f"freeze and kill, {redelivered} redelivered by RabbitMQ, {len(wrong)} wrong, "
        f"{len(server_errors)} 5xx, "
        f"{len(unanswered)} lost; keyed POSTs by status "
        f"{dict(sorted(creates.statuses.items()))}, "
        f"{len(creates.created)} created, {records - len(expected)} records"
    )
    assert survivor.alive_and(True)
    assert held or redelivered > 0, "nothing the victim held was redelivered: proved nothing"
    assert (wrong, server_errors, unanswered) == ([], [], [])
    assert creates.failed == []
    assert creates.statuses[504] > 0, "no create was retried: the keys proved nothing"
    # Every key made exactly one record, although retried calls ran twice.
    assert len(set(creates.created.values())) == len(creates.created)
    assert records == len(expected) + len(creates.created)


def test_sigterm_lets_the_call_in_flight_finish(services, amqp_uri, redis_url, report):
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
            # It has acted on the signal once it stops consuming; the create is still
            # held by the pause then, so "still running" means "finishing its call".
            wait_until(
                lambda: rpc_consumers(amqp_uri, "airports") == 0, 10, "airports to stop consuming"
            )
            still_running = instance.running() and write_waiting(client)
            client.client_unpause()
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


def test_a_keyed_create_redelivered_after_its_instance_died_makes_one_record(
    services, brokers, amqp_uri, redis_url, redis_key_prefix, report
):
    # The only airports instance at first stores the airport, then dies before its
    # reply and acknowledgement: RabbitMQ keeps the call and redelivers it to the
    # instance started next, which runs the create again with the same key.
    dying = services.start_rpc_service("airports-dying-after-write")
    gateway = services.start_gateway(RPC_TIMEOUT_SECONDS=PATIENT_RPC_TIMEOUT_SECONDS)
    key, name = uuid.uuid4().hex, "Redelivered"
    with ThreadPoolExecutor(1) as pool:
        creating = pool.submit(
            requests.post,
            f"{gateway.url}/airport",
            json={"airport": name},
            headers={"Idempotency-Key": key},
            timeout=float(PATIENT_RPC_TIMEOUT_SECONDS) + 30,
        )
        assert dying.wait(30) == -signal.SIGKILL
        records_when_it_died = airport_records(redis_url, redis_key_prefix)
        services.start_rpc_service("airports")
        response = creating.result()

    redelivered = 0

    def redelivery_counted() -> bool:
        nonlocal redelivered
        redelivered = redelivered_count(brokers.rabbit_api_uri, amqp_uri, "rpc-airports")
        return redelivered > 0

    wait_until(redelivery_counted, 30, "RabbitMQ to count the redelivery on rpc-airports")
    records = airport_records(redis_url, redis_key_prefix)
    report(
        f"redelivery after the work: {records_when_it_died} record when the instance died, "
        f"{redelivered} redelivered, answer {response.status_code}, {records} record after"
    )
    assert records_when_it_died == 1  # the work was done before the death
    assert response.status_code == 201, response.text
    assert response.json()["name"] == name
    assert records == 1
