"""The compose stack of one test (or module): its own project name and host port of its
edge, the stack's only published port (COMPOSE_PROJECT_NAME, EDGE_HOST_PORT), so a
developer's stack on :8000 is never touched, and ``down --volumes`` at the end whatever
happened."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path

import docker
import pytest
from testcontainers.compose import DockerCompose

from integration_tests.brokers import DOCKER_MODE
from service_testing.ports import free_port
from service_testing.services import REPO_ROOT
from tools.credentials import DEFAULT_DIRECTORY as CREDENTIALS
from tools.credentials import generate

# Docker 20.10 deletes and re-inserts FORWARD's jump to its isolation chain each time
# it creates a network (strace of `docker network create`): for that instant a packet
# between two networks skips isolation. Beside another xdist worker's `compose up`, the
# break-in test once reached another service's Redis by address. So whatever creates a
# network, and every break-in attempt, holds this lock: never at once in one run.
NETWORKS_LOCK = Path(tempfile.gettempdir()) / "travel-integration-networks.lock"
UP_ATTEMPTS = 3
# Every compose command is bounded (a build included): a hung engine fails the test
# instead of blocking the run.
COMPOSE_COMMAND_SECONDS = 600


@contextmanager
def networks_lock() -> Iterator[None]:
    """Held while networks are created, or while a test relies on their isolation."""
    with NETWORKS_LOCK.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@dataclass(frozen=True)
class ComposeStack:
    compose: DockerCompose
    project: str
    url: str  # the edge's, as clients reach the stack

    def compose_command(self, *args: str, **kwargs) -> subprocess.CompletedProcess:
        kwargs.setdefault("timeout", COMPOSE_COMMAND_SECONDS)
        kwargs.setdefault("check", True)
        creates_networks = args[0] in ("up", "create", "run")
        with networks_lock() if creates_networks else nullcontext():
            return subprocess.run(
                [*self.compose.compose_command_property, *args], cwd=REPO_ROOT, **kwargs
            )

    def up(self, report: Callable[[str], None], *options: str, attempts: int = UP_ATTEMPTS) -> None:
        """``up --detach --wait [options]``, tried up to ``attempts`` times; each failed
        attempt is reported with compose's last words.

        On a busy host a healthcheck can miss its timeout before the service is up;
        compose then gives up on what depends on it, although the check passes a few
        seconds later. Another ``up`` starts what is still missing. A test that proves
        recovery passes ``attempts=1``: a stack that needed a second ``up`` did not
        recover by itself."""
        for attempt in range(1, attempts + 1):
            try:
                self.compose_command(
                    "up", "--detach", "--wait", *options, capture_output=True, text=True
                )
                return
            except subprocess.CalledProcessError as failed:
                last_words = " | ".join(failed.stderr.strip().splitlines()[-3:])
                report(f"compose: up --wait, attempt {attempt} of {attempts} failed: {last_words}")
                print(failed.stderr)  # all of it, shown with the test's failure
                if attempt == attempts:
                    raise

    def redis_cli(self, service: str, *command: str, user: str = "admin") -> str:
        """``redis-cli COMMAND`` in ``service``'s container (a Redis) as ``user``: its
        admin, or a service's own user; the password passes in the environment."""
        password = (
            CREDENTIALS / ("redis-admin-password" if user == "admin" else f"{user}-redis-password")
        ).read_text()
        ran = self.compose_command(
            *("exec", "-T", "-e", "REDISCLI_AUTH", service, "redis-cli", "--user", user),
            *command,
            capture_output=True,
            text=True,
            env={**os.environ, "REDISCLI_AUTH": password},
        )
        return ran.stdout

    def run_on_network(self, network: str | None, image: str, command: list[str], **options) -> str:
        """What ``command`` prints in a new container of ``image`` (removed after), on this
        stack's ``network`` (None: Docker's default bridge): a client no service of the
        stack knows."""
        with closing(docker.from_env(timeout=COMPOSE_COMMAND_SECONDS)) as client:
            if network is not None:
                options["network"] = f"{self.project}_{network}"
            output = client.containers.run(image, command, remove=True, **options)
        return output.decode()

    def services(self, prefix: str = "") -> list[str]:
        """The compose file's service names (those starting with ``prefix``)."""
        listed = self.compose_command("config", "--services", capture_output=True, text=True)
        return sorted(name for name in listed.stdout.split() if name.startswith(prefix))

    def published_ports(self, service: str) -> list[str]:
        """The host ports ``service`` publishes (``docker compose port`` for each)."""
        listed = self.compose_command(
            "ps", "--format", "json", service, capture_output=True, text=True
        )
        return [
            publisher["PublishedPort"]
            for line in listed.stdout.splitlines()
            for publisher in json.loads(line).get("Publishers") or []
            if publisher.get("PublishedPort")
        ]

    def containers(self) -> list:
        with closing(docker.from_env()) as client:
            return client.containers.list(all=True, filters=self.project_filter)

    def leftovers(self) -> dict[str, list[str]]:
        """Everything of this project still known to Docker."""
        with closing(docker.from_env()) as client:
            return {
                "containers": [
                    c.name for c in client.containers.list(all=True, filters=self.project_filter)
                ],
                "networks": [n.name for n in client.networks.list(filters=self.project_filter)],
                "volumes": [v.name for v in client.volumes.list(filters=self.project_filter)],
            }

    @property
    def project_filter(self) -> dict[str, str]:
        return {"label": f"com.docker.compose.project={self.project}"}


@contextmanager
def running_compose_stack(
    integration_mode: str, monkeypatch: pytest.MonkeyPatch, report: Callable[[str], None]
) -> Iterator[ComposeStack]:
    """``up --build --wait`` under a fresh project name; ``down --volumes`` on exit."""
    if integration_mode != DOCKER_MODE:
        pytest.skip("docker compose needs a Docker engine; local mode runs the process tests")
    project = f"travel-it-{uuid.uuid4().hex[:8]}"
    port = free_port()
    monkeypatch.setenv("COMPOSE_PROJECT_NAME", project)
    monkeypatch.setenv("EDGE_HOST_PORT", str(port))
    compose = DockerCompose(REPO_ROOT, build=True, wait=True)
    stack = ComposeStack(compose, project, f"http://127.0.0.1:{port}")
    started = time.monotonic()
    generate()  # the stack's credentials (.secrets/), kept if they exist
    try:
        stack.compose_command("build")
        stack.up(report)  # returns once every healthcheck passes
        report(f"compose: build, up --wait took {time.monotonic() - started:.1f} s")
        yield stack
    finally:
        compose.stop()  # down --volumes; a no-op after the test's own down
