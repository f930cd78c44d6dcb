"""Services as real ``nameko run`` processes, started and stopped for one test.

service_testing starts them; what is particular here: an RPC instance counts as
serving once the broker shows one more consumer on its queue (a ping could be
answered by an instance already running), the sleeper service the scaling test
uses, and the kill of every process after the test (``kill_all``, a fixture
finalizer) whatever happened in it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from integration_tests.brokers import rpc_consumers
from service_testing.launcher import ServiceLauncher
from service_testing.ports import free_port
from service_testing.probes import http_200
from service_testing.processes import ServiceCommand, ServiceProcess
from service_testing.services import REPO_ROOT, SERVICES, ServiceSpec

# The services, the sleeper (the scaling test's one-second RPC) and an airports that
# dies between its store write and its reply (the failover test's redelivery).
INTEGRATION_SERVICES: dict[str, ServiceSpec] = {
    **SERVICES,
    "sleeper": ServiceSpec(
        "integration_tests/sleeper.yaml", "integration_tests.sleeper:SleeperService"
    ),
    "airports-dying-after-write": ServiceSpec(
        SERVICES["airports"].config, "integration_tests.dying_airports:AirportsDyingAfterWrite"
    ),
}
# A test-only stand-in consumes the queue of the service it stands in for.
STANDS_IN_FOR = {"airports-dying-after-write": "airports"}


@dataclass(frozen=True)
class Gateway:
    process: ServiceProcess
    url: str  # the web server's base URL


class IntegrationLauncher(ServiceLauncher):
    """Starts the service processes of one test and waits until each one serves."""

    def __init__(self, log_dir: Path, env: dict[str, str]) -> None:
        # The sleeper is imported from this checkout's integration_tests package.
        super().__init__(log_dir, {"PYTHONPATH": str(REPO_ROOT), **env})

    def start_rpc_service(self, name: str, **env: str) -> ServiceProcess:
        """One more instance of an RPC service, returned once it consumes its queue."""
        amqp_uri = {**self.env, **env}["AMQP_URI"]
        service = STANDS_IN_FOR.get(name, name)
        expected = rpc_consumers(amqp_uri, service) + 1
        command = replace(
            ServiceCommand.of(name, spec=INTEGRATION_SERVICES[name]),
            env=env,
            probe=lambda process: rpc_consumers(amqp_uri, service) >= expected,
        )
        [process] = self.start([command])
        return process

    def start_gateway(self, **env: str) -> Gateway:
        """The gateway on a free loopback port, returned once it answers /health."""
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        command = replace(
            ServiceCommand.of("gateway"),
            env={"GATEWAY_HOST": "127.0.0.1", "GATEWAY_PORT": str(port), **env},
            probe=http_200(f"{url}/health"),
        )
        [process] = self.start([command])
        return Gateway(process, url)
