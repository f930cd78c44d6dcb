"""Every service as a ``nameko run`` process, exactly as deployed, isolated in a throwaway
RabbitMQ vhost and Redis key prefix, the gateway on a free loopback port behind the real
edge (``service_testing.edge``), as clients reach it when deployed.

For tests that only speak HTTP to the stack (browser, fuzzing): no eventlet is needed
in the test process.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from service_testing.edge import Edge, running_edge
from service_testing.isolation import isolated_environment
from service_testing.launcher import running
from service_testing.ports import free_port
from service_testing.probes import http_200
from service_testing.processes import ServiceCommand, ServiceProcess
from service_testing.services import SERVICES

GATEWAY = "gateway"


@dataclass(frozen=True)
class RunningStack:
    url: str  # the edge's base URL: what clients use
    gateway_url: str  # the gateway's own (its /metrics is not served through the edge)
    edge: Edge
    processes: dict[str, ServiceProcess]  # by service name


@contextmanager
def running_stack(
    log_dir: Path,
    owner: str,
    settings: Mapping[str, str] = {},
    per_service: Mapping[str, Mapping[str, str]] = {},
    edge_settings: Mapping[str, str] = {},
) -> Iterator[RunningStack]:
    """Every service with ``settings`` (and ``per_service[name]``) as extra environment,
    once the gateway's /ready is 200 (it needs every backend), and the edge in front
    (with ``edge_settings``);
    stopped, its vhost and keys (``isolated_environment(owner)``) deleted, on exit."""
    port = free_port()
    gateway_url = f"http://127.0.0.1:{port}"
    commands = [
        replace(
            ServiceCommand.of(service),
            env=dict(per_service.get(service, {})),
            # The gateway serves once /ready is 200; the others once they answer ping.
            probe=http_200(f"{gateway_url}/ready") if service == GATEWAY else None,
        )
        for service in SERVICES
    ]
    with isolated_environment(owner) as isolated:
        # The edge connects from 127.0.0.1; the gateway believes who it says the client is.
        defaults = {"GATEWAY_HOST": "127.0.0.1", "TRUSTED_PROXIES": "127.0.0.1"}
        env = isolated.env(**{**defaults, "GATEWAY_PORT": str(port), **settings})
        with (
            running(commands, env, log_dir) as processes,
            running_edge(f"127.0.0.1:{port}", log_dir, **edge_settings) as edge,
        ):
            by_name = {process.name: process for process in processes}
            yield RunningStack(edge.url, gateway_url, edge, by_name)
