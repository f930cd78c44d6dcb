"""The stack on a real three-machine swarm, deployed once for the module's steps.

Images: this checkout's four services under tags of their own, so no other test's build
can change them underneath, and airports under a second tag, for the rolling upgrade to
have a new image to roll out. (Release 1.0.0 cannot run here: it declares its RPC queue
classic, and the stack's is a quorum queue; versions side by side are proven on one host,
integration_tests/test_version_coexistence.py.)
Machines: this one (the manager) and two workers, each a storage slot (stack.yaml); slot 1,
where the stack puts the seed RabbitMQ node (leader of the queues the services declare
first) and every Redis primary, is a worker, so that it can be crashed.
Whatever happens, the stack is removed and the machines taken down at the end.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
import requests
import yaml
from swarm import (
    Machines,
    RabbitApi,
    Stack,
    docker,
    elapsed_since,
    this_node,
    worker_nodes,
)

from integration_tests.images import service_image
from service_testing.ports import free_port
from service_testing.services import REPO_ROOT, SERVICES
from service_testing.waiting import wait_until
from tools.credentials import create_docker_secrets, generate

MACHINES = 3
STACK_NAME = "travel-swarm-test"
IMAGE_PREFIX = "travel-swarm"
CURRENT, UPGRADE = "current", "upgrade"
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
    slots: dict[int, str]  # storage slot -> machine (stack.yaml)
    # Everything written through the stack, read back after the machine loss.
    airports: dict[str, str] = field(default_factory=dict)  # id -> name
    trips: dict[str, dict] = field(default_factory=dict)
    messages: dict[str, str] = field(default_factory=dict)

    def image(self, service: str, version: str) -> str:
        return f"{IMAGE_PREFIX}/{service}:{version}"


def build_images() -> list[str]:
    built = [service_image(REPO_ROOT, s, f"{IMAGE_PREFIX}/{s}:{CURRENT}") for s in SERVICES]
    upgrade = f"{IMAGE_PREFIX}/airports:{UPGRADE}"
    docker("tag", f"{IMAGE_PREFIX}/airports:{CURRENT}", upgrade)
    return [*built, upgrade]


def images_on_every_node() -> list[str]:
    """Infrastructure images that run on the workers: every one but the manager's own."""
    stack = yaml.safe_load((REPO_ROOT / "deploy" / "swarm" / "stack.yaml").read_text())
    return sorted(
        {
            service["image"]
            for service in stack["services"].values()
            if "${" not in service["image"]
            and "node.role == manager"
            not in service.get("deploy", {}).get("placement", {}).get("constraints", [])
        }
    )


def label_storage_slots() -> dict[int, str]:
    """Slot 1 and 2 on the workers, 3 on this machine: slot -> machine."""
    first, second = sorted(worker_nodes())
    slots = {1: first, 2: second, 3: this_node()}
    for slot, node in slots.items():
        docker("node", "update", "--label-add", f"travel.storage={slot}", node)
    return slots


MEASUREMENTS: list[str] = []
# When a step fails: these services' last log lines that are not a success or a probe
# (what led up to the failure, not the read-back's hundreds of answers), printed at the end.
LOGGED_ON_FAILURE = ("edge", "gateway", "airports")
ROUTINE = re.compile(
    r'" 20[01] |/\d+ 20[01] | ok \d|/health|/metrics|gateway\.health|prometheus_metrics'
)
FAILURE_LOGS: list[str] = []


def pytest_runtest_logreport(report) -> None:
    if report.failed and report.when == "call":
        FAILURE_LOGS.append(f"=== {report.nodeid}")
        for service in LOGGED_ON_FAILURE:
            name = Stack(STACK_NAME).service(service)
            try:
                logs = subprocess.run(
                    ["docker", "service", "logs", "--timestamps", "--tail", "5000", name],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                    timeout=60,
                    check=False,
                ).stdout
            except subprocess.TimeoutExpired:
                logs = "(no logs within 60 s)"
            telling = [line for line in logs.splitlines() if not ROUTINE.search(line)]
            FAILURE_LOGS.extend([f"--- {service}", *telling[-150:]])


def pytest_terminal_summary(terminalreporter) -> None:
    terminalreporter.section("swarm measurements")
    for line in MEASUREMENTS:
        terminalreporter.write_line(line)
    if FAILURE_LOGS:
        terminalreporter.section("swarm service logs when a step failed")
        for line in FAILURE_LOGS:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def measurements() -> list[str]:
    return MEASUREMENTS


@pytest.fixture(scope="session")
def deployed(tmp_path_factory, measurements) -> Iterator[Deployed]:
    machines = Machines(os.environ["SWARM_NODES_TOOL"])
    stack = Stack(STACK_NAME)
    images = build_images()
    take_down(stack, machines)  # what a killed earlier run may have left
    machines.up(MACHINES)
    try:
        # The workers' disks outlive the tool's machines: an earlier run's data there would
        # be taken for this stack's.
        for engine in machines.worker_engines():
            stack.remove_volumes(engine)
        docker("swarm", "update", "--dispatcher-heartbeat", HEARTBEAT)
        started = time.monotonic()
        machines.load(*images, *images_on_every_node())
        measurements.append(f"images copied to the workers in {elapsed_since(started)} s")
        slots = label_storage_slots()
        credentials = generate(tmp_path_factory.mktemp("credentials"))
        create_docker_secrets(credentials)
        edge_port = free_port()
        env = {
            **os.environ,
            "IMAGE_PREFIX": IMAGE_PREFIX,
            **{f"{s.upper()}_VERSION": CURRENT for s in SERVICES},
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
            slots,
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
