"""The fuzz session's stack: every service as a ``nameko run`` process (JSON logs, each
RPC service with its own metrics port), the gateway on a free port (``nox -s fuzz``).

A plain pytest process: no eventlet, no nameko plugin; only HTTP to the stack.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from service_testing.ports import free_port
from service_testing.processes import ServiceProcess
from service_testing.stack import running_stack

RPC_SERVICES = ("airports", "trips", "messages")


@dataclass(frozen=True)
class FuzzStack:
    url: str
    metrics_ports: dict[str, int]
    processes: dict[str, ServiceProcess]


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzStack]:
    ports = {service: free_port() for service in RPC_SERVICES}
    with running_stack(
        tmp_path_factory.mktemp("fuzz-stack"),
        "fuzz",
        # The rate limit would answer most generated posts with 429 (documented) instead
        # of letting them reach the service; it has tests of its own.
        {"LOG_FORMAT": "json", "MESSAGE_RATE_LIMIT_ENABLED": "false"},
        {service: {"METRICS_PORT": str(port)} for service, port in ports.items()},
    ) as running:
        yield FuzzStack(running.url, ports, running.processes)
