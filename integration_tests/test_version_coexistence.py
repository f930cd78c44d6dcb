"""A rolling deploy in containers: airports 1.0.0 and 1.1.0 images on one queue.

Release 1.0.0 (rebuilt from its git commit, contracts/releases.toml) serves airports
v1 only, and its gateway calls v1 ``create``. This checkout's airports 1.1.0 also
serves ``create_v2``, and its gateway calls ``create_v2``, falling back to v1 when a
1.0.0 instance answers ``MethodNotFound``. With one instance of each airports
version consuming ``rpc-airports``, both gateways must give every caller a valid
answer, and the new gateway must really have fallen back to v1 on the old instance
(its log line), not merely called v1 always. (contracts/tests/test_side_by_side.py
runs the same pair as processes.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass

import pytest
import requests
from nameko.exceptions import MethodNotFound
from nameko.standalone.rpc import ServiceRpcProxy
from testcontainers.community.rabbitmq import RabbitMqContainer
from testcontainers.community.redis import RedisContainer
from testcontainers.core.container import DockerContainer
from testcontainers.core.network import Network
from testcontainers.core.wait_strategies import HealthcheckWaitStrategy

from integration_tests.brokers import (
    DOCKER_MODE,
    RABBITMQ_IMAGE,
    REDIS_IMAGE,
    rpc_consumers,
)
from integration_tests.compose import networks_lock
from integration_tests.images import release_tree, service_image
from service_testing.services import REPO_ROOT
from service_testing.waiting import wait_until

OLD, NEW = "1.0.0", "1.1.0"
CALLS = 12
GATEWAY_PORT = 8000
# What the new gateway logs when an old airports instance answered create_v2 with
# MethodNotFound and it used v1 create instead (gateway/routes/travel.py).
FALLBACK_LOG_LINE = "using v1 create"
# The image's own probe, with patient timing: on a busy machine one probe (a Python
# process importing nameko) can take longer than the image's 8 s timeout, and a
# working container must not be reported unhealthy for that. Docker's units: ns.
SECOND = 10**9
PATIENT_HEALTHCHECK = {
    "interval": 5 * SECOND,
    "timeout": 30 * SECOND,
    "retries": 5,
    "start_period": 120 * SECOND,
}
STARTUP_TIMEOUT = 300
# Inside the test network: service-name DNS, like compose.
SERVICE_ENV = {
    "AMQP_URI": "pyamqp://guest:guest@rabbitmq:5672/",
    "REDIS_URL": "redis://redis:6379/0",
}
# The new gateway without its record cache: every read goes over RPC, as the old
# gateway's do. Each create then makes an odd number of calls on the queue (create_v2
# and two reads), so strict round-robin hands the next create_v2 to the other
# instance, and 1.0.0 gets one within two creates. With the cache, a create made two
# calls (its own read is cached): the phase never moved, and whether 1.0.0 ever saw a
# create_v2 was a coin toss (CI lost it once).
CONTAINER_ENV = {("gateway", NEW): {"RECORD_CACHE_SIZE": "0"}}
# The gateway writes its log in batches (service_runtime.logformat): at most this long.
LOG_FLUSH_SECONDS = 5


@dataclass(frozen=True)
class Deployment:
    amqp_uri: str  # the containerised broker, from the host
    gateway_urls: dict[str, str]  # version -> base URL of that version's gateway
    new_gateway_log: Callable[[], str]  # the new gateway's output so far


def container_log(container: DockerContainer) -> str:
    stdout, stderr = container.get_logs()
    return (stdout + stderr).decode(errors="replace")


@pytest.fixture
def deployment(integration_mode: str, tmp_path) -> Iterator[Deployment]:
    if integration_mode != DOCKER_MODE:
        pytest.skip(
            "images need a Docker engine; contracts/tests/test_side_by_side.py "
            "runs the same versions as processes"
        )
    trees = {OLD: release_tree(OLD, tmp_path), NEW: REPO_ROOT}
    images = {
        (service, version): service_image(tree, service, f"travel-it/{service}:{version}")
        for version, tree in trees.items()
        for service in ("airports", "gateway")
    }
    with ExitStack() as stack:
        with networks_lock():  # compose.NETWORKS_LOCK
            network = stack.enter_context(Network())
        rabbit = stack.enter_context(
            RabbitMqContainer(RABBITMQ_IMAGE, network=network, network_aliases=["rabbitmq"])
        )
        stack.enter_context(RedisContainer(REDIS_IMAGE, network=network, network_aliases=["redis"]))
        services = {
            (service, version): stack.enter_context(
                DockerContainer(
                    image,
                    env={**SERVICE_ENV, **CONTAINER_ENV.get((service, version), {})},
                    network=network,
                )
                .with_exposed_ports(GATEWAY_PORT)
                .with_kwargs(healthcheck=PATIENT_HEALTHCHECK)
            )
            for (service, version), image in images.items()
        }
        # Started together, so their healthchecks run in parallel; then wait for each.
        for container in services.values():
            HealthcheckWaitStrategy().with_startup_timeout(STARTUP_TIMEOUT).wait_until_ready(
                container
            )
        yield Deployment(
            amqp_uri=f"pyamqp://guest:guest@{rabbit.get_container_host_ip()}:"
            f"{rabbit.get_exposed_port(rabbit.port)}/",
            gateway_urls={
                version: f"http://{gateway.get_container_host_ip()}:"
                f"{gateway.get_exposed_port(GATEWAY_PORT)}"
                for (service, version), gateway in services.items()
                if service == "gateway"
            },
            new_gateway_log=lambda: container_log(services["gateway", NEW]),
        )


def test_both_airports_images_serve_one_queue_and_every_caller_gets_valid_answers(
    deployment, report
):
    assert rpc_consumers(deployment.amqp_uri, "airports") == 2

    # Who answers: 1.1.0 serves create_v2, 1.0.0 does not know it.
    answered = {OLD: 0, NEW: 0}
    with ServiceRpcProxy("airports", {"AMQP_URI": deployment.amqp_uri}, timeout=30) as airports:
        for n in range(CALLS):
            try:
                airports.create_v2(f"Direct {n}")
                answered[NEW] += 1
            except MethodNotFound:
                answered[OLD] += 1

    # Every gateway's creates, read back through every gateway.
    valid = 0
    fallbacks_before = deployment.new_gateway_log().count(FALLBACK_LOG_LINE)
    with requests.Session() as http:
        for caller, url in deployment.gateway_urls.items():
            for n in range(CALLS):
                name = f"Created via gateway {caller} #{n}"
                response = http.post(f"{url}/airport", json={"airport": name}, timeout=30)
                assert response.status_code == 201, response.text
                airport = response.json()
                assert airport == {"id": airport["id"], "name": name}
                for reader in deployment.gateway_urls.values():
                    assert (
                        http.get(f"{reader}/airport/{airport['id']}", timeout=30).json() == airport
                    )
                valid += 1

    def fallbacks() -> int:
        return deployment.new_gateway_log().count(FALLBACK_LOG_LINE) - fallbacks_before

    # The new gateway's create_v2 reached 1.0.0 and it used v1 create instead (a gateway
    # that always called v1 would pass every check above).
    wait_until(lambda: fallbacks() >= 1, LOG_FLUSH_SECONDS, "the new gateway's v1 fallback")

    report(
        f"version coexistence (images): create_v2 answered by {OLD}: {answered[OLD]} "
        f"(MethodNotFound), by {NEW}: {answered[NEW]}; {valid} gateway creates read back "
        f"through both gateways, all valid; the {NEW} gateway fell back to v1 "
        f"{fallbacks()} times"
    )
    # Round-robin hands each instance about half: generous bounds, no timing.
    assert min(answered.values()) >= CALLS // 4, answered
