"""Outages of RabbitMQ and of a service's Redis while a steady stream of requests runs.

What every client must see: an answer of 2xx, 503 or 504 (never a 500, never no
answer at all), none later than its bound, and only 2xx again within
``RECOVERY_SECONDS`` of the broker's return, without restarting the gateway or any
service. The bounds are the gateway's settings, configured far below their defaults:
an answer as late as a default would mean the setting was ignored.

After RabbitMQ's return, every consumer must be back by itself too: trips (and its own
RPC client), messages (and its event dispatcher) and the gateway's live-feed consumer.
A paused RabbitMQ (it takes connections and answers nothing) shows the publish timeout:
a stopped one refuses at once.

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

from gateway.routes.ops import READINESS_TIMEOUT
from integration_tests.brokers import DOCKER_MODE, RABBIT_API_PORT, RABBITMQ_IMAGE, REDIS_IMAGE
from integration_tests.live_feed import LiveFeed
from integration_tests.processes import Gateway, IntegrationLauncher
from integration_tests.request_stream import Outcome, RequestStream, create_airports
from service_runtime.rpc import RPC_PUBLISH_TIMEOUT, RPC_TIMEOUT
from service_testing.ports import free_port
from service_testing.redis_keys import deleting_keys
from service_testing.vhosts import throwaway_vhost
from service_testing.waiting import wait_until

# The gateway's bounds in these tests, each configured far below its default, and the
# longest a client may wait: under the default (an answer as late as that would mean the
# setting was ignored), which leaves a loaded machine most of the gap as room.
# A reply later than the RPC timeout is a 504.
RPC_TIMEOUT_SECONDS = 2.0
ANSWER_BOUND_SECONDS = RPC_TIMEOUT.default / 2
# A call the broker does not take within the publish timeout is a 503.
RPC_PUBLISH_TIMEOUT_SECONDS = 0.1
BROKER_DOWN_BOUND_SECONDS = RPC_PUBLISH_TIMEOUT.default
# /ready waits this long for each ping.
READINESS_TIMEOUT_SECONDS = 0.1
READINESS_BOUND_SECONDS = READINESS_TIMEOUT.default
READINESS_PROBES = 5
OUTAGE_SECONDS = 5.0
RECOVERY_SECONDS = 30.0
# This many correct answers in a row, to the end of the stream, is "serving again".
STEADY_ANSWERS = 40
PACE_SECONDS = 0.02
AIRPORT_NAMES = ("Oslo", "Porto", "Quito")
NEW_AIRPORTS = ("Reykjavik", "Riga")  # created after the outage: trips has never seen them
# The live feed's heartbeat: a reader notices often enough that it is told to stop.
STREAM_HEARTBEAT_SECONDS = 0.5
# An event sent before the gateway's feed consumer is back is lost: the check waits this
# long for each message it posts, then posts another (all within RECOVERY_SECONDS).
EVENT_WAIT_SECONDS = 3.0


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
def launcher(tmp_path, owned_brokers: OwnedBrokers) -> Iterator[IntegrationLauncher]:
    """Starts services on the owned brokers, in a vhost and key prefix of this test."""
    with (
        throwaway_vhost(owned_brokers.amqp_uri, owned_brokers.rabbit_api_uri, "outage_") as uri,
        deleting_keys(owned_brokers.redis_url, "outage:") as prefix,
    ):
        env = {
            "AMQP_URI": uri,
            "REDIS_URL": owned_brokers.redis_url,
            "REDIS_KEY_PREFIX": prefix,
            "RPC_TIMEOUT_SECONDS": str(RPC_TIMEOUT_SECONDS),
            "RPC_PUBLISH_TIMEOUT_SECONDS": str(RPC_PUBLISH_TIMEOUT_SECONDS),
            "READINESS_TIMEOUT_SECONDS": str(READINESS_TIMEOUT_SECONDS),
            "STREAM_HEARTBEAT_SECONDS": str(STREAM_HEARTBEAT_SECONDS),
            # The module posts messages from one address, more than a burst's worth.
            "MESSAGE_RATE_LIMIT_ENABLED": "false",
            # Every read must reach airports (and its Redis) through the broker, or the
            # gateway would answer the stream from memory and no outage would show.
            "RECORD_CACHE_SIZE": "0",
        }
        launcher = IntegrationLauncher(tmp_path, env)
        try:
            yield launcher
        finally:
            launcher.kill_all()


@pytest.fixture
def stack(launcher: IntegrationLauncher) -> Gateway:
    """airports and the gateway on the owned brokers."""
    launcher.start_rpc_service("airports")
    return launcher.start_gateway()


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
        slowest_503 = max(
            (o.ended - o.started for o in self.outcomes if o.status == 503), default=0
        )
        return (
            f"{fault}: stopping took {self.stopped_at - self.stopping_at:.1f} s, "
            f"down {self.restarted_at - self.stopped_at:.1f} s (start included); "
            f"{len(self.outcomes)} requests, by status {dict(sorted(statuses.items()))}; "
            f"slowest {slowest:.2f} s, slowest 503 {slowest_503:.2f} s; all 200 again "
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


def trip_created(gateway_url: str, body: dict[str, str], statuses: Counter[int]) -> bool:
    response = requests.post(f"{gateway_url}/trip", json=body, timeout=30)
    statuses[response.status_code] += 1
    return response.status_code == 201


def message_on_the_feed(gateway_url: str, feed: LiveFeed, statuses: Counter[int]) -> bool:
    """Post a message; True once the feed relays it (an event sent while the gateway's
    feed consumer was still away is lost: the next attempt posts another one)."""
    response = requests.post(
        f"{gateway_url}/messages", json={"message": "after the outage"}, timeout=30
    )
    statuses[response.status_code] += 1
    if response.status_code != 201:
        return False
    message_id = response.json()["id"]
    try:
        wait_until(lambda: feed.received(message_id), EVENT_WAIT_SECONDS, "the event")
    except TimeoutError:
        return False
    return True


def assert_every_consumer_reconnected(gateway_url: str, report: Callable[[str], None]) -> None:
    """trips, messages and the gateway's live-feed consumer serve again by themselves.

    trips creates a trip between airports it has never seen, so it asks airports over
    RPC (its own client reconnected too); a message posted reaches a live feed through
    messages' event and the gateway's broadcast handler."""
    started = time.monotonic()
    origin, destination = (a["id"] for a in create_airports(gateway_url, NEW_AIRPORTS).values())
    trip = {"airport_from": origin, "airport_to": destination}
    trip_statuses = keep_trying(
        lambda statuses: trip_created(gateway_url, trip, statuses), "trips to create a trip"
    )
    trips_after = time.monotonic() - started
    with LiveFeed(gateway_url) as feed:
        message_statuses = keep_trying(
            lambda statuses: message_on_the_feed(gateway_url, feed, statuses),
            "a message posted to reach the live feed",
        )
    report(
        f"after RabbitMQ's return: trips created a trip {trips_after:.1f} s after the "
        f"airports stream recovered (answers {dict(trip_statuses)}), a message reached the "
        f"live feed {time.monotonic() - started:.1f} s after (answers {dict(message_statuses)})"
    )


def keep_trying(attempt: Callable[[Counter[int]], bool], what: str) -> Counter[int]:
    """``attempt(statuses)`` until it returns True, within ``RECOVERY_SECONDS``; the HTTP
    statuses it saw on the way (in the failure, if it never succeeds)."""
    statuses: Counter[int] = Counter()
    try:
        wait_until(lambda: attempt(statuses), RECOVERY_SECONDS, what)
    except TimeoutError as late:
        raise AssertionError(f"{late}; answers seen: {dict(statuses)}") from None
    return statuses


def test_rabbitmq_outage_is_503_at_once_and_every_consumer_recovers_by_itself(
    stack, launcher, owned_brokers, report
):
    launcher.start_rpc_service("trips")
    launcher.start_rpc_service("messages")

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
    assert slowest_ready < READINESS_BOUND_SECONDS
    assert_every_consumer_reconnected(stack.url, report)


def test_a_frozen_rabbitmq_is_503_within_the_publish_timeout_and_recovers(
    stack, owned_brokers, report
):
    # Paused, the broker still takes TCP but answers nothing: a new call waits for the
    # publish confirm that never comes, so the configured publish timeout (not the
    # refused connection of a stopped broker) is what bounds its 503.
    container = owned_brokers.rabbit.get_wrapped_container()

    record = stream_through_outage(stack, container.pause, container.unpause)

    report(record.summary("RabbitMQ paused/unpaused"))
    assert_clients_saw_only_bounded_503_504(record, BROKER_DOWN_BOUND_SECONDS)


def test_redis_outage_is_503_and_recovers_by_itself(stack, owned_brokers, report):
    container = owned_brokers.redis.get_wrapped_container()

    record = stream_through_outage(stack, lambda: container.stop(timeout=5), container.start)

    report(record.summary("airports' Redis stopped/started"))
    assert_clients_saw_only_bounded_503_504(record, ANSWER_BOUND_SECONDS)
