"""Two airports versions on one queue during a rolling deploy, with both gateways, and
trips not upgraded yet.

Old = release 1.0.0 rebuilt from its git commit into its own venv
(``contract_testing.releases``): airports and trips serving v1 only and the gateway
calling v1. New = this checkout: airports 1.1.0 serving v1 and ``create_v2``, gateway
1.1.0 calling ``create_v2`` of airports and trips (falling back to v1 ``create`` on an
old instance). Trips runs only as 1.0.0, so every trip the new gateway creates goes
through its fallback. All five run as ``nameko run`` processes on one vhost and one
Redis prefix.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
import requests
from checkout import release_command, service_command
from nameko.exceptions import MethodNotFound
from nameko.standalone.rpc import ServiceRpcProxy

from service_testing.launcher import running
from service_testing.ports import free_port
from service_testing.probes import http_200
from service_testing.waiting import wait_until

CALLS = 12
# The new gateway's line when an instance without create_v2 answered (gateway.routes.travel).
FALLBACK_LOG_LINE = "{service}: an instance without create_v2 answered; using v1 create"
AIRPORTS_FALLBACK_LOG_LINE = FALLBACK_LOG_LINE.format(service="airports")
TRIPS_FALLBACK_LOG_LINE = FALLBACK_LOG_LINE.format(service="trips")
# The gateway writes its log in batches (service_runtime.logformat): at most this late.
LOG_FLUSH_SECONDS = 5


def gateway_health(port: int):
    return http_200(f"http://127.0.0.1:{port}/health")


@pytest.fixture(scope="module")
def deployment(service_env, release_1_0_0):
    """(old gateway URL, new gateway URL, new gateway process) with both airports and
    trips 1.0.0 up."""
    old_port, new_port = free_port(), free_port()
    old_gateway = release_command(release_1_0_0, "gateway")
    commands = [
        release_command(release_1_0_0, "airports"),
        service_command("airports"),
        replace(old_gateway, env={"GATEWAY_PORT": str(old_port)}, probe=gateway_health(old_port)),
        replace(
            service_command("gateway"),
            # No record cache: every read goes over RPC, as the old gateway's do, so the
            # round-robin phase below (which instance gets each create_v2) is the one
            # the fallback assertion relies on; a cached read would skip a turn.
            env={"GATEWAY_PORT": str(new_port), "RECORD_CACHE_SIZE": "0"},
            probe=gateway_health(new_port),
        ),
        release_command(release_1_0_0, "trips"),
    ]
    with running(commands, service_env) as processes:
        yield f"http://127.0.0.1:{old_port}", f"http://127.0.0.1:{new_port}", processes[3]


def test_both_airports_versions_take_turns_on_the_one_queue(deployment, service_env):
    answered_by = {"1.1.0": 0, "1.0.0": 0}
    with ServiceRpcProxy("airports", {"AMQP_URI": service_env["AMQP_URI"]}, timeout=10) as airports:
        for _ in range(CALLS):
            try:
                airports.create_v2("Probe")
                answered_by["1.1.0"] += 1
            except MethodNotFound:
                answered_by["1.0.0"] += 1

    # Round-robin: each instance takes about half; generous bounds, no timing.
    assert min(answered_by.values()) >= CALLS // 4, answered_by


def create_and_read_back(create_via: str, read_via: tuple[str, ...], name: str) -> None:
    response = requests.post(f"{create_via}/airport", json={"airport": name}, timeout=30)
    assert response.status_code == 201, response.text
    airport = response.json()
    assert airport == {"id": airport["id"], "name": name.strip()}
    for gateway in read_via:
        assert requests.get(f"{gateway}/airport/{airport['id']}", timeout=30).json() == airport


def test_gateway_1_0_0_v1_calls_are_answered_correctly_by_both(deployment):
    old_gateway, new_gateway, _ = deployment
    for n in range(CALLS):
        create_and_read_back(old_gateway, (old_gateway, new_gateway), f"Old gateway {n}")


def test_gateway_1_1_0_v2_calls_are_answered_correctly_by_both(deployment):
    old_gateway, new_gateway, new_gateway_process = deployment
    fallbacks_before = new_gateway_process.output().count(AIRPORTS_FALLBACK_LOG_LINE)

    for n in range(CALLS):
        create_and_read_back(new_gateway, (new_gateway, old_gateway), f" New gateway {n} ")

    # Every answer was right, and airports 1.0.0 did take create_v2 calls (the
    # gateway fell back to v1). Strict round-robin then hands the fallback's v1
    # create to 1.1.0 and, with an even number of calls per loop, the next
    # create_v2 to 1.0.0 again: how many fall back depends on that phase, not on
    # chance, so only "at least one" is asserted. 1.1.0 answering create_v2 is
    # shown by the first test and by the pact verification.
    fallbacks = new_gateway_process.output().count(AIRPORTS_FALLBACK_LOG_LINE) - fallbacks_before
    assert fallbacks >= 1


def test_gateway_1_1_0_creates_trips_through_a_trips_1_0_0_with_v1(deployment, service_env):
    old_gateway, new_gateway, new_gateway_process = deployment
    origin, destination = (
        requests.post(f"{new_gateway}/airport", json={"airport": name}, timeout=30).json()["id"]
        for name in ("Trip origin", "Trip destination")
    )
    fallbacks_before = new_gateway_process.output().count(TRIPS_FALLBACK_LOG_LINE)

    body = {"airport_from": origin, "airport_to": destination}
    with ServiceRpcProxy("trips", {"AMQP_URI": service_env["AMQP_URI"]}, timeout=10) as trips:
        for _ in range(CALLS):
            response = requests.post(f"{new_gateway}/trip", json=body, timeout=30)
            assert response.status_code == 201, response.text
            trip = response.json()
            assert trip == {"id": trip["id"], **body}
            # Stored as answered: read by trips 1.0.0 itself, and by the old gateway.
            assert trips.get(trip["id"]) == trip
            assert requests.get(f"{old_gateway}/trip/{trip['id']}", timeout=30).json() == trip

    # Every create_v2 reached trips 1.0.0 (the only instance) and fell back to v1.
    def fallbacks() -> int:
        return new_gateway_process.output().count(TRIPS_FALLBACK_LOG_LINE) - fallbacks_before

    wait_until(lambda: fallbacks() >= CALLS, LOG_FLUSH_SECONDS, "a v1 fallback line per create")
    assert fallbacks() == CALLS
