"""The operator's path: ``docker compose up --build`` serves the walkthrough, the
services stop gracefully, and ``docker compose down`` leaves nothing behind.

Runs under a project name and gateway host port of its own (COMPOSE_PROJECT_NAME,
GATEWAY_HOST_PORT), so a developer's stack on :8000 is never touched.
"""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass

import docker
import pytest
import requests
from testcontainers.compose import DockerCompose

from integration_tests.brokers import DOCKER_MODE
from service_testing.ports import free_port
from service_testing.services import REPO_ROOT

# The services built from this repo; RabbitMQ and Redis are infrastructure.
OUR_SERVICES = ("airports", "trips", "messages", "gateway")
# Every client call is bounded: a hung stack fails the test instead of blocking the run.
HTTP_SECONDS = 30
COMPOSE_COMMAND_SECONDS = 180


@dataclass(frozen=True)
class ComposeStack:
    compose: DockerCompose
    project: str
    url: str

    def compose_command(self, *args: str) -> None:
        subprocess.run(
            [*self.compose.compose_command_property, *args],
            cwd=REPO_ROOT,
            check=True,
            timeout=COMPOSE_COMMAND_SECONDS,
        )

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


@pytest.fixture
def compose_stack(integration_mode: str, monkeypatch, report) -> Iterator[ComposeStack]:
    if integration_mode != DOCKER_MODE:
        pytest.skip("docker compose needs a Docker engine; local mode runs the process tests")
    project = f"travel-it-{uuid.uuid4().hex[:8]}"
    port = free_port()
    monkeypatch.setenv("COMPOSE_PROJECT_NAME", project)
    monkeypatch.setenv("GATEWAY_HOST_PORT", str(port))
    compose = DockerCompose(REPO_ROOT, build=True, wait=True)
    started = time.monotonic()
    try:
        compose.start()  # up --build --wait: returns once every healthcheck passes
        report(f"compose: up --build --wait took {time.monotonic() - started:.1f} s")
        yield ComposeStack(compose, project, f"http://127.0.0.1:{port}")
    finally:
        compose.stop()  # down --volumes; a no-op after the test's own down


def created_id(response: requests.Response) -> str:
    assert response.status_code == 201, response.text
    return response.json()["id"]


def test_travel_and_messenger_walkthrough_on_compose_then_down_leaves_nothing(compose_stack):
    api = compose_stack.url
    with requests.Session() as http:
        assert http.get(f"{api}/ready", timeout=HTTP_SECONDS).status_code == 200
        amsterdam = created_id(
            http.post(f"{api}/airport", json={"airport": "Amsterdam"}, timeout=HTTP_SECONDS)
        )
        berlin = created_id(
            http.post(f"{api}/airport", json={"airport": "Berlin"}, timeout=HTTP_SECONDS)
        )
        trip = created_id(
            http.post(
                f"{api}/trip",
                json={"airport_from": amsterdam, "airport_to": berlin},
                timeout=HTTP_SECONDS,
            )
        )
        assert http.get(f"{api}/trip/{trip}", timeout=HTTP_SECONDS).json() == {
            "id": trip,
            "airport_from": amsterdam,
            "airport_to": berlin,
        }
        assert http.get(f"{api}/airport/{berlin}", timeout=HTTP_SECONDS).json() == {
            "id": berlin,
            "name": "Berlin",
        }
        message = created_id(
            http.post(
                f"{api}/messages", json={"message": "hello from compose"}, timeout=HTTP_SECONDS
            )
        )
        listed = http.get(f"{api}/messages", timeout=HTTP_SECONDS).json()
        assert [(m["id"], m["text"]) for m in listed] == [(message, "hello from compose")]

    # SIGTERM must reach `nameko run` (PID 1 via exec): exit code 0, not 137 from
    # the SIGKILL Docker sends when the grace period runs out.
    compose_stack.compose_command("stop", *OUR_SERVICES)
    exit_codes = {
        c.labels["com.docker.compose.service"]: c.attrs["State"]["ExitCode"]
        for c in compose_stack.containers()
        if c.labels["com.docker.compose.service"] in OUR_SERVICES
    }
    assert exit_codes == dict.fromkeys(OUR_SERVICES, 0)

    compose_stack.compose.stop()
    assert compose_stack.leftovers() == {"containers": [], "networks": [], "volumes": []}
