"""Nothing lost: every service's Redis keeps what it acknowledged (compose.yaml's named
volumes, deploy/redis/redis.conf's append-only log) through a restart, a down/up, a
SIGKILL and a backup -> ``down -v`` -> restore (tools/redis_backup.py). (``/ready``
while a Redis loads: services/gateway/tests/test_ready_while_redis_loads.py.)

The compose tests share one stack (building and starting it is most of their time).
Each writes its own airports, trips and messages through the gateway, one airport with
an ``Idempotency-Key`` (its answer kept in the gateway's Redis) and spends a token of its
client's rate-limit bucket (also there), does one thing to the Redis containers, then
checks that the data came back:

* read straight from every Redis, never through the gateway: it keeps every airport and
  trip it created in memory and would answer for a Redis that came back empty;
* every key each Redis held just before the fault is back with the same value, and a
  key that expires (messages, idempotency answers, rate-limit buckets) with the time it
  had left, less the time that passed: not reset, not made permanent;
* every airport and trip the module has written so far is there, and every message
  with its remaining time to live matching the expiry it was created with;
* every ``Idempotency-Key`` the module used still replays its first answer.

The stack runs with compose.persistence.yaml on top of compose.yaml: long message and
rate-limit lifetimes, so nothing expires during the module and every check can fail.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
import requests

from integration_tests.compose import ComposeStack, running_compose_stack
from integration_tests.redis_contents import Contents, read_redis
from service_testing.services import REPO_ROOT
from service_testing.waiting import wait_until

AIRPORTS_PER_TEST = 30  # and one trip between each two consecutive airports: 29
MESSAGES_PER_TEST = 2  # the rate limit's burst (10) covers the module's four tests
REDIS_PREFIX = "redis-"  # compose.yaml: every service's Redis is redis-<service>
STACK_FILES = "compose.yaml:integration_tests/compose.persistence.yaml"
BACKUP_TOOL = REPO_ROOT / "tools" / "redis_backup.py"
RECOVERY_TIMEOUT_SECONDS = 90
# The crash case: the Redis dies this long after the last acknowledged write.
SECONDS_BEFORE_KILL = 2
# PTTL is whole milliseconds: room for rounding on either side.
TTL_ROUNDING_MS = 2
# A message's expiry is the messages service's clock plus its TTL; Redis starts the TTL
# when the save reaches it, at most this much later.
SAVE_MS = 1000
# Where each service's store keeps its records (its store module documents the layout).
AIRPORT_KEY, TRIP_KEY, MESSAGE_KEY = "airport:", "trip:", "message:"
IDEMPOTENCY_KEY, RATE_LIMIT_KEY = "idempotency:", "ratelimit:messages:"


@dataclass
class Written:
    """Everything the module wrote through the gateway, as it must come back."""

    airports: dict[str, dict[str, str]] = field(default_factory=dict)  # id -> stored hash
    trips: dict[str, dict[str, str]] = field(default_factory=dict)
    messages: dict[str, dict] = field(default_factory=dict)  # id -> the 201 answer
    keyed: dict[str, tuple[dict, dict]] = field(default_factory=dict)  # key -> (body, answer)


@pytest.fixture(scope="module")
def stack(integration_mode: str, report) -> Iterator[ComposeStack]:
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("COMPOSE_FILE", STACK_FILES)  # compose reads it; paths from REPO_ROOT
        with running_compose_stack(integration_mode, monkeypatch, report) as running:
            yield running


@pytest.fixture(scope="module")
def written() -> Written:
    return Written()


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def created(response: requests.Response) -> dict:
    assert response.status_code == 201, response.text
    return response.json()


def write_records(http: requests.Session, api: str, written: Written) -> int:
    """Airports, the trips between them, messages and one keyed create, through the
    gateway; how many records that made."""
    tag = uuid.uuid4().hex[:8]
    airports = []
    for number in range(AIRPORTS_PER_TEST):
        name = f"Persisted {tag} {number}"
        airport = created(http.post(f"{api}/airport", json={"airport": name}, timeout=10))
        airports.append(airport["id"])
        written.airports[airport["id"]] = {"name": name}
    for origin, destination in itertools.pairwise(airports):
        body = {"airport_from": origin, "airport_to": destination}
        trip = created(http.post(f"{api}/trip", json=body, timeout=10))
        written.trips[trip["id"]] = body
    for number in range(MESSAGES_PER_TEST):
        body = {"message": f"persisted {tag} {number}"}
        message = created(http.post(f"{api}/messages", json=body, timeout=10))
        written.messages[message["id"]] = message
    key, body = f"persistence-{tag}", {"airport": f"Keyed {tag}"}
    airport = created(
        http.post(f"{api}/airport", json=body, headers={"Idempotency-Key": key}, timeout=10)
    )
    written.airports[airport["id"]] = {"name": body["airport"]}
    written.keyed[key] = (body, airport)
    return 2 * AIRPORTS_PER_TEST - 1 + MESSAGES_PER_TEST + 1


def wait_ready(http: requests.Session, api: str) -> None:
    def ready() -> bool:
        try:
            return http.get(f"{api}/ready", timeout=5).status_code == 200
        except requests.RequestException:
            return False

    wait_until(ready, RECOVERY_TIMEOUT_SECONDS, "the gateway's /ready")


def read_every_redis(stack: ComposeStack) -> dict[str, Contents]:
    return {service: read_redis(stack, service) for service in stack.services(REDIS_PREFIX)}


def assert_kept(before: Contents, after: Contents, service: str) -> None:
    """Every key ``before`` held is back with its value; one that expires, with the time
    it had left less the time between the two reads (each read is one instant within
    its ``read_from``..``read_until``)."""
    lost = sorted(set(before.entries) - set(after.entries))
    assert lost == [], f"{service}: {len(lost)} keys lost, e.g. {lost[:3]}"
    changed = [k for k, e in before.entries.items() if after.entries[k].value != e.value]
    assert changed == [], f"{service}: {len(changed)} values changed, e.g. {changed[:3]}"
    for key, entry in before.entries.items():
        if entry.ttl_ms < 0:
            assert after.entries[key].ttl_ms < 0, f"{service}: {key} expires now"
            continue
        passed_at_least = after.read_from - before.read_until
        passed_at_most = after.read_until - before.read_from
        assert (
            entry.ttl_ms - passed_at_most - TTL_ROUNDING_MS
            <= after.entries[key].ttl_ms
            <= entry.ttl_ms - passed_at_least + TTL_ROUNDING_MS
        ), f"{service}: {key} had {entry.ttl_ms} ms left, now {after.entries[key].ttl_ms} ms"


def assert_everything_written_is_stored(written: Written, redis: dict[str, Contents]) -> None:
    airports = redis["redis-airports"].starting(AIRPORT_KEY)
    assert {key: airports[key].value for key in airports} == {
        AIRPORT_KEY + airport_id: stored for airport_id, stored in written.airports.items()
    }
    trips = redis["redis-trips"].starting(TRIP_KEY)
    assert {key: trips[key].value for key in trips} == {
        TRIP_KEY + trip_id: stored for trip_id, stored in written.trips.items()
    }
    messages = redis["redis-messages"]
    for message_id, answer in written.messages.items():
        stored = messages.entries[MESSAGE_KEY + message_id]
        assert json.loads(stored.value) == {
            field: answer[field] for field in ("text", "created", "expires")
        }
        # The time left is what remains of the expiry the message was created with (Redis
        # set it a moment after the service read its clock for ``expires``).
        assert (
            answer["expires"] - messages.read_until - TTL_ROUNDING_MS
            <= stored.ttl_ms
            <= answer["expires"] - messages.read_from + SAVE_MS
        ), (message_id, stored.ttl_ms, answer["expires"])


def assert_keys_replay(http: requests.Session, api: str, written: Written) -> None:
    for key, (body, first_answer) in written.keyed.items():
        response = http.post(
            f"{api}/airport", json=body, headers={"Idempotency-Key": key}, timeout=10
        )
        assert response.status_code == 201, response.text
        assert response.headers.get("Idempotent-Replayed") == "true", key
        assert response.json() == first_answer


def survives(
    stack: ComposeStack,
    http: requests.Session,
    written: Written,
    report: Callable[[str], None],
    scenario: str,
    disturb: Callable[[], None],
) -> None:
    """Write, read every Redis, ``disturb`` them, wait for /ready, check it all came back."""
    this_test = write_records(http, stack.url, written)
    before = read_every_redis(stack)
    # Not vacuous: what the gateway keeps in its own Redis is among what is compared.
    assert before["redis-gateway"].starting(IDEMPOTENCY_KEY)
    assert before["redis-gateway"].starting(RATE_LIMIT_KEY)
    started = time.monotonic()
    disturb()
    wait_ready(http, stack.url)
    recovered_in = time.monotonic() - started
    after = read_every_redis(stack)
    for service in before:
        assert_kept(before[service], after[service], service)
    assert_everything_written_is_stored(written, after)
    assert_keys_replay(http, stack.url, written)
    kept = {service[len(REDIS_PREFIX) :]: len(c.entries) for service, c in before.items()}
    report(
        f"persistence, {scenario}: wrote {this_test}; every Redis back with all its keys, "
        f"values and times to live {kept}; module total {len(written.airports)} airports, "
        f"{len(written.trips)} trips, {len(written.messages)} messages, "
        f"{len(written.keyed)} keys replayed; down to ready in {recovered_in:.1f} s"
    )


def test_restart_of_every_redis_keeps_every_record(stack, http, written, report):
    def restart() -> None:
        stack.compose_command("restart", *stack.services(REDIS_PREFIX))

    survives(stack, http, written, report, "compose restart", restart)


def test_down_then_up_keeps_every_record(stack, http, written, report):
    def down_up() -> None:
        stack.compose_command("down")
        stack.up(report, attempts=1)  # a stack that needs a second `up` did not recover

    survives(stack, http, written, report, "down, up (no -v)", down_up)


def test_sigkill_of_every_redis_loses_nothing_acknowledged(stack, http, written, report):
    def crash() -> None:
        time.sleep(SECONDS_BEFORE_KILL)  # the scenario itself, not a wait for something
        stack.compose_command("kill", "--signal", "SIGKILL", *stack.services(REDIS_PREFIX))
        stack.up(report, attempts=1)

    survives(stack, http, written, report, f"SIGKILL {SECONDS_BEFORE_KILL} s after", crash)


def test_backup_then_down_v_then_restore_brings_every_record_back(
    stack, http, written, report, tmp_path
):
    def lose_everything_but_the_backup() -> None:
        tool = [sys.executable, str(BACKUP_TOOL), "--project-name", stack.project]
        subprocess.run([*tool, "backup", str(tmp_path)], check=True)
        stack.compose_command("down", "--volumes")
        assert stack.leftovers()["volumes"] == []
        subprocess.run([*tool, "restore", str(tmp_path)], check=True)
        stack.up(report, attempts=1)

    survives(
        stack, http, written, report, "backup, down -v, restore", lose_everything_but_the_backup
    )
