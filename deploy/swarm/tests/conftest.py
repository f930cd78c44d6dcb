"""The stack on a real three-machine swarm, deployed once for the module's steps.

Images: this checkout's four services and airports of release 1.0.0 (rebuilt from its
commit, as the version-coexistence test does) under tags of their own, so no other
test's build can change them underneath; airports starts at 1.0.0 so the rolling
upgrade to this checkout has something to upgrade from.
Whatever happens, the stack is removed and the machines taken down at the end.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
import requests
import yaml
from swarm import (
    STORAGE_LABEL,
    Machines,
    RabbitApi,
    Stack,
    docker,
    elapsed_since,
    this_node,
)

from integration_tests.images import release_tree, service_image
from service_testing.ports import free_port
from service_testing.services import REPO_ROOT, SERVICES
from service_testing.waiting import wait_until
from tools.credentials import create_docker_secrets, generate

MACHINES = 3
STACK_NAME = "travel-swarm-test"
IMAGE_PREFIX = "travel-swarm"
CURRENT, RELEASE = "current", "1.0.0"
# Node loss is noticed after a few missed heartbeats (default 5 s each).
HEARTBEAT = "2s"
DEPLOY_TIMEOUT = 600  # generous: a busy machine starts RabbitMQ slowly
# The traffic of the steps comes from one client (this process) at far more creates a
# minute than a person makes (the edge's EDGE_MAX_CREATES_PER_MINUTE): no limit here.
CREATES_PER_MINUTE = "1000000"


@dataclass
class Deployed:
    stack: Stack
    machines: Machines
    url: str  # the edge on this (the manager's) node: the stack's only published port
    rabbit: RabbitApi
    redis_admin_password: str  # every Redis's admin (tools/credentials.py)
    measurements: list[str]
    # Everything written through the stack, read back after the machine loss.
    airports: dict[str, str] = field(default_factory=dict)  # id -> name
    trips: dict[str, dict] = field(default_factory=dict)
    messages: dict[str, str] = field(default_factory=dict)

    def image(self, service: str, version: str) -> str:
        return f"{IMAGE_PREFIX}/{service}:{version}"


def build_images(directory) -> list[str]:
    built = [service_image(REPO_ROOT, s, f"{IMAGE_PREFIX}/{s}:{CURRENT}") for s in SERVICES]
    old_tree = release_tree(RELEASE, directory)
    built.append(service_image(old_tree, "airports", f"{IMAGE_PREFIX}/airports:{RELEASE}"))
    return built


def images_on_every_node() -> list[str]:
    """Infrastructure images that run on every machine (the edge: `mode: global`); the
    rest of the infrastructure runs on the storage node, the manager, which has them."""
    stack = yaml.safe_load((REPO_ROOT / "deploy" / "swarm" / "stack.yaml").read_text())
    return [
        service["image"]
        for service in stack["services"].values()
        if service.get("deploy", {}).get("mode") == "global" and "${" not in service["image"]
    ]


MEASUREMENTS: list[str] = []


def pytest_terminal_summary(terminalreporter) -> None:
    terminalreporter.section("swarm measurements")
    for line in MEASUREMENTS:
        terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def measurements() -> list[str]:
    return MEASUREMENTS


@pytest.fixture(scope="session")
def deployed(tmp_path_factory, measurements) -> Iterator[Deployed]:
    machines = Machines(os.environ["SWARM_NODES_TOOL"])
    stack = Stack(STACK_NAME)
    images = build_images(tmp_path_factory.mktemp("releases"))
    take_down(stack, machines)  # what a killed earlier run may have left
    machines.up(MACHINES)
    try:
        docker("swarm", "update", "--dispatcher-heartbeat", HEARTBEAT)
        started = time.monotonic()
        machines.load(*images, *images_on_every_node())
        measurements.append(f"images copied to the workers in {elapsed_since(started)} s")
        docker("node", "update", "--label-add", STORAGE_LABEL, this_node())
        credentials = generate(tmp_path_factory.mktemp("credentials"))
        create_docker_secrets(credentials)
        edge_port = free_port()
        env = {
            **os.environ,
            "IMAGE_PREFIX": IMAGE_PREFIX,
            **{f"{s.upper()}_VERSION": CURRENT for s in SERVICES},
            "AIRPORTS_VERSION": RELEASE,
            "EDGE_HOST_PORT": str(edge_port),
            "EDGE_MAX_CREATES_PER_MINUTE": CREATES_PER_MINUTE,
            # No record cache in the gateway: every read the tests make reaches an airports
            # or trips replica and its Redis, as the reads back after a crash must.
            "GATEWAY_RECORD_CACHE_SIZE": "0",
        }
        url = f"http://127.0.0.1:{edge_port}"
        started = time.monotonic()
        stack.deploy(env)
        wait_until(stack.converged, DEPLOY_TIMEOUT, "every service's replicas to run")
        wait_until(lambda: ready(url), DEPLOY_TIMEOUT, "the gateway's /ready to answer 200")
        measurements.append(
            f"deploy: stack deploy -> every replica running and /ready 200 in "
            f"{elapsed_since(started)} s ({stack.replicas()})"
        )
        yield Deployed(
            stack,
            machines,
            url,
            RabbitApi(stack, ("admin", (credentials / "rabbitmq-admin-password").read_text())),
            (credentials / "redis-admin-password").read_text(),
            measurements,
        )
    finally:
        take_down(stack, machines)


def ready(url: str) -> bool:
    try:
        return requests.get(f"{url}/ready", timeout=5).status_code == 200
    except requests.RequestException:
        return False


def take_down(stack: Stack, machines: Machines) -> None:
    """Remove the stack, the machines, then the stack's volumes; each even if one fails."""
    try:
        stack.remove()
    finally:
        try:
            machines.down()
        finally:
            stack.remove_volumes()
