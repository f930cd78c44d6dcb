"""Settings a service acts on at start, seen from outside its process: what it listens
on, and how it refuses a value out of bounds (service_runtime.settings)."""

from __future__ import annotations

import pytest

from integration_tests.sockets import listening_ports
from service_testing.ports import free_port
from service_testing.processes import ServiceCommand, ServiceProcess
from service_testing.waiting import wait_until

# A service that refuses its settings exits long before this.
EXIT_SECONDS = 60


def test_metrics_port_0_opens_no_listener(services):
    port = free_port()
    with_metrics = services.start_rpc_service("airports", METRICS_PORT=str(port))
    without = services.start_rpc_service("airports", METRICS_PORT="0")

    # The check sees a metrics listener where there is one...
    wait_until(
        lambda: with_metrics.alive_and(listening_ports(with_metrics.pid) == {port}),
        10,
        f"the metrics listener on {port}",
    )
    # ...and none at all with 0 (its consumer is up, so its start is over).
    assert without.alive_and(listening_ports(without.pid) == set())


# (service, a setting it reads at start, a value out of bounds, the bound)
OUT_OF_BOUNDS = [
    ("airports", "METRICS_PORT", "70000", "65535"),
    ("trips", "RPC_TIMEOUT_SECONDS", "0", "0.001"),
    ("messages", "METRICS_PORT", "-1", "at least 0"),
    ("gateway", "MAX_STREAM_SUBSCRIBERS", "0", "at least 1"),
]


@pytest.mark.parametrize(("service", "variable", "value", "bound"), OUT_OF_BOUNDS)
def test_a_setting_out_of_bounds_stops_the_service_at_start_with_one_line(
    service, variable, value, bound, service_env, tmp_path
):
    process = ServiceProcess(
        ServiceCommand.of(service), {**service_env, variable: value}, tmp_path / "service.log"
    )
    process.start()
    try:
        exit_code = process.wait(EXIT_SECONDS)
    finally:
        process.kill()

    output = process.output()
    naming_it = [line for line in output.splitlines() if f"{variable}={value}" in line]
    assert exit_code != 0
    assert len(naming_it) == 1, output
    assert bound in naming_it[0]
    assert "Traceback" not in output, output
