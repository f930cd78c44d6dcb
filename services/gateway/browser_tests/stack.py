"""The real services as ``nameko run`` subprocesses, in a RabbitMQ vhost of their own.

No eventlet in this process (Playwright hangs under it): the services run in
child processes exactly as deployed, each with its own ``config.yaml``, and this
side only speaks HTTP to them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import requests

from service_testing.isolation import isolated_environment
from service_testing.launcher import running
from service_testing.ports import free_port
from service_testing.probes import http_200
from service_testing.processes import ServiceCommand
from service_testing.services import SERVICES


@dataclass
class Stack:
    """One gateway with its backends; ``url`` is the gateway's base URL."""

    url: str

    def post_message(self, text: str) -> dict:
        response = requests.post(f"{self.url}/messages", json={"message": text}, timeout=10)
        assert response.status_code == 201, response.text
        return response.json()


@contextmanager
def running_stack(log_dir: Path, **settings: str) -> Iterator[Stack]:
    """Every service with ``settings`` as extra environment, once the gateway's /ready
    is 200 (it needs all three backends); stopped, its vhost and keys deleted, on exit."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    commands = [ServiceCommand.of(service) for service in SERVICES if service != "gateway"]
    gateway = replace(ServiceCommand.of("gateway"), probe=http_200(f"{url}/ready"))
    with isolated_environment("browser") as isolated:
        env = isolated.env(GATEWAY_HOST="127.0.0.1", GATEWAY_PORT=str(port), **settings)
        with running([*commands, gateway], env, log_dir):
            yield Stack(url)
