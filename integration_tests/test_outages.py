"""Outages of RabbitMQ and of a service's Redis while a steady stream of requests runs.

What every client must see: an answer of 2xx, 503 or 504 (never a 500, never no
answer at all), none later than its bound, and only 2xx again within
``RECOVERY_SECONDS`` of the broker's return, without restarting the gateway or any
service.

The brokers here are containers started for this module alone (fixed host ports, so a
restarted container is found where it was): stopping the machine's brokers, or the
session's, would break every other test using them.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
import requests
from testcontainers.community.rabbitmq import RabbitMqContainer
from testcontainers.community.redis import RedisContainer

from integration_tests.brokers import DOCKER_MODE, RABBIT_API_PORT, RABBITMQ_IMAGE, REDIS_IMAGE
from integration_tests.processes import Gateway, IntegrationLauncher
from integration_tests.request_stream import Outcome, RequestStream, create_airports
from service_testing.ports import free_port
from service_testing.redis_keys import deleting_keys
from service_testing.vhosts import throwaway_vhost
from service_testing.waiting import wait_until

# The gateway's RPC timeout in these tests: a reply later than this is a 504.
RPC_TIMEOUT_SECONDS = 3.0
# No answer may take longer: the RPC timeout plus room for a loaded machine.
ANSWER_BOUND_SECONDS = RPC_TIMEOUT_SECONDS + 1.5
# An answer that the broker is unreachable must come well before the RPC timeout.
BROKER_DOWN_BOUND_SECONDS = 2.0
# /ready's own bound here; its default (1 s) is what an ignored setting would give.
READINESS_TIMEOUT_SECONDS = 0.3
READINESS_PROBES = 5
OUTAGE_SECONDS = 5.0
RECOVERY_SECONDS = 30.0
# This many correct answers in a row, to the end of the stream, is "serving again".
STEADY_ANSWERS = 40
PACE_SECONDS = 0.02
AIRPORT_NAMES = ("Oslo", "Porto", "Quito")


@dataclass(frozen=True)
class OwnedBrokers:
    rabbit: RabbitMqContainer
    redis: RedisContainer
    amqp_uri: str
    rabbit_api_uri: str
    redis_url: str


@pytest.fixture(scope="module")
def owned_brokers(integration_mode: str) -> Iterator[OwnedBrokers]:
    if integration_mode != DOCKER_MODE:
        pytest.skip("the outage tests stop brokers of their own: they need a Docker engine")
    rabbit = (
        RabbitMqContainer(RABBITMQ_IMAGE)
        .with_bind_ports(5672, free_port())
        .with_bind_ports(RABBIT_API_PORT, free_port())
    )
    redis = RedisContainer(REDIS_IMAGE).with_bind_ports(6379, free_port())
    with rabbit, redis:
        host = rabbit.get_container_host_ip()
        yield OwnedBrokers(
            rabbit=rabbit,
            redis=redis,
            amqp_uri=f"pyamqp://guest:guest@{host}:{rabbit.get_exposed_port(5672)}/",
            rabbit_api_uri=f"http://guest:guest@{host}:{rabbit.get_exposed_port(RABBIT_API_PORT)}",
            redis_url=f"redis://{host}:{redis.get_exposed_port(6379)}/0",
        )


@pytest.fixture
def stack(tmp_path, owned_brokers: OwnedBrokers) -> Iterator[Gateway]:
    """airports and the gateway on the owned brokers, with known airports stored."""
    with (
        throwaway_vhost(owned_brokers.amqp_uri, owned_brokers.rabbit_api_uri, "outage_") as uri,
        deleting_keys(owned_brokers.redis_url, "outage:") as prefix,
    ):
        env = {
            "AMQP_URI": uri,
            "REDIS_URL": owned_brokers.redis_url,
            "REDIS_KEY_PREFIX": prefix,
            "RPC_TIMEOUT_SECONDS": str(RPC_TIMEOUT_SECONDS),
            "READINESS_TIMEOUT_SECONDS": str(READINESS_TIMEOUT_SECONDS),
            # Every read must reach airports (and its Redis) through the broker, or the
            # gateway would answer the stream from memory and no outage would show.
            "RECORD_CACHE_SIZE": "0",
        }
        launcher = IntegrationLauncher(tmp_path, env)
        try:
            launcher.start_rpc_service("airports")
            yield launcher.start_gateway()
        finally:
            launcher.kill_all()


@dataclass(frozen=True)
class OutageRecord:
    outcomes: list[Outcome]
    stopping_at: float  # the stop command was given
    stopped_at: float  # it returned: the broker is down
    restarted_at: float  # the start command returned
    recovered_at: float  # start of the run of correct answers that lasts to the end

    def during(self) -> list[Outcome]:
        """Requests that started while the broker was down or coming back."""
        return [o for o in self.outcomes if self.stopping_at <= o.started < self.recovered_at]

    def summary(self, fault: str) -> str:
        statuses = Counter(o.status for o in self.outcomes)
        slowest = max(o.ended - o.started for o in self.outcomes)
        return (
            f"{fault}: stopping took {self.stopped_at - self.stopping_at:.1f} s, "
            f"down {self.restarted_at - self.stopped_at:.1f} s (start included); "
            f"{len(self.outcomes)} requests, by status {dict(sorted(statuses.items()))}; "
            f"slowest {slowest:.2f} s; all 200 again "
            f"{max(0.0, self.recovered_at - self.restarted_at):.1f} s after the restart"
        )


def recovered_since(outcomes: list[Outcome]) -> float | None:
    """When the final run of at least ``STEADY_ANSWERS`` correct answers began, if any."""
    ordered = sorted(outcomes, key=lambda o: o.started)
    run = 0
    for outcome in reversed(ordered):
        if not outcome.correct:
            break
        run += 1
    return ordered[-run].started if run >= STEADY_ANSWERS else None


def stream_through_outage(
    gateway: Gateway,
    stop: Callable[[], None],
    start: Callable[[], None],
    while_down: Callable[[], None] = lambda: None,
) -> OutageRecord:
    expected = create_airports(gateway.url, AIRPORT_NAMES)
    with RequestStream(gateway.url, expected, pace=PACE_SECONDS) as stream:
        wait_until(lambda: stream.count() >= STEADY_ANSWERS, 30, "answers before the outage")
        stopping_at = time.monotonic()
        stop()
        stopped_at = time.monotonic()
        while_down()
        time.sleep(max(0.0, stopped_at + OUTAGE_SECONDS - time.monotonic()))  # the outage
        start()
        restarted_at = time.monotonic()
        wait_until(
            lambda: recovered_since(stream.since(restarted_at)) is not None,
            RECOVERY_SECONDS + 10,
            f"{STEADY_ANSWERS} correct answers in a row after the restart",
        )
    outcomes = stream.outcomes
    recovered_at = recovered_since(outcomes)
    assert recovered_at is not None
    return OutageRecord(outcomes, stopping_at, stopped_at, restarted_at, recovered_at)


def assert_clients_saw_only_bounded_503_504(record: OutageRecord, unavailable_bound: float):
    outcomes = record.outcomes
    wrong_status = [o for o in outcomes if not o.correct and o.status not in (503, 504)]
    late = [o for o in outcomes if o.ended - o.started > ANSWER_BOUND_SECONDS]
    slow_503 = [o for o in outcomes if o.status == 503 and o.ended - o.started > unavailable_bound]
    assert wrong_status == [], (
        f"answers other than 200/503/504: {Counter(o.status for o in wrong_status)}"
    )
    assert late == [], f"{len(late)} answers later than {ANSWER_BOUND_SECONDS} s"
    assert slow_503 == [], f"{len(slow_503)} 503s later than {unavailable_bound} s"
    assert any(o.status == 503 for o in record.during()), "no client saw the outage"
    assert record.recovered_at - record.restarted_at < RECOVERY_SECONDS


def test_rabbitmq_outage_is_503_at_once_and_recovers_by_itself(stack, owned_brokers, report):
    def rabbitmqctl(command: str) -> Callable[[], None]:
        def run() -> None:
            exit_code, output = owned_brokers.rabbit.exec(["rabbitmqctl", command])
            assert exit_code == 0, output

        return run

    readiness: list[tuple[int, float]] = []

    def probe_readiness() -> None:
        for _ in range(READINESS_PROBES):
            started = time.monotonic()
            response = requests.get(f"{stack.url}/ready", timeout=30)
            readiness.append((response.status_code, time.monotonic() - started))

    record = stream_through_outage(
        stack, rabbitmqctl("stop_app"), rabbitmqctl("start_app"), probe_readiness
    )

    slowest_ready = max(seconds for _, seconds in readiness)
    report(record.summary("RabbitMQ stop_app/start_app"))
    report(f"/ready while RabbitMQ is down: {readiness}; slowest {slowest_ready:.2f} s")
    assert_clients_saw_only_bounded_503_504(record, BROKER_DOWN_BOUND_SECONDS)
    assert {status for status, _ in readiness} == {503}
    # Well before the 1 s default: the configured bound is what holds.
    assert slowest_ready < READINESS_TIMEOUT_SECONDS + 0.4


def test_redis_outage_is_503_and_recovers_by_itself(stack, owned_brokers, report):
    container = owned_brokers.redis.get_wrapped_container()

    record = stream_through_outage(stack, lambda: container.stop(timeout=5), container.start)

    report(record.summary("airports' Redis stopped/started"))
    assert_clients_saw_only_bounded_503_504(record, ANSWER_BOUND_SECONDS)
