"""The fuzz session's stack: every service as a ``nameko run`` process (JSON logs, each
RPC service with its own metrics port), the gateway on a free port behind the real edge
(``nox -s fuzz``): every request takes the production path.

A plain pytest process: no eventlet, no nameko plugin; only HTTP to the stack.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from nameko.standalone.rpc import ServiceRpcProxy

from service_testing.ports import free_port
from service_testing.processes import ServiceProcess
from service_testing.stack import running_stack

RPC_SERVICES = ("airports", "trips", "messages")


@dataclass(frozen=True)
class FuzzStack:
    url: str  # the edge's
    metrics_ports: dict[str, int]
    processes: dict[str, ServiceProcess]

    def rpc(self, service: str, method: str, *args):
        """``service.method(*args)`` over RPC: what the service reads from its own Redis."""
        config = {"AMQP_URI": self.processes[service].env["AMQP_URI"]}
        with ServiceRpcProxy(service, config, timeout=15) as proxy:
            return getattr(proxy, method)(*args)


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
        # Likewise the edge's create limit per client (the fuzzer is one client making
        # thousands); tested in services/gateway/tests/test_hostile_clients.py.
        edge_settings={"EDGE_MAX_CREATES_PER_MINUTE": "1000000"},
    ) as running:
        yield FuzzStack(running.url, ports, running.processes)
